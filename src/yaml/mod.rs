//! YAML: the positioned tree the inventory is read into once, serde over that tree, and the scalar emitters templates use.

mod chars;
mod de;
mod emit;
mod schema;
mod tree;

pub use chars::{LineChars, ReadFailure};
pub use de::{DeError, from_node, from_node_except};
pub use emit::{double_quoted, is_literal_safe, scalar};
pub use schema::{Scalar, Style};
pub use tree::{Limits, Mark, Node, ParseError, Step, Stream, Value, parse};

/// Reads `text` and deserializes it as `T`, with any error's mark and field path.
pub fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<Option<T>, DeError> {
    let node = parse(text, Limits::for_text(text)).map_err(|e| DeError {
        mark: e.mark,
        path: String::new(),
        message: e.message,
    })?;
    node.as_ref().map(|n| from_node::<T>(n)).transpose()
}
