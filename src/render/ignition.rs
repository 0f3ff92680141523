//! Ignition JSON layout: the template's JSON text, written again canonically by serde_json.

/// The JSON `text` re-serialised with sorted keys: compact on one line, or indented by two
/// spaces when `pretty`; either way with a final line break. Layout is done here, not in
/// the template, so that whitespace and escaping in a template never change the output.
pub fn layout(text: &str, pretty: bool) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("the template did not produce JSON: {e}"))?;
    let mut out = if pretty {
        serde_json::to_string_pretty(&value)
    } else {
        serde_json::to_string(&value)
    }
    .expect("a JSON value serialises");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::layout;

    #[test]
    fn compact_and_pretty_hold_the_same_value() {
        let text = "{ \"b\": [1, {\"d\": \"\\u003c\", \"c\": true}],\n  \"a\": {} }";
        assert_eq!(
            layout(text, false).unwrap(),
            "{\"a\":{},\"b\":[1,{\"c\":true,\"d\":\"<\"}]}\n"
        );
        assert_eq!(
            layout(text, true).unwrap(),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": true,\n      \"d\": \"<\"\n    }\n  ]\n}\n"
        );
    }

    #[test]
    fn a_trailing_comma_is_refused() {
        let err = layout("{\"a\": 1,}", false).unwrap_err();
        assert!(
            err.starts_with("the template did not produce JSON: "),
            "{err}"
        );
    }
}
