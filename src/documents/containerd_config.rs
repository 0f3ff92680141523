//! `containerd-config`: the CRI plugin's registry credentials and legacy mirrors as a containerd config file, version 2 or 3 (FORMATS.md §13).

use serde::Deserialize;
use toml_edit::{Array, DocumentMut, Item, Table, value};

use super::{
    CredentialKind, DocFile, Kind, Options, OptionsError, Part, keyed, read_block, refuse,
};
use crate::credentials::{Credential, RegistryCredential};
use crate::model::{FileMode, RegistryAddress};

pub struct ContainerdConfig;

impl Kind for ContainerdConfig {
    fn name(&self) -> &'static str {
        "containerd-config"
    }

    fn extension(&self) -> &'static str {
        "toml"
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

    fn companion(&self) -> Option<&'static str> {
        Some("containerd-hosts")
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("containerd")
    }

    fn typed_options(&self) -> &'static [&'static str] {
        &["version"]
    }

    fn options(
        &self,
        block: Option<serde_yaml::Value>,
        _target: Option<&str>,
    ) -> Result<Options, OptionsError> {
        let raw: RawOptions = read_block("containerd", block)?.unwrap_or_default();
        raw.validate().map(Options::new)
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        matches!(credential, CredentialKind::Helper { .. }).then(|| {
            format!(
                "registry {address} uses a credential helper; containerd runs none (kubelet's credential providers do)"
            )
        })
    }

    fn advise(&self, options: &Options) -> Vec<String> {
        let settings: &Settings = options.get();
        let mut advice = vec![
            "containerd has deprecated the CRI `configs` and `mirrors` tables since 1.5 (still read by 2.3, removal planned): \
             prefer pull secrets (kubernetes-secret) for credentials, and config_path with containerd-hosts for mirrors"
                .to_string(),
        ];
        if settings.version == 2 {
            advice.push(
                "containerd 1.x replaces a plugin's whole table with a drop-in's: a version 2 drop-in that sets registry settings \
                 resets the node's other CRI settings (runtimes, SystemdCgroup, sandbox_image) to defaults; \
                 place it as the main config, or put the node's CRI settings in it (docs/platforms/containerd.md)"
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
        refuse(registries, |address, credential| {
            ContainerdConfig.refuses(address, credential)
        })?;
        let settings: &Settings = options.get();
        let mut doc = DocumentMut::new();
        doc["version"] = value(i64::from(settings.version));
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

/// The `containerd:` block as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    version: Option<u8>,
    config_path: Option<String>,
}

/// The config version (2 for containerd 1.x and 2.x, 3 for 2.x only), and the hosts
/// directory that replaces the legacy `mirrors` table.
struct Settings {
    version: u8,
    config_path: Option<String>,
}

impl RawOptions {
    fn validate(self) -> Result<Settings, OptionsError> {
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
        })
    }
}

impl Settings {
    /// The plugin whose `registry` table CRI reads.
    fn plugin(&self) -> &'static str {
        match self.version {
            2 => "io.containerd.grpc.v1.cri",
            _ => "io.containerd.cri.v1.images",
        }
    }
}

/// Writes the registry settings under the CRI plugin of a containerd config's root table.
fn write_registry(
    root: &mut Table,
    settings: &Settings,
    registries: &[RegistryCredential],
) -> Result<(), String> {
    let registry = table(root, &["plugins", settings.plugin(), "registry"])?;
    match &settings.config_path {
        // containerd refuses to start with both `config_path` and `mirrors`; the
        // mirrors then live in containerd-hosts under that directory.
        Some(dir) => {
            registry.insert("config_path", value(dir.as_str()));
        }
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
    let auths = keyed(&logged_in, |r| r.address.pull_host(), |r| Ok(&r.credential))?;
    for (host, credential) in auths {
        let auth = table(registry, &["configs", &host, "auth"])?;
        match credential {
            Some(Credential::Basic { username, password }) => {
                auth.insert("username", value(username.as_str()));
                auth.insert("password", value(password.expose()));
            }
            // ParseAuth takes a username before a token, so the token stands alone.
            Some(Credential::Token { identity_token, .. }) => {
                auth.insert("identitytoken", value(identity_token.expose()));
            }
            Some(Credential::Helper { .. }) | None => {
                unreachable!("refused, or filtered out above")
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

    fn render(version: u8, config_path: Option<&str>, registries: &[RegistryCredential]) -> String {
        let settings = Settings {
            version,
            config_path: config_path.map(String::from),
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
        let err = ContainerdConfig
            .build(
                &Options::new(Settings {
                    version: 2,
                    config_path: None,
                }),
                &[helper("gcr.io", "gcr")],
                None,
            )
            .unwrap_err();
        assert!(err.contains("containerd runs none"), "{err}");
        let err = RawOptions {
            version: Some(1),
            config_path: None,
        }
        .validate()
        .err()
        .unwrap();
        assert_eq!(err.field, "containerd.version");
        let err = RawOptions {
            version: None,
            config_path: Some("/etc/containerd/certs.d:/etc/docker/certs.d".into()),
        }
        .validate()
        .err()
        .unwrap();
        assert!(err.message.contains("a `:` list"), "{}", err.message);
    }
}
