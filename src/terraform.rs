//! The Terraform `external` data source protocol: a query object of strings in, a result object of strings out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;

use crate::Error;
use crate::credentials::EnvLookup;
use crate::inventory::Inventory;
use crate::model::Sha512Hash;
use crate::pipeline::RenderedTarget;
use crate::render::Variables;

/// What Terraform asked for: the `query` argument of `data "external"`.
#[derive(Debug, PartialEq)]
pub struct Query {
    /// Relative to the working directory; `None` falls back to `-i` / `$REGFORGE_INVENTORY` / `regforge.yaml`.
    pub inventory: Option<PathBuf>,
    pub target: String,
    pub variables: Variables,
}

const KEYS: &str = "inventory, target, variables";

fn bad_query(message: String) -> Error {
    Error::Input(format!("terraform query: {message}"))
}

/// Reads the query as Terraform writes it: one JSON object whose values are all strings.
pub fn parse_query(stdin: &[u8]) -> Result<Query, Error> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(stdin)
        .map_err(|e| {
            bad_query(format!(
                "stdin is not a JSON object of strings ({e}); regforge terraform is meant to be run by Terraform's external data source"
            ))
        })?;
    let mut inventory = None;
    let mut target = None;
    let mut variables = Variables::new();
    for (key, value) in object {
        let serde_json::Value::String(value) = value else {
            return Err(bad_query(format!(
                "`{key}` must be a string, found {}",
                json_type(&value)
            )));
        };
        match key.as_str() {
            "inventory" => inventory = Some(PathBuf::from(value)),
            "target" => target = Some(value),
            "variables" => {
                variables = serde_json::from_str(&value).map_err(|_| {
                    bad_query(
                        "`variables` must be a JSON object encoded as a string: write `variables = jsonencode({...})`"
                            .into(),
                    )
                })?;
            }
            other => {
                return Err(bad_query(format!(
                    "unknown key `{}`; accepted: {KEYS}",
                    crate::model::shown(other)
                )));
            }
        }
    }
    let target =
        target.ok_or_else(|| bad_query("`target` is required: the target to render".into()))?;
    Ok(Query {
        inventory,
        target,
        variables,
    })
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Renders the queried target in memory and returns the result object, one line of JSON.
pub fn respond(inventory: &Inventory, query: &Query, env: EnvLookup) -> Result<String, Error> {
    let rendering = crate::pipeline::render_with(
        inventory,
        std::slice::from_ref(&query.target),
        env,
        // Compact, exactly as `render --stdout` prints a target by default.
        &crate::render::Options {
            pretty: false,
            variables: query.variables.clone(),
            ..Default::default()
        },
    )?;
    let target = &rendering.targets[0];
    if target.files.len() != 1 {
        return Err(Error::Input(format!(
            "target {} renders {} files (its document is one file per registry); Terraform takes one file per target, so give each registry its own target",
            target.name,
            target.files.len()
        )));
    }
    let mut text = serde_json::to_string(&result(target)).expect("a map of strings serializes");
    text.push('\n');
    Ok(text)
}

/// The result keys, all strings (Terraform refuses anything else):
/// `rendered` (or `rendered_base64` when the file is not UTF-8), `sha512`,
/// `artifact.<name>.{content_base64,sha512,url}` for remote delivery,
/// `file.<name>.{content_base64,sha512}` for local delivery, and `artifacts` / `files`:
/// the names as a JSON array in a string, for `for_each = toset(jsondecode(…))`.
/// The target renders one file (`respond` refuses others).
pub fn result(target: &RenderedTarget) -> BTreeMap<String, String> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = BTreeMap::new();
    let bytes = &target.files[0].bytes;
    match std::str::from_utf8(bytes) {
        Ok(text) => out.insert("rendered".into(), text.to_string()),
        Err(_) => out.insert("rendered_base64".into(), b64(bytes)),
    };
    out.insert("sha512".into(), Sha512Hash::of(bytes).to_string());
    let mut names: BTreeMap<&str, Vec<String>> =
        BTreeMap::from([("artifact", vec![]), ("file", vec![])]);
    for artifact in &target.artifacts {
        let name = &artifact.name;
        // Hosted artifacts have the URL nodes fetch them from; local ones do not.
        let prefix = if artifact.url.is_some() {
            "artifact"
        } else {
            "file"
        };
        out.insert(
            format!("{prefix}.{name}.content_base64"),
            b64(&artifact.bytes),
        );
        out.insert(
            format!("{prefix}.{name}.sha512"),
            artifact.sha512.to_string(),
        );
        if let Some(url) = &artifact.url {
            out.insert(format!("{prefix}.{name}.url"), url.clone());
        }
        names.entry(prefix).or_default().push(name.clone());
    }
    for (prefix, mut list) in names {
        list.sort();
        list.dedup();
        out.insert(
            format!("{prefix}s"),
            serde_json::to_string(&list).expect("a list of strings serializes"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_as_terraform_writes_it() {
        let q = parse_query(br#"{"inventory":"inv.yaml","target":"t","variables":"{\"a\":1}"}"#)
            .unwrap();
        assert_eq!(q.inventory, Some(PathBuf::from("inv.yaml")));
        assert_eq!(q.target, "t");
        assert_eq!(q.variables["a"], 1);
        let q = parse_query(br#"{"target":"t"}"#).unwrap();
        assert_eq!(q.inventory, None);
        assert!(q.variables.is_empty());
    }

    #[test]
    fn binary_files_come_as_base64_and_artifacts_by_delivery() {
        use crate::output::OutputFile;
        use crate::pipeline::Artifact;
        let artifact = |folder: &str, name: &str, bytes: &[u8], url: Option<&str>| Artifact {
            path: format!("{folder}/{name}").into(),
            name: name.into(),
            bytes: bytes.to_vec(),
            sha512: Sha512Hash::of(bytes),
            url: url.map(String::from),
        };
        let target = RenderedTarget {
            name: "archive".into(),
            files: vec![OutputFile {
                path: "archive.tar.gz".into(),
                bytes: vec![0x1f, 0x8b, 0xff],
            }],
            artifacts: vec![
                artifact("artifacts", "a.json", b"{}", Some("https://h/x/a.json")),
                artifact("files", "b.json", b"[]", None),
            ],
        };
        let got = result(&target);
        assert_eq!(got["rendered_base64"], "H4v/");
        assert!(!got.contains_key("rendered"));
        assert_eq!(
            got["sha512"],
            Sha512Hash::of(&[0x1f, 0x8b, 0xff]).to_string()
        );
        assert_eq!(got["artifact.a.json.url"], "https://h/x/a.json");
        assert_eq!(got["artifact.a.json.content_base64"], "e30=");
        assert_eq!(got["file.b.json.content_base64"], "W10=");
        assert_eq!(
            (got["artifacts"].as_str(), got["files"].as_str()),
            ("[\"a.json\"]", "[\"b.json\"]")
        );
        assert_eq!(got.len(), 9);
    }

    #[test]
    fn query_errors_say_what_is_accepted() {
        for (input, want) in [
            (&b""[..], "stdin is not a JSON object of strings"),
            (b"[]", "stdin is not a JSON object of strings"),
            (b"{}", "`target` is required"),
            (
                br#"{"target":1}"#,
                "`target` must be a string, found a number",
            ),
            (
                br#"{"target":"t","x":"y"}"#,
                "unknown key `x`; accepted: inventory, target, variables",
            ),
            (
                br#"{"target":"t","variables":"[1]"}"#,
                "`variables` must be a JSON object",
            ),
        ] {
            let err = parse_query(input).unwrap_err().to_string();
            assert!(err.starts_with("terraform query: "), "{err}");
            assert!(err.contains(want), "{err}");
        }
    }
}
