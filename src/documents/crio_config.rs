//! `crio-config`: a CRI-O drop-in that points `[crio.image] global_auth_file` at the auth file a `containers-auth` document places (FORMATS.md §17).

use serde::Deserialize;
use toml_edit::{DocumentMut, Item, Table, value};

use super::{DocFile, Given, Kind, Need, Options, OptionsError, Part, read_block};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::model::FileMode;

pub struct CrioConfig;

/// Where CRI-O's auth file goes unless the `crio:` block says otherwise.
const DEFAULT_AUTH_FILE: &str = "/etc/crio/auth.json";

impl Kind for CrioConfig {
    fn name(&self) -> &'static str {
        "crio-config"
    }

    fn extension(&self) -> &'static str {
        "conf"
    }

    /// A drop-in that names files, never a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[]
    }

    /// CRI-O reads every regular file of crio.conf.d, whatever its suffix, in name order.
    fn default_path(&self) -> Option<&'static str> {
        Some("/etc/crio/crio.conf.d/50-regforge.conf")
    }

    /// It names a file; the registries themselves go to that file.
    fn carries(&self) -> &'static [Part] {
        &[]
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("crio")
    }

    fn options_schema(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> Option<schemars::Schema> {
        Some(generator.subschema_for::<RawOptions>())
    }

    fn options(
        &self,
        block: Option<serde_yaml::Value>,
        _: &Given,
    ) -> Result<Options, OptionsError> {
        let raw: RawOptions = read_block("crio", block)?.unwrap_or_default();
        let auth_file = raw
            .auth_file
            .unwrap_or_else(|| DEFAULT_AUTH_FILE.to_string());
        let normal = auth_file.starts_with('/')
            && !auth_file.ends_with('/')
            && !auth_file.contains("//")
            && auth_file.split('/').all(|c| c != "." && c != "..");
        if !normal {
            return Err(OptionsError::at(
                "crio.auth_file",
                "auth_file is a normalised absolute path on the node, e.g. /etc/crio/auth.json",
            ));
        }
        Ok(Options::new(Settings { auth_file }))
    }

    /// With global_auth_file set, CRI-O consults that file only: the node needs it.
    fn needs(&self, options: &Options) -> Vec<Need> {
        let settings: &Settings = options.get();
        vec![Need {
            path: settings.auth_file.clone(),
            documents: &["containers-auth", "docker-config"],
        }]
    }

    fn advise(&self, _: &Options) -> Vec<String> {
        vec![
            "CRI-O reads global_auth_file's setting at start (restart crio), and the auth file itself on every pull; \
             kubelet's pull secrets, when a pod has them, override it"
                .to_string(),
        ]
    }

    fn build(
        &self,
        options: &Options,
        _: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let settings: &Settings = options.get();
        let mut image = Table::new();
        image.insert("global_auth_file", value(settings.auth_file.as_str()));
        let mut crio = Table::new();
        crio.set_implicit(true);
        crio.insert("image", Item::Table(image));
        let mut doc = DocumentMut::new();
        doc.insert("crio", Item::Table(crio));
        Ok(vec![DocFile {
            name: None,
            bytes: format!("{HEADER}{doc}").into_bytes(),
            mode: FileMode::PUBLIC,
        }])
    }
}

const HEADER: &str = "# CRI-O image settings, written by regforge: CRI-O reads registry credentials from this file only.\n";

/// Options of `crio-config` (the `crio:` block).
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CrioOptions")]
struct RawOptions {
    /// The auth file CRI-O is pointed at, an absolute node path (default
    /// /etc/crio/auth.json).
    auth_file: Option<String>,
}

struct Settings {
    auth_file: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn build(block: Option<&str>) -> Result<String, OptionsError> {
        let block = block.map(|b| serde_yaml::from_str(b).unwrap());
        let options = CrioConfig.options(
            block,
            &Given {
                target: None,
                folder: Path::new(""),
            },
        )?;
        let files = CrioConfig.build(&options, &[], None).unwrap();
        Ok(String::from_utf8(files[0].bytes.clone()).unwrap())
    }

    // Checked by hand against crio.conf(5) and FORMATS.md §17's minimal example; parsed
    // back in tests/it/containers.rs.
    #[test]
    fn global_auth_file_under_crio_image() {
        assert_eq!(
            build(None).unwrap(),
            format!("{HEADER}[crio.image]\nglobal_auth_file = \"/etc/crio/auth.json\"\n")
        );
        assert!(
            build(Some("{auth_file: /etc/containers/auth.json}"))
                .unwrap()
                .ends_with("global_auth_file = \"/etc/containers/auth.json\"\n")
        );
        let err = build(Some("{auth_file: auth.json}")).unwrap_err();
        assert_eq!(err.field, "crio.auth_file");
    }
}
