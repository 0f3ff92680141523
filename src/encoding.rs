//! Encodings: the ways documents and formats write a value into their text, which each of them declares and the redactor follows.
//!
//! A document declares how it writes a secret (docker's `auth` is base64 of
//! `user:password` inside a JSON string); a format declares how it writes a document
//! (Ignition: a data URL inside a JSON string). The redactor
//! builds every secret's escaped forms from these declarations and opens the wrappings
//! they name, so a new consumer that writes a new encoding declares it in its own module,
//! and a test holds every document and format to its declaration.

use std::borrow::Cow;
use std::fmt::Write;

/// One way a value is written into text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    // Escapes: each character of the value is written on its own, so the escaped value
    // stands in the text whole and is found as it is.
    /// A JSON string as serde_json writes it.
    Json,
    /// A JSON string as Go's `encoding/json` writes it: `<`, `>`, `&`, U+2028 and U+2029
    /// escaped too (kubectl's Secrets).
    GoJson,
    /// A YAML double-quoted scalar as regforge's emitter writes it (`yaml::double_quoted`).
    YamlDoubleQuoted,
    /// A YAML double-quoted scalar as libyaml writes it (serde_yaml): `\a`, `\e`, `\xXX`
    /// for control characters.
    LibyamlDoubleQuoted,
    /// A YAML single-quoted scalar: `'` doubled.
    YamlSingleQuoted,
    /// A TOML basic string as toml_edit writes it: `\b \t \n \f \r \" \\`, other control
    /// characters as `\uXXXX`.
    TomlBasic,
    /// Line by line: a YAML literal block, a TOML multi-line string, a PEM file; each line
    /// of a multi-line value stands alone in the text.
    Lines,
    // Wrappings: the value is re-encoded as a whole; the redactor decodes the text to
    // look inside.
    /// Standard base64: docker's `auth`, a Secret's data, cloud-config's `b64`, Talos's
    /// PEM before 1.12.
    Base64,
    /// gzip, found inside base64: a mesos-archive placed by cloud-config or Ignition.
    Gzip,
    /// A `data:` URL, percent-escaped or base64: decoded whole, and hidden whole when it
    /// holds a secret.
    DataUrl,
}

impl Encoding {
    /// The value as this escape writes it (borrowed when nothing needed escaping); `None`
    /// for line-by-line writing and the wrappings, which are not escapes.
    pub fn escape(self, value: &str) -> Option<Cow<'_, str>> {
        let escaped = match self {
            Encoding::Json => json(value, false),
            Encoding::GoJson => json(value, true),
            Encoding::YamlDoubleQuoted => {
                let quoted = crate::yaml::double_quoted(value);
                Cow::Owned(quoted[1..quoted.len() - 1].to_string())
            }
            Encoding::LibyamlDoubleQuoted => escaped_by(value, libyaml_escape),
            Encoding::YamlSingleQuoted => escaped_by(value, |c| (c == '\'').then(|| "''".into())),
            Encoding::TomlBasic => escaped_by(value, toml_escape),
            Encoding::Lines | Encoding::Base64 | Encoding::Gzip | Encoding::DataUrl => return None,
        };
        Some(escaped)
    }
}

/// The value with each character `escape` names replaced; borrowed when there is none.
fn escaped_by(value: &str, escape: impl Fn(char) -> Option<String>) -> Cow<'_, str> {
    let Some(first) = value.char_indices().find(|(_, c)| escape(*c).is_some()) else {
        return Cow::Borrowed(value);
    };
    let mut out = String::with_capacity(value.len() + 8);
    out.push_str(&value[..first.0]);
    for c in value[first.0..].chars() {
        match escape(c) {
            Some(escaped) => out.push_str(&escaped),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// serde_json's escapes (`\"`, `\\`, `\n`, other control characters as lower-case
/// `\u00xx`), and Go's HTML-safe ones when `go`.
fn json(value: &str, go: bool) -> Cow<'_, str> {
    escaped_by(value, |c| match c {
        '"' => Some("\\\"".into()),
        '\\' => Some("\\\\".into()),
        '\n' => Some("\\n".into()),
        '\t' => Some("\\t".into()),
        '\r' => Some("\\r".into()),
        '\u{8}' => Some("\\b".into()),
        '\u{c}' => Some("\\f".into()),
        c if (c as u32) < 0x20 => Some(format!("\\u{:04x}", c as u32)),
        '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if go => Some(format!("\\u{:04x}", c as u32)),
        _ => None,
    })
}

/// libyaml's double-quoted escapes (its `yaml_emitter_write_double_quoted_scalar`,
/// emitting Unicode as serde_yaml asks it to).
fn libyaml_escape(c: char) -> Option<String> {
    let short = match c {
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '"' => "\\\"",
        '\\' => "\\\\",
        '\u{85}' => "\\N",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        c if is_libyaml_printable(c) => return None,
        c => {
            let mut out = String::new();
            let n = c as u32;
            let _ = match n {
                0..=0xFF => write!(out, "\\x{n:02X}"),
                0x100..=0xFFFF => write!(out, "\\u{n:04X}"),
                _ => write!(out, "\\U{n:08X}"),
            };
            return Some(out);
        }
    };
    Some(short.to_string())
}

/// libyaml's printable set: what it writes as it is inside double quotes.
fn is_libyaml_printable(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && c != '\u{feff}'
}

/// toml_edit's basic-string escapes (toml_writer's `write_toml_value`).
fn toml_escape(c: char) -> Option<String> {
    let short = match c {
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '"' => "\\\"",
        '\\' => "\\\\",
        c if (c as u32) <= 0x1F || c == '\u{7f}' => return Some(format!("\\u{:04X}", c as u32)),
        _ => return None,
    };
    Some(short.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(encoding: Encoding, value: &str) -> String {
        encoding.escape(value).unwrap().into_owned()
    }

    #[test]
    fn escapes_agree_with_the_writers_they_name() {
        // No line break: libyaml and toml_edit write multi-line text as blocks.
        let value = "a\"b\\c<d>&e\t\u{1}\u{1b}\u{7f}\u{85}é'f%g h\u{2028}\u{feff}";
        let json = serde_json::to_string(&format!("{value}\n")).unwrap();
        assert_eq!(
            escaped(Encoding::Json, &format!("{value}\n")),
            json[1..json.len() - 1]
        );
        let yaml = serde_yaml::to_string(&[value]).unwrap();
        let inner = yaml
            .trim_end()
            .strip_prefix("- \"")
            .unwrap()
            .strip_suffix('"')
            .unwrap();
        assert_eq!(escaped(Encoding::LibyamlDoubleQuoted, value), inner);
        let mut doc = toml_edit::DocumentMut::new();
        doc["k"] = toml_edit::value(value);
        let toml = doc.to_string();
        let inner = toml
            .trim_end()
            .strip_prefix("k = \"")
            .unwrap()
            .strip_suffix('"')
            .unwrap();
        assert_eq!(escaped(Encoding::TomlBasic, value), inner);
        let quoted = crate::yaml::double_quoted(value);
        assert_eq!(
            escaped(Encoding::YamlDoubleQuoted, value),
            quoted[1..quoted.len() - 1]
        );
        assert_eq!(escaped(Encoding::YamlSingleQuoted, "it's"), "it''s");
        assert_eq!(
            escaped(Encoding::GoJson, "<&>\u{2028}"),
            "\\u003c\\u0026\\u003e\\u2028"
        );
    }

    #[test]
    fn nothing_to_escape_borrows_and_wrappings_are_not_escapes() {
        assert!(matches!(
            Encoding::Json.escape("plain"),
            Some(Cow::Borrowed(_))
        ));
        assert!(matches!(
            Encoding::TomlBasic.escape("plain"),
            Some(Cow::Borrowed(_))
        ));
        assert!(Encoding::Base64.escape("x").is_none());
        assert!(Encoding::Lines.escape("x").is_none());
    }
}
