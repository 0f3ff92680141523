//! JSON exactly as Go's `encoding/json` marshals it: compact, with `<`, `>`, `&`, U+2028 and
//! U+2029 escaped, so that our Kubernetes Secrets equal kubectl's byte for byte.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

pub fn to_vec<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value
        .serialize(&mut ser)
        .expect("documents serialise to JSON");
    out
}

/// serde_json already escapes control characters as Go does (`\n`, `\u001f`, lower-case hex);
/// only the HTML-safe and line-separator escapes are Go's own.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[rest..i])?;
            writer.write_all(escape.as_bytes())?;
            rest = i + c.len_utf8();
        }
        CompactFormatter.write_string_fragment(writer, &fragment[rest..])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_go() {
        // Go: json.Marshal("p<&>\"\\é\u2028x\n\u001f\u007f") (kubectl 1.32, observed).
        let got = super::to_vec(&"p<&>\"\\é\u{2028}x\n\u{1f}\u{7f}");
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "\"p\\u003c\\u0026\\u003e\\\"\\\\é\\u2028x\\n\\u001f\u{7f}\""
        );
    }
}
