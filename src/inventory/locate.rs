//! Where each node of the inventory's YAML sits, so that errors found after parsing can name file, line and column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::model::Origin;

/// A scalar exactly as written, before any YAML schema turned it into a number.
#[derive(Clone, Debug)]
pub struct SourceScalar {
    pub text: String,
    pub plain: bool,
}

#[derive(Clone, Debug)]
struct Node {
    line: usize,
    column: usize,
    scalar: Option<SourceScalar>,
}

/// Field path (`registries[1].address`) → position, built from a second, event-level parse
/// because serde's deserializer forgets positions once a value is built.
pub struct SourceMap {
    file: Arc<PathBuf>,
    nodes: HashMap<String, Node>,
}

impl SourceMap {
    pub fn build(file: &Path, text: &str) -> SourceMap {
        let mut indexer = Indexer::default();
        // A syntax error has already been reported by serde with its own position;
        // whatever was indexed before it is still useful.
        let _ = Parser::new_from_str(text).load(&mut indexer, false);
        SourceMap {
            file: Arc::new(file.to_path_buf()),
            nodes: indexer.nodes,
        }
    }

    pub fn file(&self) -> &Arc<PathBuf> {
        &self.file
    }

    /// The origin of `field`, falling back to its closest indexed parent.
    pub fn origin(&self, field: &str) -> Origin {
        let mut probe = field;
        loop {
            if let Some(node) = self.nodes.get(probe) {
                return Origin {
                    file: self.file.clone(),
                    line: node.line,
                    column: node.column,
                    field: field.to_string(),
                };
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe = &probe[..cut],
                None => {
                    return Origin {
                        file: self.file.clone(),
                        line: 0,
                        column: 0,
                        field: field.to_string(),
                    };
                }
            }
        }
    }

    /// The text of a `mode` field as written (other scalars' texts are not kept).
    pub fn scalar(&self, field: &str) -> Option<&SourceScalar> {
        self.nodes.get(field).and_then(|n| n.scalar.as_ref())
    }
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        placed: bool,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Indexer {
    stack: Vec<Frame>,
    nodes: HashMap<String, Node>,
    // Mappings used as keys have no useful path; count how deep inside one we are.
    in_complex_key: usize,
    /// Anchored collections still being read: their id, path, the paths indexed inside
    /// them, and the stack depth at which they close.
    open_anchors: Vec<OpenAnchor>,
    /// Each anchor's nodes, by path relative to the anchor, for its aliases to repeat.
    anchors: HashMap<usize, Vec<(String, Node)>>,
}

struct OpenAnchor {
    id: usize,
    path: String,
    inside: Vec<String>,
    depth: usize,
}

impl Indexer {
    /// The path of the node that starts now, or None when the event is a mapping key.
    fn next_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key, .. }) => match key.take() {
                Some(k) if path.is_empty() => Some(k),
                Some(k) => Some(format!("{path}.{k}")),
                None => None,
            },
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        );
        if !starts_node {
            if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                if self.in_complex_key > 0 {
                    self.in_complex_key -= 1;
                } else {
                    self.stack.pop();
                    self.close_anchor();
                }
            }
            return;
        }
        if self.in_complex_key > 0 {
            if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                self.in_complex_key += 1;
            }
            return;
        }
        let Some(path) = self.next_path() else {
            // A mapping key: remember it for the value that follows.
            match event {
                Event::Scalar(text, ..) => {
                    if let Some(Frame::Map { key, path, placed }) = self.stack.last_mut() {
                        *key = Some(text);
                        // A block mapping's own marker lies after its first key; a flow
                        // mapping's (`{`) is right. Keep whichever comes first.
                        if !*placed {
                            *placed = true;
                            if let Some(node) = self.nodes.get_mut(path.as_str()) {
                                let key_at = (mark.line(), mark.col() + 1);
                                if key_at < (node.line, node.column) {
                                    (node.line, node.column) = key_at;
                                }
                            }
                        }
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => self.in_complex_key = 1,
                _ => {}
            }
            return;
        };
        if let Event::Alias(id) = event {
            self.repeat_anchor(id, &path);
            return;
        }
        let anchor = match &event {
            Event::Scalar(_, _, id, _)
            | Event::MappingStart(id, _)
            | Event::SequenceStart(id, _) => *id,
            _ => 0,
        };
        // Only modes are read back as written (see `FileMode::from_yaml`); keeping every
        // scalar's text would double the index's memory on large inventories. Anchored
        // text is kept too: an alias may place it under a `mode`.
        let keep_text = path.ends_with(".mode") || anchor > 0 || !self.open_anchors.is_empty();
        let scalar = match &event {
            Event::Scalar(text, style, ..) if keep_text => Some(SourceScalar {
                text: text.clone(),
                plain: *style == TScalarStyle::Plain,
            }),
            _ => None,
        };
        let node = Node {
            line: mark.line(),
            column: mark.col() + 1,
            scalar,
        };
        if anchor > 0 && matches!(event, Event::Scalar(..)) {
            self.anchors
                .insert(anchor, vec![(String::new(), node.clone())]);
        }
        self.insert(path.clone(), node);
        match event {
            Event::MappingStart(..) => self.stack.push(Frame::Map {
                path: path.clone(),
                key: None,
                placed: false,
            }),
            Event::SequenceStart(..) => self.stack.push(Frame::Seq {
                path: path.clone(),
                next: 0,
            }),
            _ => return,
        }
        if anchor > 0 {
            self.open_anchors.push(OpenAnchor {
                id: anchor,
                inside: vec![path.clone()],
                path,
                depth: self.stack.len(),
            });
        }
    }
}

impl Indexer {
    fn insert(&mut self, path: String, node: Node) {
        for open in &mut self.open_anchors {
            open.inside.push(path.clone());
        }
        self.nodes.insert(path, node);
    }

    /// Records an anchored collection once it is read whole, with positions as finally placed.
    fn close_anchor(&mut self) {
        if self
            .open_anchors
            .last()
            .is_none_or(|open| open.depth != self.stack.len() + 1)
        {
            return;
        }
        let open = self.open_anchors.pop().expect("checked above");
        let recorded = open
            .inside
            .iter()
            .filter_map(|p| {
                let node = self.nodes.get(p)?.clone();
                Some((p[open.path.len()..].to_string(), node))
            })
            .collect();
        self.anchors.insert(open.id, recorded);
    }

    /// An alias stands for its anchor's nodes: index them again under the alias's path.
    fn repeat_anchor(&mut self, id: usize, path: &str) {
        let Some(recorded) = self.anchors.get(&id).cloned() else {
            return;
        };
        for (suffix, node) in recorded {
            self.insert(format!("{path}{suffix}"), node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_positions_match_the_source() {
        let src = "registries:\n  - address: quay.io\n    password: {env: X}\ntargets:\n  - name: a\n    files:\n      - mode: 0644\n";
        let map = SourceMap::build(Path::new("inv.yaml"), src);
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
        let map = SourceMap::build(Path::new("inv.yaml"), src);
        for (field, text) in [
            ("targets[0].files[0].mode", "0644"),
            ("targets[1].files[0].mode", "0644"),
            ("targets[2].files[0].mode", "0600"),
            ("targets[2].files[1].mode", "0600"),
        ] {
            let scalar = map
                .scalar(field)
                .unwrap_or_else(|| panic!("{field} not indexed"));
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
}
