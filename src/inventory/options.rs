//! Validating document options (`secret`, `rkt`, `marathon`) into a `DocumentSpec`.

use std::path::Path;

use super::{Advice, InventoryError, Rule, SourceMap, Validator};
use crate::documents::{self, DocumentKind, DocumentSpec, Given, OptionsError};
use crate::yaml;

/// The options of `regforge document KIND --set KEY=VALUE…`, validated exactly as the
/// inventory's option block of that kind would be, with the document's advice on them.
pub fn document_spec_from_cli(
    kind: DocumentKind,
    sets: &[(String, String)],
) -> Result<(DocumentSpec, Vec<String>), InventoryError> {
    let map = SourceMap::read(Path::new("--set"), "")?;
    let block = match kind.options_key() {
        Some(block) => block,
        None if sets.is_empty() => "",
        None => {
            return Err(InventoryError::Invalid {
                origin: map.origin(""),
                message: format!(
                    "{kind} takes no options; --set is for {}",
                    documents::with_options()
                ),
            });
        }
    };
    let mut text = String::new();
    if !sets.is_empty() {
        text = format!("{block}:\n");
        for (key, value) in sets {
            let value = if kind.typed_options().contains(&key.as_str()) {
                value.clone()
            } else {
                yaml::double_quoted(value)
            };
            text.push_str(&format!("  {key}: {value}\n"));
        }
    }
    let unlocated = |e: InventoryError| match e {
        InventoryError::Invalid {
            mut origin,
            message,
        } => {
            // Lines of the block made up above mean nothing to the user.
            (origin.line, origin.column) = (0, 0);
            origin.field = origin.field.trim_start_matches('.').to_string();
            InventoryError::Invalid { origin, message }
        }
        other => other,
    };
    let map = SourceMap::read(Path::new("--set"), &text).map_err(unlocated)?;
    let blocks = match text.is_empty() {
        true => Vec::new(),
        false => vec![(
            block.to_string(),
            map.deserialize_at(block).map_err(unlocated)?,
        )],
    };
    let mut validator = Validator::new(map, Path::new(""), Advice::Shown);
    let options = RawOptions::new(blocks);
    let spec = validator
        .document_spec("", kind, options, None)
        .map_err(unlocated)?;
    let advice = validator.warnings.into_iter().map(|w| w.message).collect();
    Ok((spec, advice))
}

/// The option blocks written on one document target or file entry, by key.
pub struct RawOptions(Vec<(String, serde_yaml::Value)>);

impl RawOptions {
    pub fn new(blocks: Vec<(String, serde_yaml::Value)>) -> RawOptions {
        RawOptions(blocks)
    }

    /// Hands a document target's `version:` to its options block as `version`; false
    /// when the block gives one itself.
    pub fn give_version(&mut self, key: &str, version: String) -> bool {
        let at = match self.0.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                let block = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
                self.0.push((key.to_string(), block));
                self.0.len() - 1
            }
        };
        match &mut self.0[at].1 {
            serde_yaml::Value::Mapping(block) if !block.contains_key("version") => {
                block.insert("version".into(), version.into());
                true
            }
            // Not a mapping: the block's own reading reports it.
            serde_yaml::Value::Mapping(_) => false,
            _ => true,
        }
    }

    /// The key of the first block written, if any.
    pub fn first_key(&self) -> Option<&str> {
        self.0.first().map(|(key, _)| key.as_str())
    }

    fn take(&mut self, key: &str) -> Option<serde_yaml::Value> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }
}

impl Validator<'_> {
    /// `at` is the target or file entry; `target_name` gives defaults to document targets
    /// (the Secret's name, the Marathon id), which file entries must spell out.
    pub(super) fn document_spec(
        &mut self,
        at: &str,
        kind: DocumentKind,
        mut raw: RawOptions,
        target_name: Option<&str>,
    ) -> Result<DocumentSpec, InventoryError> {
        for (key, _) in &raw.0 {
            if kind.options_key() != Some(key.as_str()) {
                return self.error(
                    &format!("{at}.{key}"),
                    format!(
                        "`{key}` is for {} documents, not {kind}",
                        documents::reading(key)
                    ),
                );
            }
        }
        let block = kind.options_key().and_then(|key| raw.take(key));
        let field = match (&block, kind.options_key()) {
            (Some(_), Some(key)) => format!("{at}.{key}"),
            _ => at.to_string(),
        };
        let options = kind
            .options(
                block,
                &Given {
                    target: target_name,
                    folder: self.base_dir,
                },
            )
            .map_err(|e| self.options_error(at, e))?;
        // Each piece of advice once per document kind, however many entries earn it.
        for advice in kind.advise(&options) {
            if self.advised.insert((kind.name(), advice.clone())) {
                self.warn(Rule::DocumentAdvice, &field, advice);
            }
        }
        Ok(DocumentSpec::new(kind, options))
    }

    /// A document's options problem, placed under the target or file entry `at`.
    fn options_error(&self, at: &str, e: OptionsError) -> InventoryError {
        let field = match e.field.as_str() {
            "" => at.to_string(),
            field => format!("{at}.{field}"),
        };
        InventoryError::Invalid {
            origin: self.map.origin(&field),
            message: e.message,
        }
    }
}
