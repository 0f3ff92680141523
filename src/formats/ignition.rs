//! Ignition: the JSON config Flatcar and Fedora CoreOS read at first boot, for the spec a Butane variant and version translate to.

use serde::Deserialize;

use super::butane::{self, Owner, Verification};
use super::{Contents, DirectoryBack, FileBack, Format, Problem, ReadBack, Storage, Version};
use crate::data_url;
use crate::encoding::Encoding;
use crate::model::{Delivery, FileMode};

pub struct Ignition;

impl Format for Ignition {
    fn name(&self) -> &'static str {
        "ignition"
    }

    fn extension(&self) -> &'static str {
        "ign"
    }

    /// Contents as a data URL, percent-escaped or base64 (a JSON string needs no escape for either).
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::DataUrl]
    }

    fn versions(&self) -> &'static [Version] {
        &butane::VERSIONS
    }

    fn refuses(&self, delivery: Delivery) -> Option<&'static str> {
        match delivery {
            Delivery::Local => Some(
                "`local` delivery is for butane targets (`butane --files-dir` inlines the file); an ignition target places it `inline` (a data: URL in the config) or `remote` (with the target's `remote.url`)",
            ),
            Delivery::Inline | Delivery::Remote => None,
        }
    }

    fn fetches(&self) -> bool {
        true
    }

    fn declares_directories(&self) -> bool {
        true
    }

    fn template(&self) -> &'static str {
        include_str!("../../templates/ignition.json.j2")
    }

    /// The template's JSON re-serialised with sorted keys: compact on one line, or
    /// indented by two spaces when `pretty`; either way with a final line break. Layout
    /// is done here, not in the template, so that whitespace and escaping in a template
    /// never change the output.
    fn lay_out(&self, text: String, pretty: bool) -> Result<String, String> {
        let value: serde_json::Value = serde_json::from_str(&text)
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

    fn read_back(
        &self,
        text: &str,
        version: Option<&Version>,
        placed: &dyn Fn(&str) -> bool,
    ) -> Result<ReadBack, Problem> {
        let config: Config = serde_json::from_str(text)
            .map_err(|e| Problem::config(format!("it is not valid JSON: {e}")))?;
        if let Some(want) = version {
            let got = config.ignition.and_then(|i| i.version);
            if got.as_deref() != Some(want.translates_to) {
                return Err(Problem::config(format!(
                    "ignition.version is not {}",
                    want.translates_to
                )));
            }
        }
        Storage::read_back(
            config.storage,
            placed,
            File::read_back,
            Directory::read_back,
        )
    }
}

// Ignition's config has many sections; regforge reads `ignition.version` and the
// storage nodes it placed. Source: Ignition's config/v3_4/types (schema.json).
#[derive(Deserialize)]
struct Config {
    ignition: Option<Meta>,
    storage: Option<Storage<serde_json::Value>>,
}

#[derive(Deserialize)]
struct Meta {
    version: Option<String>,
}

/// A file regforge placed: every field it does not write (`append`, `httpHeaders`, an
/// owner `id`) would change what Ignition writes, so it is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    path: String,
    mode: Option<u32>,
    overwrite: Option<bool>,
    user: Option<Owner>,
    group: Option<Owner>,
    contents: Option<Resource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Directory {
    path: String,
    mode: Option<u32>,
    user: Option<Owner>,
    group: Option<Owner>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resource {
    source: Option<String>,
    compression: Option<String>,
    verification: Option<Verification>,
}

impl File {
    fn read_back(self) -> Result<FileBack, Problem> {
        let path = self.path;
        let resource = self
            .contents
            .ok_or_else(|| Problem::at(&path, "it has no contents"))?;
        // Ignition hashes and writes decompressed data; regforge never compresses, so a
        // compressed source could not be compared with the document.
        if resource.compression.is_some_and(|c| !c.is_empty()) {
            return Err(Problem::at(
                &path,
                "contents.compression is set; regforge places uncompressed contents",
            ));
        }
        let hash = Verification::read(resource.verification, &path)?;
        let contents = match resource.source {
            Some(url) if url.starts_with("data:") => Contents::Inline {
                bytes: data_url::decode(&url).map_err(|e| Problem::at(&path, e))?,
                hash,
            },
            Some(url) => Contents::Remote { url, hash },
            None => return Err(Problem::at(&path, "contents.source is missing")),
        };
        Ok(FileBack {
            mode: self.mode.map(FileMode::from_bits),
            user: butane::name(self.user),
            group: butane::name(self.group),
            // Ignition's default: an existing file is an error at first boot.
            overwrite: self.overwrite.unwrap_or(false),
            contents,
            path,
        })
    }
}

impl Directory {
    fn read_back(self) -> DirectoryBack {
        DirectoryBack {
            mode: self.mode.map(FileMode::from_bits),
            user: butane::name(self.user),
            group: butane::name(self.group),
            path: self.path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_pretty_hold_the_same_value() {
        let text = "{ \"b\": [1, {\"d\": \"\\u003c\", \"c\": true}],\n  \"a\": {} }";
        assert_eq!(
            Ignition.lay_out(text.into(), false).unwrap(),
            "{\"a\":{},\"b\":[1,{\"c\":true,\"d\":\"<\"}]}\n"
        );
        assert_eq!(
            Ignition.lay_out(text.into(), true).unwrap(),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": true,\n      \"d\": \"<\"\n    }\n  ]\n}\n"
        );
    }

    #[test]
    fn a_trailing_comma_is_refused() {
        let err = Ignition.lay_out("{\"a\": 1,}".into(), false).unwrap_err();
        assert!(
            err.starts_with("the template did not produce JSON: "),
            "{err}"
        );
    }

    fn read(text: &str) -> Result<ReadBack, Problem> {
        Ignition.read_back(text, Some(&butane::VERSIONS[0]), &|p| {
            p.starts_with("/home/")
        })
    }

    #[test]
    fn binary_data_urls_decode_byte_for_byte() {
        // A gzip header and bytes that are not UTF-8, as an archive document would have.
        let text = r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/home/core/a.tar.gz","mode":384,"overwrite":true,"contents":{"compression":"","source":"data:;base64,H4sIAP/+AIAlCg=="}},{"path":"/etc/x","append":[]}]}}"#;
        let back = read(text).unwrap();
        assert_eq!(
            back.files,
            vec![FileBack {
                path: "/home/core/a.tar.gz".into(),
                mode: Some(FileMode::CREDENTIALS),
                user: None,
                group: None,
                overwrite: true,
                contents: Contents::Inline {
                    bytes: vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x80, b'%', b'\n'],
                    hash: None
                },
            }]
        );
    }

    #[test]
    fn compression_an_owner_id_and_the_wrong_spec_are_refused() {
        let file = |node: &str| {
            format!(r#"{{"ignition":{{"version":"3.3.0"}},"storage":{{"files":[{node}]}}}}"#)
        };
        let e = read(&file(
            r#"{"path":"/home/a","contents":{"compression":"gzip","source":"data:,x"}}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e,
            Problem::at(
                "/home/a",
                "contents.compression is set; regforge places uncompressed contents"
            )
        );
        let e = read(&file(
            r#"{"path":"/home/a","user":{"id":0},"contents":{"source":"data:,x"}}"#,
        ))
        .unwrap_err();
        assert!(e.problem.starts_with("unknown field `id`"), "{}", e.problem);
        let e = read(r#"{"ignition":{"version":"3.4.0"}}"#).unwrap_err();
        assert_eq!(e, Problem::config("ignition.version is not 3.3.0"));
    }
}
