//! `containerd-config`: the CRI plugin's registry credentials and legacy mirrors as a containerd config file, version 2 or 3 (FORMATS.md §13).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml_edit::{Array, DocumentMut, Item, Table, value};

use super::{
    CredentialKind, DocFile, Given, Kind, NodeAuth, Options, OptionsError, Part, keyed, no_helper,
    read_block,
};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::fsio::io_reason;
use crate::model::{FileMode, RegistryAddress};

pub struct ContainerdConfig;

impl Kind for ContainerdConfig {
    fn name(&self) -> &'static str {
        "containerd-config"
    }

    fn extension(&self) -> &'static str {
        "toml"
    }

    /// toml_edit's strings: literal, basic, or multi-line.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::TomlBasic, Encoding::Lines]
    }

    /// A drop-in, read when the main config imports `/etc/containerd/conf.d/*.toml`
    /// (containerd's own default from 2.2 on; docs/platforms/containerd.md).
    fn default_path(&self) -> Option<&'static str> {
        Some("/etc/containerd/conf.d/regforge.toml")
    }

    /// TLS lives in hosts.toml only: containerd 2.0 deleted `configs.*.tls`.
    fn carries(&self) -> &'static [Part] {
        &[Part::Credential, Part::Mirrors]
    }

    fn companions(&self) -> &'static [&'static str] {
        &["containerd-hosts"]
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("containerd")
    }

    fn options_schema(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> Option<schemars::Schema> {
        Some(generator.subschema_for::<RawOptions>())
    }

    fn typed_options(&self) -> &'static [&'static str] {
        &["version"]
    }

    fn options(
        &self,
        block: Option<serde_yaml::Value>,
        given: &Given,
    ) -> Result<Options, OptionsError> {
        let raw: RawOptions = read_block("containerd", block)?.unwrap_or_default();
        raw.validate(given.folder).map(Options::new)
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        no_helper(address, credential, "containerd runs")
    }

    fn advise(&self, options: &Options) -> Vec<String> {
        let settings: &Settings = options.get();
        let mut advice = vec![
            "containerd has deprecated the CRI `configs` and `mirrors` tables since 1.5 (still read by 2.3, removal planned): \
             prefer pull secrets (kubernetes-secret) for credentials, and config_path with containerd-hosts for mirrors"
                .to_string(),
        ];
        if settings.version == 2 && settings.base.is_none() {
            advice.push(
                "containerd 1.x replaces a plugin's whole table with a drop-in's: a version 2 drop-in that sets registry settings \
                 resets the node's other CRI settings (runtimes, SystemdCgroup, sandbox_image) to defaults; \
                 give `containerd: {base: FILE}` (the node's config.toml) to write a complete config instead (docs/platforms/containerd.md)"
                    .to_string(),
            );
        }
        advice
    }

    fn build(
        &self,
        options: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let settings: &Settings = options.get();
        let mut doc = match &settings.base {
            // The node's own config, every other setting kept.
            Some(base) => base.clone(),
            None => {
                let mut doc = DocumentMut::new();
                doc["version"] = value(i64::from(settings.version));
                doc
            }
        };
        write_registry(doc.as_table_mut(), settings, registries)?;
        let text = format!("{HEADER}{doc}");
        // Credentials: readable by root only, as containerd runs.
        Ok(vec![DocFile {
            name: None,
            bytes: text.into_bytes(),
            mode: FileMode::CREDENTIALS,
        }])
    }
}

const HEADER: &str = "# containerd CRI registry settings, written by regforge. containerd reads them at start: restart it to apply.\n";

/// Options of `containerd-config` (the `containerd:` block).
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ContainerdOptions")]
struct RawOptions {
    /// The containerd config version: 2 (containerd 1.x and 2.x) or 3 (2.x only).
    #[schemars(range(min = 2, max = 3))]
    version: Option<u8>,
    /// The hosts directory where `containerd-hosts` goes, written instead of the
    /// deprecated `mirrors` table.
    config_path: Option<String>,
    /// The node's own config.toml, relative to the inventory's folder: the output is that
    /// config with the registry settings merged in.
    base: Option<PathBuf>,
}

/// The config version (2 for containerd 1.x and 2.x, 3 for 2.x only), the hosts
/// directory that replaces the legacy `mirrors` table, and the node's own config that
/// the registry settings are merged into.
struct Settings {
    version: u8,
    config_path: Option<String>,
    base: Option<DocumentMut>,
}

impl RawOptions {
    fn validate(mut self, folder: &Path) -> Result<Settings, OptionsError> {
        let base = match self.base.take() {
            Some(path) => Some(self.read_base(&folder.join(path))?),
            None => None,
        };
        let version = match self.version {
            None | Some(2) => 2,
            Some(3) => 3,
            Some(other) => {
                return Err(OptionsError::at(
                    "containerd.version",
                    format!(
                        "containerd config version {other} is not written; accepted: 2 (containerd 1.x, 2.x) and 3 (2.x)"
                    ),
                ));
            }
        };
        if let Some(dir) = &self.config_path {
            // containerd 2.1+'s transfer service takes config_path as one directory,
            // ignoring every hosts.toml when it is a `:` list (FORMATS.md §13).
            if !dir.starts_with('/') || dir.contains(':') || dir.ends_with('/') {
                return Err(OptionsError::at(
                    "containerd.config_path",
                    "config_path is one absolute directory without a trailing `/`, e.g. /etc/containerd/certs.d (a `:` list is ignored by containerd 2.1+)",
                ));
            }
        }
        Ok(Settings {
            version,
            config_path: self.config_path,
            base,
        })
    }

    /// The node's config at `path`, parsed; its `version` becomes the block's, and its
    /// own `config_path` is kept unless the block gives one.
    fn read_base(&mut self, path: &Path) -> Result<DocumentMut, OptionsError> {
        let fail = |message: String| OptionsError::at("containerd.base", message);
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read {shown}: {}", io_reason(&e))))?;
        // The message and line only: the file may hold credentials already.
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start].lines().count().max(1));
            fail(format!(
                "{shown} is not TOML (line {line}): {}",
                e.message().trim_end()
            ))
        })?;
        let version = match doc.get("version").and_then(Item::as_integer) {
            Some(v @ (2 | 3)) => v as u8,
            _ => {
                return Err(fail(format!(
                    "{shown} has no `version = 2` or `version = 3` line; regforge merges into version 2 and 3 configs"
                )));
            }
        };
        if let Some(given) = self.version.filter(|&v| v != version) {
            return Err(OptionsError::at(
                "containerd.version",
                format!(
                    "version {given} differs from the base's `version = {version}`: the merged config keeps the base's; leave `version` out"
                ),
            ));
        }
        self.version = Some(version);
        let registry = doc
            .get("plugins")
            .and_then(|p| p.get(plugin(version)))
            .and_then(|c| c.get("registry"));
        if self.config_path.is_none() {
            self.config_path = registry
                .and_then(|r| r.get("config_path"))
                .and_then(Item::as_str)
                .filter(|p| !p.is_empty())
                .map(String::from);
        }
        let has_mirrors = registry
            .and_then(|r| r.get("mirrors"))
            .and_then(Item::as_table_like)
            .is_some_and(|m| !m.is_empty());
        if has_mirrors && self.config_path.is_some() {
            return Err(fail(format!(
                "{shown} has a registry `mirrors` table, and config_path is set: containerd refuses to start with both; move its mirrors to containerd-hosts"
            )));
        }
        Ok(doc)
    }
}

/// The plugin whose `registry` table CRI reads in a config of `version`.
fn plugin(version: u8) -> &'static str {
    match version {
        2 => "io.containerd.grpc.v1.cri",
        _ => "io.containerd.cri.v1.images",
    }
}

/// Writes the registry settings under the CRI plugin of a containerd config's root table.
fn write_registry(
    root: &mut Table,
    settings: &Settings,
    registries: &[RegistryCredential],
) -> Result<(), String> {
    let registry = table(root, &["plugins", plugin(settings.version), "registry"])?;
    match &settings.config_path {
        // containerd refuses to start with both `config_path` and `mirrors`; the
        // mirrors then live in containerd-hosts under that directory.
        // A base config's own line stays as written.
        Some(dir) if registry.get("config_path").and_then(Item::as_str) != Some(dir) => {
            registry.insert("config_path", value(dir.as_str()));
        }
        Some(_) => {}
        None => {
            let mirrored: Vec<RegistryCredential> = registries
                .iter()
                .filter(|r| !r.mirrors.is_empty())
                .cloned()
                .collect();
            // Keyed by the registry's name in image references (`docker.io`).
            let mirrors = keyed(&mirrored, |r| r.address.image_host(), |r| Ok(&r.mirrors))?;
            for (name, endpoints) in mirrors {
                let endpoints: Array = endpoints.iter().map(ToString::to_string).collect();
                table(registry, &["mirrors", &name])?.insert("endpoint", value(endpoints));
            }
        }
    }
    let logged_in: Vec<RegistryCredential> = registries
        .iter()
        .filter(|r| r.credential.is_some())
        .cloned()
        .collect();
    // Keyed by the host containerd contacts and takes the 401 from: Hub's images come
    // from registry-1.docker.io, and a `docker.io` key is never found.
    let auths = keyed(&logged_in, |r| r.address.pull_host(), Ok)?;
    for (host, r) in auths {
        let Some(login) = NodeAuth::of(r) else {
            continue;
        };
        let auth = table(registry, &["configs", &host, "auth"])?;
        for (key, field) in [
            ("username", login.username),
            ("password", login.password),
            ("identitytoken", login.token),
        ] {
            if let Some(field) = field {
                auth.insert(key, value(field));
            }
        }
    }
    Ok(())
}

/// The table at `path` under `root`, made (as implicit tables, so only tables with
/// values of their own get a header) where missing.
fn table<'t>(root: &'t mut Table, path: &[&str]) -> Result<&'t mut Table, String> {
    let mut at = root;
    for (depth, key) in path.iter().enumerate() {
        let item = at.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        at = item.as_table_mut().ok_or_else(|| {
            format!(
                "`{}` is not a table in the containerd config",
                path[..=depth].join(".")
            )
        })?;
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper, token, with};
    use crate::documents::{self, DocumentSpec};

    fn render(version: u8, config_path: Option<&str>, registries: &[RegistryCredential]) -> String {
        let settings = Settings {
            version,
            config_path: config_path.map(String::from),
            base: None,
        };
        let files = ContainerdConfig
            .build(&Options::new(settings), registries, None)
            .unwrap();
        String::from_utf8(files[0].bytes.clone()).unwrap()
    }

    fn mirrored(address: &str, mirror: &str) -> RegistryCredential {
        let mut r = with(address, None);
        r.mirrors = vec![mirror.parse().unwrap()];
        r
    }

    // Layout checked by hand against FORMATS.md §13's minimal examples, and read by
    // Debian's containerd 1.6 `config dump` in tests/it/containerd.rs.
    #[test]
    fn version_2_keys_hub_by_registry_1_and_mirrors_by_name() {
        let text = render(
            2,
            None,
            &[
                basic("mirror.internal:5000", "alice", "s3cr3t"),
                token(
                    "example.azurecr.io",
                    "00000000-0000-0000-0000-000000000000",
                    "tok",
                ),
                basic("index.docker.io", "hub", "pw"),
            ],
        );
        assert_eq!(
            text,
            format!(
                "{HEADER}version = 2\n\n\
                 [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"example.azurecr.io\".auth]\nidentitytoken = \"tok\"\n\n\
                 [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"mirror.internal:5000\".auth]\nusername = \"alice\"\npassword = \"s3cr3t\"\n\n\
                 [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"registry-1.docker.io\".auth]\nusername = \"hub\"\npassword = \"pw\"\n"
            )
        );
    }

    #[test]
    fn legacy_mirrors_or_config_path_never_both() {
        let registries = [
            mirrored("docker.io", "https://mirror.internal:5000"),
            basic("mirror.internal:5000", "alice", "s3cr3t"),
        ];
        let text = render(3, None, &registries);
        assert!(
            text.contains("[plugins.\"io.containerd.cri.v1.images\".registry.mirrors.\"docker.io\"]\nendpoint = [\"https://mirror.internal:5000\"]\n"),
            "{text}"
        );
        assert!(!text.contains("config_path"), "{text}");
        let text = render(3, Some("/etc/containerd/certs.d"), &registries);
        assert!(
            text.contains("[plugins.\"io.containerd.cri.v1.images\".registry]\nconfig_path = \"/etc/containerd/certs.d\"\n"),
            "{text}"
        );
        assert!(!text.contains("mirrors"), "{text}");
        assert!(
            text.starts_with(&format!("{HEADER}version = 3\n")),
            "{text}"
        );
    }

    #[test]
    fn helpers_are_refused_and_versions_checked() {
        let spec = DocumentSpec::new(
            &ContainerdConfig,
            Options::new(Settings {
                version: 2,
                config_path: None,
                base: None,
            }),
        );
        let err = documents::build(&spec, &[helper("gcr.io", "gcr")], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "containerd-config: registry gcr.io uses a credential helper; containerd runs none (kubelet's credential providers do)"
        );
        let err = RawOptions {
            version: Some(1),
            ..RawOptions::default()
        }
        .validate(Path::new(""))
        .err()
        .unwrap();
        assert_eq!(err.field, "containerd.version");
        let err = RawOptions {
            config_path: Some("/etc/containerd/certs.d:/etc/docker/certs.d".into()),
            ..RawOptions::default()
        }
        .validate(Path::new(""))
        .err()
        .unwrap();
        assert!(err.message.contains("a `:` list"), "{}", err.message);
    }

    fn with_base(base: &str, version: Option<u8>) -> Result<Settings, OptionsError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), base).unwrap();
        RawOptions {
            version,
            base: Some("config.toml".into()),
            ..RawOptions::default()
        }
        .validate(dir.path())
    }

    #[test]
    fn a_base_config_keeps_its_settings_and_gains_the_registry_ones() {
        let base = "# the node's own\nversion = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"pause:own\"\n\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n";
        let settings = with_base(base, None).unwrap();
        assert_eq!(
            settings.config_path.as_deref(),
            Some("/etc/containerd/certs.d")
        );
        let files = ContainerdConfig
            .build(
                &Options::new(settings),
                &[basic("quay.io", "robot", "pw")],
                None,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(files[0].bytes.clone()).unwrap(),
            format!(
                "{HEADER}{base}\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"quay.io\".auth]\nusername = \"robot\"\npassword = \"pw\"\n"
            )
        );
    }

    #[test]
    fn a_base_config_is_checked_without_echoing_it() {
        let err = with_base("version = 2\npassword = \"hunter2\n", None)
            .err()
            .unwrap();
        assert!(
            err.message.contains("is not TOML (line 2)"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        let err = with_base("[plugins]\n", None).err().unwrap();
        assert!(
            err.message
                .contains("has no `version = 2` or `version = 3` line"),
            "{}",
            err.message
        );
        let err = with_base("version = 2\n", Some(3)).err().unwrap();
        assert_eq!(err.field, "containerd.version");
        let both = "version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry.mirrors.\"docker.io\"]\nendpoint = [\"https://m\"]\n";
        let err = RawOptions {
            config_path: Some("/etc/containerd/certs.d".into()),
            base: Some("config.toml".into()),
            ..RawOptions::default()
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), both).unwrap();
        let err = err.validate(dir.path()).err().unwrap();
        assert!(
            err.message.contains("refuses to start with both"),
            "{}",
            err.message
        );
    }
}
