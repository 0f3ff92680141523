//! YAML scalars that parse back to exactly the given string, for templates to place values in.

/// The string as a YAML scalar: plain when nothing could misread it, a literal block when
/// it is multi-line text, double-quoted otherwise. `indent` is the column block content starts at.
pub fn scalar(value: &str, indent: usize) -> String {
    if is_plain_safe(value) {
        value.to_string()
    } else if value.contains('\n') && is_literal_safe(value) {
        literal_block(value, indent)
    } else {
        double_quoted(value)
    }
}

/// Whether the text survives as a YAML literal block (`|`), for YAML 1.1 and 1.2 readers alike.
pub fn is_literal_safe(text: &str) -> bool {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let first_line = body.split('\n').find(|line| !line.is_empty());
    // More than one final line break would need `|+`; keep such text double-quoted.
    !body.is_empty()
        && !body.ends_with('\n')
        // The first non-empty line fixes the block's indentation; leading blanks would be lost.
        && first_line.is_some_and(|line| !line.starts_with([' ', '\t']))
        && text.chars().all(|c| c == '\n' || is_printable(c))
        // A line of only blanks would be read back as an empty line.
        && body.split('\n').all(|line| line.is_empty() || !line.chars().all(|c| c == ' ' || c == '\t'))
}

fn literal_block(text: &str, indent: usize) -> String {
    let (body, chomp) = match text.strip_suffix('\n') {
        Some(body) => (body, "|"),
        None => (text, "|-"),
    };
    let pad = " ".repeat(indent);
    let mut out = String::from(chomp);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// A double-quoted scalar; everything outside printable ASCII-safe text is escaped,
/// including the characters YAML 1.1 treats as line breaks (U+0085, U+2028, U+2029).
pub fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// YAML's printable set (c-printable), minus the byte-order mark and the line separators.
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x09 | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

/// Plain scalars are kept to unambiguous words and paths: nothing a YAML 1.1 reader could
/// take for a number, boolean, null or timestamp, and no indicator characters.
fn is_plain_safe(value: &str) -> bool {
    const KEYWORDS: [&str; 10] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan",
    ];
    let Some(first) = value.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '/' || first == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:".contains(c))
        // `:` only inside a word (URLs): at the end it would start a mapping.
        && !value.ends_with(':')
        && !KEYWORDS.contains(&value.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(value: &str) -> String {
        let doc = format!("key:\n  value: {}\n", scalar(value, 4));
        let parsed: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
            serde_yaml::from_str(&doc).unwrap_or_else(|e| panic!("{doc:?}: {e}"));
        parsed["key"]["value"].clone()
    }

    #[test]
    fn picks_the_simplest_style() {
        assert_eq!(scalar("core", 0), "core");
        assert_eq!(
            scalar("/home/core/.docker/config.json", 0),
            "/home/core/.docker/config.json"
        );
        assert_eq!(scalar("yes", 0), "\"yes\"");
        assert_eq!(
            scalar("http://h.example/r/x.json", 0),
            "http://h.example/r/x.json"
        );
        assert_eq!(scalar("a:", 0), "\"a:\"");
        assert_eq!(scalar("0644", 0), "\"0644\"");
        assert_eq!(
            scalar("{\n\t\"a\": 1\n}\n", 4),
            "|\n    {\n    \t\"a\": 1\n    }"
        );
        assert_eq!(scalar("a\nb", 2), "|-\n  a\n  b");
        assert_eq!(scalar(" lead\n", 2), "\" lead\\n\"");
        assert_eq!(scalar("a\u{2028}b", 2), "\"a\\u2028b\"");
    }

    #[test]
    fn tricky_values_round_trip() {
        for v in [
            "",
            "p'a\"s\\s",
            "a: b # c",
            "{{ x }}",
            "  lead",
            "trail  ",
            "x\n\n",
            "\r\n",
            "é ü 密码",
            "\u{7f}\u{85}\u{feff}",
            "line\n  \nend\n",
            "😀",
            "- a",
            "? x",
            "!tag",
            "&a *a",
            "%x",
            "@x",
            "`x",
        ] {
            assert_eq!(round_trip(v), v, "{v:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_round_trips(v in any::<String>()) {
            prop_assert_eq!(round_trip(&v), v);
        }

        #[test]
        fn any_text_round_trips(v in "[ -~\t\né\u{2028}]{0,40}") {
            prop_assert_eq!(round_trip(&v), v);
        }
    }
}
