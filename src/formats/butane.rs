//! Butane: the YAML that `butane` translates to Ignition, for Flatcar and Fedora CoreOS (FORMATS.md §9).

use serde::Deserialize;

use super::{Contents, DirectoryBack, FileBack, Format, Problem, ReadBack, Storage, Version};
use crate::data_url;
use crate::encoding::Encoding;
use crate::model::Sha512Hash;
use crate::model::{Delivery, FileMode};

/// The Butane variants and versions regforge writes, with the Ignition spec each
/// translates to (Butane's docs/specs.md). Ignition targets take the same pairs.
pub static VERSIONS: [Version; 4] = [
    Version {
        variant: "flatcar",
        version: "1.0.0",
        translates_to: "3.3.0",
    },
    Version {
        variant: "flatcar",
        version: "1.1.0",
        translates_to: "3.4.0",
    },
    Version {
        variant: "fcos",
        version: "1.4.0",
        translates_to: "3.3.0",
    },
    Version {
        variant: "fcos",
        version: "1.5.0",
        translates_to: "3.4.0",
    },
];

pub struct Butane;

impl Format for Butane {
    fn name(&self) -> &'static str {
        "butane"
    }

    fn extension(&self) -> &'static str {
        "bu"
    }

    /// Inline contents as a YAML scalar (double-quoted or a literal block); bytes that are not text as a base64 data URL.
    fn encodings(&self) -> &'static [Encoding] {
        &[
            Encoding::YamlDoubleQuoted,
            Encoding::Lines,
            Encoding::DataUrl,
        ]
    }

    fn versions(&self) -> &'static [Version] {
        &VERSIONS
    }

    fn refuses(&self, _: Delivery) -> Option<&'static str> {
        None
    }

    fn fetches(&self) -> bool {
        true
    }

    fn declares_directories(&self) -> bool {
        true
    }

    fn template(&self) -> &'static str {
        include_str!("../../templates/butane.bu.j2")
    }

    fn read_back(
        &self,
        text: &str,
        version: Option<&Version>,
        placed: &dyn Fn(&str) -> bool,
    ) -> Result<ReadBack, Problem> {
        let config: Config = serde_yaml::from_str(text)
            .map_err(|e| Problem::config(format!("it is not valid YAML: {e}")))?;
        if let Some(want) = version {
            for (key, got, want) in [
                ("variant", &config.variant, want.variant),
                ("version", &config.version, want.version),
            ] {
                if got.as_deref() != Some(want) {
                    return Err(Problem::config(format!("`{key}` is not {want}")));
                }
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

// Butane's config has many sections; regforge reads `variant`, `version` and the
// storage nodes it placed. Source: Butane's base/v0_5 schema (docs/config-fcos-v1_5.md).
#[derive(Deserialize)]
struct Config {
    variant: Option<String>,
    version: Option<String>,
    storage: Option<Storage<serde_yaml::Value>>,
}

/// A file regforge placed: every field it does not write (`append`, `compression`, an
/// owner `id`) would change what Ignition writes, so it is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    path: String,
    mode: Option<Mode>,
    overwrite: Option<bool>,
    user: Option<Owner>,
    group: Option<Owner>,
    contents: Option<Resource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Directory {
    path: String,
    mode: Option<Mode>,
    user: Option<Owner>,
    group: Option<Owner>,
}

/// A user or group, by name: an `id` is refused (Ignition's and Butane's node owner).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Owner {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resource {
    inline: Option<String>,
    source: Option<String>,
    local: Option<String>,
    verification: Option<Verification>,
}

/// `contents.verification`, the same in Butane and Ignition.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Verification {
    hash: Option<String>,
}

impl Verification {
    /// The stated hash, if any, of the file at `path`.
    pub(super) fn read(
        verification: Option<Verification>,
        path: &str,
    ) -> Result<Option<Sha512Hash>, Problem> {
        match verification.and_then(|v| v.hash) {
            Some(text) => text
                .parse::<Sha512Hash>()
                .map(Some)
                .map_err(|e| Problem::at(path, e)),
            None => Ok(None),
        }
    }
}

/// `0600` as Butane reads it: octal with a leading zero, whether the YAML parser hands
/// it over as a number or as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Mode {
    Number(u64),
    Text(String),
}

impl Mode {
    fn read(mode: Option<Mode>) -> Option<FileMode> {
        let text = match mode? {
            Mode::Number(n) => n.to_string(),
            Mode::Text(s) => s,
        };
        FileMode::from_yaml(&text, true).ok()
    }
}

pub(super) fn name(owner: Option<Owner>) -> Option<String> {
    owner.map(|o| o.name)
}

impl File {
    fn read_back(self) -> Result<FileBack, Problem> {
        let path = self.path;
        let resource = self
            .contents
            .ok_or_else(|| Problem::at(&path, "it has no contents"))?;
        let hash = Verification::read(resource.verification, &path)?;
        let contents = match (resource.inline, resource.source, resource.local) {
            (Some(inline), None, None) => Contents::Inline {
                bytes: inline.into_bytes(),
                hash,
            },
            (None, Some(url), None) if url.starts_with("data:") => Contents::Inline {
                bytes: data_url::decode(&url).map_err(|e| Problem::at(&path, e))?,
                hash,
            },
            (None, Some(url), None) => Contents::Remote { url, hash },
            (None, None, Some(name)) => Contents::Local { name },
            _ => {
                return Err(Problem::at(
                    &path,
                    "contents needs exactly one of inline, source and local",
                ));
            }
        };
        Ok(FileBack {
            mode: Mode::read(self.mode),
            user: name(self.user),
            group: name(self.group),
            // Butane's default: an existing file is an error at first boot.
            overwrite: self.overwrite.unwrap_or(false),
            contents,
            path,
        })
    }
}

impl Directory {
    fn read_back(self) -> DirectoryBack {
        DirectoryBack {
            mode: Mode::read(self.mode),
            user: name(self.user),
            group: name(self.group),
            path: self.path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ReadBack, Problem> {
        Butane.read_back(text, Some(&VERSIONS[3]), &|p| p.starts_with("/home/core"))
    }

    #[test]
    fn placed_files_and_directories_are_read_and_others_pass() {
        let text = "variant: fcos\nversion: 1.5.0\nstorage:\n  directories:\n    - path: /home/core/.docker\n      mode: 0700\n      user: {name: core}\n  files:\n    - path: /home/core/.docker/config.json\n      mode: 0600\n      overwrite: true\n      contents:\n        source: https://h/a.json\n        verification: {hash: sha512-00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}\n    - path: /etc/motd\n      append: [{inline: hi}]\nsystemd: {units: []}\n";
        let back = read(text).unwrap();
        assert_eq!(back.files.len(), 1);
        let file = &back.files[0];
        assert_eq!(file.mode, Some(FileMode::from_yaml("0600", true).unwrap()));
        assert!(file.overwrite);
        assert!(
            matches!(&file.contents, Contents::Remote { url, hash: Some(_) } if url == "https://h/a.json")
        );
        assert_eq!(
            back.directories,
            vec![DirectoryBack {
                path: "/home/core/.docker".into(),
                mode: Some(FileMode::from_yaml("0700", true).unwrap()),
                user: Some("core".into()),
                group: None,
            }]
        );
    }

    #[test]
    fn a_placed_file_with_a_field_regforge_does_not_write_is_refused() {
        let text = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /home/core/x\n      contents: {inline: x, compression: gzip}\n";
        let e = read(text).unwrap_err();
        assert_eq!(e.what, "/home/core/x");
        assert!(
            e.problem.starts_with("unknown field `compression`"),
            "{}",
            e.problem
        );
    }

    #[test]
    fn the_variant_and_version_must_be_the_targets() {
        let e = read("variant: flatcar\nversion: 1.5.0\n").unwrap_err();
        assert_eq!(e, Problem::config("`variant` is not fcos"));
    }
}
