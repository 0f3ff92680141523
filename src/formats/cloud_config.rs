//! cloud-config: `write_files` for CoreOS's coreos-cloudinit and for cloud-init (FORMATS.md §8).

use base64::Engine;
use serde::Deserialize;

use super::{Contents, FileBack, Format, Problem, ReadBack, Version, placed_nodes};
use crate::encoding::Encoding;
use crate::model::{Delivery, FileMode};

pub struct CloudConfig;

impl Format for CloudConfig {
    fn name(&self) -> &'static str {
        "cloud-config"
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    /// Content as a YAML scalar (double-quoted or a literal block), or `b64`.
    fn encodings(&self) -> &'static [Encoding] {
        &[
            Encoding::YamlDoubleQuoted,
            Encoding::Lines,
            Encoding::Base64,
        ]
    }

    fn refuses(&self, delivery: Delivery) -> Option<&'static str> {
        match delivery {
            Delivery::Inline => None,
            Delivery::Remote => Some(
                "cloud-config can only place files inline (coreos-cloudinit cannot fetch); `remote` needs a butane or ignition target",
            ),
            Delivery::Local => Some(
                "cloud-config can only place files inline (coreos-cloudinit cannot fetch); `local` needs a butane target",
            ),
        }
    }

    fn template(&self) -> &'static str {
        include_str!("../../templates/cloud-config.yaml.j2")
    }

    fn read_back(
        &self,
        text: &str,
        _: Option<&Version>,
        placed: &dyn Fn(&str) -> bool,
    ) -> Result<ReadBack, Problem> {
        if text.lines().next().map(str::trim_end) != Some("#cloud-config") {
            return Err(Problem::config("the first line is not #cloud-config"));
        }
        let config: Config = serde_yaml::from_str(text)
            .map_err(|e| Problem::config(format!("it is not valid YAML: {e}")))?;
        let files = placed_nodes::<_, WriteFile>(config.write_files, placed)?
            .into_iter()
            .map(WriteFile::read_back)
            .collect::<Result<_, _>>()?;
        Ok(ReadBack {
            files,
            directories: Vec::new(),
        })
    }
}

// A cloud-config has a hundred modules; regforge reads only `write_files`. Sources:
// cloud-init's cc_write_files schema, coreos-cloudinit config/file.go.
#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    write_files: Vec<serde_yaml::Value>,
}

/// An entry regforge placed: nothing in it may change what is written (`append`,
/// `defer`, `source`), so every field it does not write is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteFile {
    path: String,
    content: Option<String>,
    encoding: Option<String>,
    owner: Option<String>,
    permissions: Option<Permissions>,
}

/// cloud-init's schema wants `permissions` quoted; an unquoted `0600` would be misread.
#[derive(Deserialize)]
#[serde(untagged)]
enum Permissions {
    Quoted(String),
    Unquoted(serde::de::IgnoredAny),
}

impl WriteFile {
    fn read_back(self) -> Result<FileBack, Problem> {
        let mode = match &self.permissions {
            Some(Permissions::Quoted(text)) => FileMode::from_yaml(text, true).ok(),
            Some(Permissions::Unquoted(_)) | None => None,
        };
        let (user, group) = match self.owner.as_deref().map(|o| o.split_once(':')) {
            None => (None, None),
            Some(None) => (self.owner.clone(), None),
            Some(Some((u, g))) => ((!u.is_empty()).then(|| u.to_string()), Some(g.to_string())),
        };
        let content = self
            .content
            .as_deref()
            .ok_or_else(|| Problem::at(&self.path, "it has no content"))?;
        let bytes = match self.encoding.as_deref() {
            None => content.as_bytes().to_vec(),
            Some("b64" | "base64") => base64::engine::general_purpose::STANDARD
                .decode(content.trim())
                .map_err(|e| {
                    Problem::at(&self.path, format!("base64 content does not decode: {e}"))
                })?,
            Some(other) => {
                return Err(Problem::at(
                    &self.path,
                    format!("encoding {other} is not one regforge writes"),
                ));
            }
        };
        Ok(FileBack {
            path: self.path,
            mode,
            user,
            group,
            // write_files replaces what is there.
            overwrite: true,
            contents: Contents::Inline { bytes, hash: None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ReadBack, Problem> {
        CloudConfig.read_back(text, None, &|p| p.starts_with("/etc/"))
    }

    #[test]
    fn placed_entries_are_read_and_others_pass() {
        let text = "#cloud-config\nwrite_files:\n  - path: /etc/a\n    permissions: '0600'\n    owner: core:wheel\n    encoding: b64\n    content: aGk=\n  - path: /home/x\n    append: true\nusers: [core]\n";
        let back = read(text).unwrap();
        assert_eq!(
            back.files,
            vec![FileBack {
                path: "/etc/a".into(),
                mode: Some(FileMode::from_yaml("0600", true).unwrap()),
                user: Some("core".into()),
                group: Some("wheel".into()),
                overwrite: true,
                contents: Contents::Inline {
                    bytes: b"hi".to_vec(),
                    hash: None
                },
            }]
        );
    }

    #[test]
    fn a_placed_entry_with_a_field_regforge_does_not_write_is_refused() {
        let text =
            "#cloud-config\nwrite_files:\n  - path: /etc/a\n    content: x\n    append: true\n";
        let e = read(text).unwrap_err();
        assert_eq!(e.what, "/etc/a");
        assert!(
            e.problem.starts_with("unknown field `append`"),
            "{}",
            e.problem
        );
    }

    #[test]
    fn an_unquoted_mode_reads_as_none() {
        let text =
            "#cloud-config\nwrite_files:\n  - path: /etc/a\n    permissions: 384\n    content: x\n";
        assert_eq!(read(text).unwrap().files[0].mode, None);
    }
}
