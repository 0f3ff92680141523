//! Validating document options (`secret`, `rkt`, `marathon`) into a `DocumentSpec`.

use std::path::Path;

use super::raw::{RawCliOptions, RawMarathonOptions, RawRktOptions};
use super::{InventoryError, SourceMap, Validator, serde_error};
use crate::documents::{DocumentKind, DocumentSpec, MarathonOptions, OptionsError, RktKind};
use crate::yaml;

/// Options whose values are numbers or booleans; every other value is a string.
const TYPED_OPTIONS: [&str; 4] = ["cpus", "mem", "instances", "legacy_uris"];

/// The options of `regforge document KIND --set KEY=VALUE…`, validated exactly as the
/// inventory's option block of that kind would be.
pub fn document_spec_from_cli(
    kind: DocumentKind,
    sets: &[(String, String)],
) -> Result<DocumentSpec, InventoryError> {
    let map = SourceMap::build(Path::new("--set"), "");
    let block = match kind.options_key() {
        Some(block) => block,
        None if sets.is_empty() => "",
        None => {
            return Err(InventoryError::Invalid {
                origin: map.origin(""),
                message: format!(
                    "{kind} takes no options; --set is for {}",
                    DocumentKind::with_options()
                ),
            });
        }
    };
    let mut text = String::new();
    if !sets.is_empty() {
        text = format!("{block}:\n");
        for (key, value) in sets {
            let value = if TYPED_OPTIONS.contains(&key.as_str()) {
                value.clone()
            } else {
                yaml::double_quoted(value)
            };
            text.push_str(&format!("  {key}: {value}\n"));
        }
    }
    let map = SourceMap::build(Path::new("--set"), &text);
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
    let raw: RawCliOptions = if text.is_empty() {
        RawCliOptions::default()
    } else {
        serde_yaml::from_str(&text).map_err(|e| unlocated(serde_error(&map, &e)))?
    };
    let validator = Validator {
        map: &map,
        base_dir: Path::new(""),
        warnings: Vec::new(),
    };
    let options = RawOptions {
        secret: raw.secret,
        rkt: raw.rkt,
        marathon: raw.marathon,
    };
    validator
        .document_spec("", kind, options, None)
        .map_err(unlocated)
}

/// The option blocks of one document target or file entry, as written.
#[derive(Default)]
pub struct RawOptions {
    pub secret: Option<serde_yaml::Value>,
    pub rkt: Option<RawRktOptions>,
    pub marathon: Option<RawMarathonOptions>,
}

impl Validator<'_> {
    /// `at` is the target or file entry; `target_name` gives defaults to document targets
    /// (the Secret's name, the Marathon id), which file entries must spell out.
    pub(super) fn document_spec(
        &self,
        at: &str,
        kind: DocumentKind,
        raw: RawOptions,
        target_name: Option<&str>,
    ) -> Result<DocumentSpec, InventoryError> {
        for (key, given) in [
            ("secret", raw.secret.is_some()),
            ("rkt", raw.rkt.is_some()),
            ("marathon", raw.marathon.is_some()),
        ] {
            if given && kind.options_key() != Some(key) {
                return self.error(
                    &format!("{at}.{key}"),
                    format!(
                        "`{key}` is for {} documents, not {kind}",
                        DocumentKind::reading(key)
                    ),
                );
            }
        }
        Ok(match kind {
            DocumentKind::Listed(kind) => {
                let block = match kind.options_key() {
                    Some("secret") => raw.secret,
                    _ => None,
                };
                DocumentSpec::Listed(
                    kind,
                    kind.options(block, target_name)
                        .map_err(|e| self.options_error(at, e))?,
                )
            }
            DocumentKind::RktAuth => {
                DocumentSpec::RktAuth(match raw.rkt.as_ref().map(|r| r.kind.as_str()) {
                    None | Some("dockerAuth") => RktKind::DockerAuth,
                    Some("auth") => RktKind::Auth,
                    Some(other) => {
                        return self.error(
                        &format!("{at}.rkt.kind"),
                        format!("unknown rkt kind `{other}`; accepted: dockerAuth (docker:// images), auth (HTTPS image fetches)"),
                    );
                    }
                })
            }
            DocumentKind::MarathonApp | DocumentKind::MarathonPod => {
                let field = format!("{at}.marathon");
                let Some(m) = raw.marathon else {
                    return self.error(
                        at,
                        format!("a {kind} needs `marathon: {{image: …}}`, the image it runs"),
                    );
                };
                let options = self.marathon_options(&field, kind, m, target_name)?;
                if kind == DocumentKind::MarathonApp {
                    DocumentSpec::MarathonApp(options)
                } else {
                    DocumentSpec::MarathonPod(options)
                }
            }
        })
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

    fn marathon_options(
        &self,
        at: &str,
        kind: DocumentKind,
        m: RawMarathonOptions,
        target_name: Option<&str>,
    ) -> Result<MarathonOptions, InventoryError> {
        let id = match (m.id, target_name) {
            (Some(id), _) => id,
            (None, Some(target)) => format!("/{target}"),
            (None, None) => {
                return self.error(
                    at,
                    format!("a {kind} placed on a node needs `marathon: {{id: …}}`"),
                );
            }
        };
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
                && s.as_bytes()[0].is_ascii_alphanumeric()
                && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
        };
        if !id.starts_with('/') || !id[1..].split('/').all(segment_ok) {
            return self.error(
                &format!("{at}.id"),
                format!("`{id}` is not a Marathon id: an absolute path of lower-case names, e.g. /team/app"),
            );
        }
        if m.image.is_empty() || m.image.chars().any(char::is_whitespace) {
            return self.error(
                &format!("{at}.image"),
                "give the image reference, e.g. registry.example.com/ns/repo:tag",
            );
        }
        for (field, value) in [("cpus", m.cpus), ("mem", m.mem)] {
            if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                return self.error(
                    &format!("{at}.{field}"),
                    format!("`{field}` is a positive number"),
                );
            }
        }
        if kind == DocumentKind::MarathonPod {
            if m.secret_source.is_none() {
                return self.error(at, "a pod pulls private images only through the DC/OS secret store: give `secret_source`, or use marathon-app with the docker.tar.gz URI");
            }
            for (field, given) in [("uri", m.uri.is_some()), ("legacy_uris", m.legacy_uris)] {
                if given {
                    return self.error(
                        &format!("{at}.{field}"),
                        format!(
                            "`{field}` is for marathon-app: pods pull through the secret store"
                        ),
                    );
                }
            }
        }
        if m.secret_source.is_some() && (m.uri.is_some() || m.legacy_uris) {
            return self.error(
                &format!("{at}.secret_source"),
                "use either the secret store (`secret_source`) or the docker.tar.gz URI (`uri`, `legacy_uris`), not both",
            );
        }
        if m.secret_source.as_deref().is_some_and(str::is_empty) {
            return self.error(
                &format!("{at}.secret_source"),
                "give the secret's path in the DC/OS secret store, e.g. /mesos-docker/pullConfig",
            );
        }
        Ok(MarathonOptions {
            id,
            image: m.image,
            cpus: m.cpus.unwrap_or(0.1),
            mem: m.mem.unwrap_or(128.0),
            instances: m.instances.unwrap_or(1),
            uri: m
                .uri
                .unwrap_or_else(|| "file:///etc/docker.tar.gz".to_string()),
            secret_source: m.secret_source,
            legacy_uris: m.legacy_uris,
        })
    }
}
