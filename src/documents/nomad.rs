//! `nomad-docker-plugin`: the Nomad client's docker plugin block, pointing `auth.config` at a docker config and naming the one credential helper (FORMATS.md §20).

use serde::Deserialize;

use super::{CredentialKind, DocFile, Given, Kind, Need, Options, OptionsError, read_block};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::FileMode;

pub struct NomadDockerPlugin;

/// Where the docker config goes unless the `nomad:` block says otherwise.
const DEFAULT_AUTH_FILE: &str = "/etc/nomad.d/docker-auth.json";

impl Kind for NomadDockerPlugin {
    fn name(&self) -> &'static str {
        "nomad-docker-plugin"
    }

    fn extension(&self) -> &'static str {
        "hcl"
    }

    /// Names the docker config file, never a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[]
    }

    fn default_path(&self) -> Option<&'static str> {
        Some("/etc/nomad.d/docker-registry.hcl")
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("nomad")
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
        let raw: RawOptions = read_block("nomad", block)?.unwrap_or_default();
        let auth_file = raw
            .auth_file
            .unwrap_or_else(|| DEFAULT_AUTH_FILE.to_string());
        // Written into an HCL string: no interpolation, no escapes needed.
        let normal = auth_file.starts_with('/')
            && !auth_file.ends_with('/')
            && !auth_file.contains("//")
            && auth_file.split('/').all(|c| c != "." && c != "..")
            && !auth_file.contains(['"', '\\', '$', '%', '\n']);
        if !normal {
            return Err(OptionsError::at(
                "nomad.auth_file",
                "auth_file is a normalised absolute path on the node, e.g. /etc/nomad.d/docker-auth.json",
            ));
        }
        Ok(Options::new(Settings { auth_file }))
    }

    /// Nomad reads the registries' logins from the docker config at `auth_file`.
    fn needs(&self, options: &Options) -> Vec<Need> {
        let settings: &Settings = options.get();
        vec![Need {
            path: settings.auth_file.clone(),
            documents: &["docker-config"],
        }]
    }

    /// Nomad runs helpers, but no identity tokens from its plugin block.
    fn refuses(
        &self,
        address: &crate::model::RegistryAddress,
        credential: CredentialKind,
    ) -> Option<String> {
        (credential == CredentialKind::IdentityToken).then(|| {
            format!(
                "registry {address} logs in with an identity token, which Nomad's docker driver does not use; give it a username and password"
            )
        })
    }

    fn advise(&self, _: &Options) -> Vec<String> {
        vec![
            "Nomad clients read the plugin block at start (restart the client after placing it); the docker config it names is read on every pull"
                .to_string(),
        ]
    }

    fn build(
        &self,
        options: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let settings: &Settings = options.get();
        // One helper for every registry the config file does not cover: two would need
        // two plugin blocks, which Nomad does not have.
        let mut helper: Option<(&str, &RegistryCredential)> = None;
        for r in registries {
            if let Some(Credential::Helper { helper: name, .. }) = &r.credential {
                match helper {
                    Some((first, owner)) if first != name => {
                        return Err(format!(
                            "registries {} and {} use different credential helpers ({first}, {name}); Nomad's docker plugin runs one: render them in separate targets",
                            owner.address, r.address
                        ));
                    }
                    _ => helper = Some((name, r)),
                }
            }
        }
        let mut auth = format!("      config = \"{}\"\n", settings.auth_file);
        if let Some((name, _)) = helper {
            auth.push_str(&format!("      helper = \"{name}\"\n"));
        }
        let text = format!(
            "{HEADER}plugin \"docker\" {{\n  config {{\n    auth {{\n{auth}    }}\n  }}\n}}\n"
        );
        Ok(vec![DocFile {
            name: None,
            bytes: text.into_bytes(),
            mode: FileMode::PUBLIC,
        }])
    }
}

const HEADER: &str = "# Nomad docker driver registry logins, written by regforge: restart the Nomad client to apply.\n";

/// Options of `nomad-docker-plugin` (the `nomad:` block).
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NomadOptions")]
struct RawOptions {
    /// The docker config the plugin block names (default
    /// /etc/nomad.d/docker-auth.json).
    auth_file: Option<String>,
}

struct Settings {
    auth_file: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper};

    fn build(registries: &[RegistryCredential]) -> Result<String, String> {
        let options = Options::new(Settings {
            auth_file: DEFAULT_AUTH_FILE.into(),
        });
        NomadDockerPlugin
            .build(&options, registries, None)
            .map(|f| String::from_utf8(f[0].bytes.clone()).unwrap())
    }

    // Checked by hand against FORMATS.md §20 (Nomad drivers/docker/config.go); parsed
    // with an HCL parser in tests/it/nomad.rs.
    #[test]
    fn the_plugin_block_names_the_config_and_the_one_helper() {
        assert_eq!(
            build(&[
                basic("quay.io", "u", "p"),
                helper("012345678910.dkr.ecr.us-east-1.amazonaws.com", "ecr-login")
            ])
            .unwrap(),
            format!(
                "{HEADER}plugin \"docker\" {{\n  config {{\n    auth {{\n      config = \"/etc/nomad.d/docker-auth.json\"\n      helper = \"ecr-login\"\n    }}\n  }}\n}}\n"
            )
        );
        let err = build(&[
            helper("gcr.io", "gcr"),
            helper("012345678910.dkr.ecr.us-east-1.amazonaws.com", "ecr-login"),
        ])
        .unwrap_err();
        assert!(err.contains("gcr.io and 012345678910.dkr.ecr.us-east-1.amazonaws.com use different credential helpers (gcr, ecr-login)"), "{err}");
    }
}
