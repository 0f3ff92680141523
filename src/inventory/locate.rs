//! The inventory's YAML read once into a positioned tree: values are deserialized from it, and problems found afterwards name file, line and column from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::InventoryError;
use crate::documents;
use crate::model::Origin;
use crate::yaml::{self, Limits, Mark, Node, Style, Value};

/// A scalar exactly as written, before any YAML schema turned it into a number.
#[derive(Clone, Debug)]
pub struct SourceScalar {
    pub text: String,
    pub plain: bool,
}

/// One YAML file as a tree of positioned nodes.
pub struct SourceMap {
    file: Arc<PathBuf>,
    root: Node,
    /// One entry of a list the tree does not keep (a fleet's target, read as a stream),
    /// with the field it is at: fields under it are looked up in it.
    entry: Option<(String, Node)>,
}

impl SourceMap {
    /// Reads `text` (named `file` in messages); a syntax error, or a document past the
    /// bounds on depth and size (an alias bomb), is located. An empty document is an
    /// empty mapping.
    pub fn read(file: &Path, text: &str) -> Result<SourceMap, InventoryError> {
        let root =
            yaml::parse(text, Limits::for_text(text)).map_err(|e| InventoryError::Invalid {
                origin: origin(&Arc::new(file.to_path_buf()), e.mark, &e.path),
                message: e.message,
            })?;
        Ok(SourceMap::new(file, root))
    }

    /// The tree `root` read from `file`; no root is an empty mapping.
    pub fn new(file: &Path, root: Option<Node>) -> SourceMap {
        SourceMap {
            file: Arc::new(file.to_path_buf()),
            root: root.unwrap_or(Node {
                mark: Mark { line: 1, column: 1 },
                value: Value::Mapping(Vec::new()),
            }),
            entry: None,
        }
    }

    /// Puts `node` at `field` in place of the entry there before.
    pub fn focus(&mut self, field: String, node: Node) {
        self.entry = Some((field, node));
    }

    /// The node at `field`, in the focused entry or the tree.
    fn at(&self, field: &str) -> Option<&Node> {
        if let Some((at, node)) = &self.entry
            && let Some(rest) = field.strip_prefix(at.as_str())
            && (rest.is_empty() || rest.starts_with(['.', '[']))
        {
            return node.at(rest);
        }
        self.root.at(field)
    }

    /// Refuses a document that is not a mapping, saying what it is and what `expected`
    /// would be (serde would name the Rust type it was reading).
    pub fn require_mapping(&self, what: &str, expected: &str) -> Result<(), InventoryError> {
        if matches!(self.root.value, Value::Mapping(_)) {
            return Ok(());
        }
        Err(InventoryError::Invalid {
            origin: origin(&self.file, self.root.mark, ""),
            message: format!("{what} is {}; {expected}", self.root.kind()),
        })
    }

    /// The whole document as `T`; a problem names where and which field.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, InventoryError> {
        yaml::from_node(&self.root).map_err(|e| InventoryError::Invalid {
            origin: origin(&self.file, e.mark, e.path.trim_start_matches('.')),
            message: e.message,
        })
    }

    /// The node at `field` as `T`; a problem names where and which field under it.
    pub fn deserialize_at<T: DeserializeOwned>(&self, field: &str) -> Result<T, InventoryError> {
        let node = self.at(field).expect("the field is written");
        yaml::from_node(node).map_err(|e| InventoryError::Invalid {
            origin: origin(&self.file, e.mark, &format!("{field}{}", e.path)),
            message: e.message,
        })
    }

    /// The mapping at `field` as `T`, with the entries whose keys are document options
    /// blocks (`documents::option_keys`) taken out first and returned as written: they
    /// are read by the document the entry names.
    pub fn read_entry<T: DeserializeOwned>(
        &self,
        field: &str,
    ) -> Result<(T, Vec<(String, serde_yaml::Value)>), InventoryError> {
        let node = self.at(field).expect("the field is written");
        let keys = documents::option_keys();
        let blocks: Vec<(&str, &Node)> = match &node.value {
            Value::Mapping(entries) => entries
                .iter()
                .filter_map(|(key, value)| {
                    Some((key.as_str().filter(|k| keys.contains(k))?, value))
                })
                .collect(),
            _ => Vec::new(),
        };
        let located = |e: yaml::DeError, under: &str| InventoryError::Invalid {
            origin: origin(&self.file, e.mark, &format!("{under}{}", e.path)),
            message: e.message,
        };
        let value = yaml::from_node_except(node, keys).map_err(|mut e| {
            if e.message.starts_with("unknown field") {
                let blocks: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                e.message = format!(
                    "{}, or a document's options block: {}",
                    e.message,
                    blocks.join(", ")
                );
            }
            located(e, field)
        })?;
        let blocks = blocks
            .into_iter()
            .map(|(key, node)| {
                let under = format!("{field}.{key}");
                let block = yaml::from_node(node).map_err(|e| located(e, &under))?;
                Ok((key.to_string(), block))
            })
            .collect::<Result<_, InventoryError>>()?;
        Ok((value, blocks))
    }

    /// The origin of `field`, falling back to its closest written parent.
    pub fn origin(&self, field: &str) -> Origin {
        let mut probe = field;
        loop {
            if let Some(node) = self.at(probe) {
                return origin(&self.file, node.mark, field);
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe = &probe[..cut],
                None => return origin(&self.file, Mark { line: 0, column: 0 }, field),
            }
        }
    }

    /// The text of a scalar field as written.
    pub fn scalar(&self, field: &str) -> Option<SourceScalar> {
        match &self.at(field)?.value {
            Value::Scalar(scalar) => Some(SourceScalar {
                text: scalar.text.to_string(),
                plain: scalar.style == Style::Plain,
            }),
            _ => None,
        }
    }
}

fn origin(file: &Arc<PathBuf>, mark: Mark, field: &str) -> Origin {
    Origin {
        file: file.clone(),
        line: mark.line as usize,
        column: mark.column as usize,
        field: field.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> SourceMap {
        SourceMap::read(Path::new("inv.yaml"), text).unwrap()
    }

    #[test]
    fn paths_and_positions_match_the_source() {
        let src = "registries:\n  - address: quay.io\n    password: {env: X}\ntargets:\n  - name: a\n    files:\n      - mode: 0644\n";
        let map = read(src);
        let o = map.origin("registries[0].address");
        assert_eq!((o.line, o.column), (2, 14));
        let o = map.origin("registries[0].password.env");
        assert_eq!((o.line, o.column), (3, 21));
        let mode = map.scalar("targets[0].files[0].mode").unwrap();
        assert_eq!(mode.text, "0644");
        assert!(mode.plain);
        // Unknown paths fall back to the nearest parent.
        let o = map.origin("targets[0].files[0].nope");
        assert_eq!((o.line, o.column), (7, 9));
        assert_eq!(o.to_string(), "inv.yaml:7:9: targets[0].files[0].nope");
    }

    #[test]
    fn aliases_carry_the_anchored_nodes() {
        let src = "targets:\n  - name: a\n    files: &common\n      - {path: /x, mode: 0644}\n  - name: b\n    files: *common\n  - name: c\n    files:\n      - &m {mode: 0600}\n      - *m\n";
        let map = read(src);
        for (field, text) in [
            ("targets[0].files[0].mode", "0644"),
            ("targets[1].files[0].mode", "0644"),
            ("targets[2].files[0].mode", "0600"),
            ("targets[2].files[1].mode", "0600"),
        ] {
            let scalar = map
                .scalar(field)
                .unwrap_or_else(|| panic!("{field} not read"));
            assert_eq!(
                (scalar.text.as_str(), scalar.plain),
                (text, true),
                "{field}"
            );
        }
        // An error in aliased content points at where it is written.
        let o = map.origin("targets[1].files[0].path");
        assert_eq!((o.line, o.column), (4, 16));
    }

    #[test]
    fn syntax_errors_and_alias_bombs_are_located() {
        let e = SourceMap::read(Path::new("inv.yaml"), "a: [1\n")
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("inv.yaml:"), "{e}");
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for level in b'b'..=b'j' {
            let prev = (level - 1) as char;
            let name = level as char;
            bomb.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(bomb.len() < 600, "{}", bomb.len());
        assert!(SourceMap::read(Path::new("inv.yaml"), &bomb).is_err());
    }
}
