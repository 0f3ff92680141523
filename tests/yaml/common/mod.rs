//! What the test files share: reading a text with the tree and with serde_norway, the reference it replaces.
#![allow(dead_code)] // each test file uses a different part

use proptest::test_runner::{Config, FileFailurePersistence};
use regforge::yaml::{DeError, from_node};
use regforge::yaml::{Limits, Node, ParseError, parse};
use serde::de::DeserializeOwned;

/// Why the tree refused a text: while parsing, or while deserializing.
#[derive(Debug)]
pub enum Refusal {
    Parse(ParseError),
    De(DeError),
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::Parse(e) => &e.message,
            Refusal::De(e) => &e.message,
        }
    }

    pub fn line_column(&self) -> (usize, usize) {
        let mark = match self {
            Refusal::Parse(e) => e.mark,
            Refusal::De(e) => e.mark,
        };
        (mark.line as usize, mark.column as usize)
    }

    pub fn de(self) -> DeError {
        match self {
            Refusal::De(e) => e,
            Refusal::Parse(e) => {
                panic!("expected a deserialization error, got a parse error: {e:?}")
            }
        }
    }

    pub fn parse(self) -> ParseError {
        match self {
            Refusal::Parse(e) => e,
            Refusal::De(e) => panic!("expected a parse error, got a deserialization error: {e:?}"),
        }
    }
}

pub fn tree(text: &str) -> Result<Option<Node>, ParseError> {
    parse(text, Limits::for_text(text))
}

/// `T` from `text` through the tree. A document with no content reads as
/// YAML's null, as serde_norway reads it.
pub fn ours<T: DeserializeOwned>(text: &str) -> Result<T, Refusal> {
    let node = tree(text).map_err(Refusal::Parse)?;
    let null = Node {
        mark: regforge::yaml::Mark { line: 1, column: 1 },
        value: regforge::yaml::Value::Scalar(regforge::yaml::Scalar {
            text: String::new().into(),
            style: regforge::yaml::Style::Plain,
        }),
    };
    from_node(node.as_ref().unwrap_or(&null)).map_err(Refusal::De)
}

pub fn norway<T: DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
    serde_yaml::from_str(text)
}

pub fn ours_json(text: &str) -> Result<serde_json::Value, Refusal> {
    ours(text)
}

pub fn norway_json(text: &str) -> Result<serde_json::Value, serde_yaml::Error> {
    norway(text)
}

/// Where the tree refuses what serde_norway reads, on purpose; the
/// `differs_on_purpose_*` tests in differential.rs show each.
pub fn is_deliberate_refusal(refusal: &Refusal) -> bool {
    const DELIBERATE: &[&str] = &[
        "duplicate key",
        "YAML tags (`!name`) are not supported",
        "nested deeper than",
        // yaml-rust2 keeps to YAML 1.2 where libyaml lets these pass: a
        // quoted scalar's or flow collection's lines indented less than
        // the block they are in, ...
        "invalid indentation",
        // ... a blank line that starts a block scalar indented past its
        // first line of text, ...
        "wrongly indented line in block scalar",
        // ... a tab after an explicit key's `?`, ...
        "tabs disallowed in this context",
        // ... a `#` right after a token, ...
        "comments must be separated from other tokens by whitespace",
        // ... and `-` alone before a flow indicator.
        "plain scalar cannot start with '-' followed by ,[]{}",
    ];
    DELIBERATE
        .iter()
        .any(|start| refusal.message().starts_with(start))
}

/// Asserts the tree gives what serde_norway gives for `text` read as
/// `serde_json::Value`, or refuses it where serde_norway does.
#[track_caller]
pub fn assert_same_json(text: &str) {
    match (norway_json(text), ours_json(text)) {
        (Ok(want), Ok(got)) => assert_eq!(got, want, "different values for {text:?}"),
        (Err(_), Err(_)) => {}
        (Ok(want), Err(got)) => {
            panic!("serde_norway reads {text:?} as {want} but the tree refuses it: {got:?}")
        }
        (Err(want), Ok(got)) => {
            panic!("serde_norway refuses {text:?} ({want}) but the tree reads {got}")
        }
    }
}

/// `default` cases, or `PROPTEST_CASES` for a longer hunt. Failures are
/// not saved: a shrunk case worth keeping becomes a handwritten test.
pub fn cases(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}
