//! `kubelet-config`: the node-wide `config.json` kubelet reads from its root folder, with only what kubelet honours (FORMATS.md §18, §3).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{BasicAuth, CredentialKind, DocFile, Kind, Options, basic_auth, keyed, to_json};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct KubeletConfig;

impl Kind for KubeletConfig {
    fn name(&self) -> &'static str {
        "kubelet-config"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Only `auth`, base64 of `user:password`, holds a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Base64]
    }

    /// The first place kubelet looks: `--root-dir` (default /var/lib/kubelet).
    fn default_path(&self) -> Option<&'static str> {
        Some("/var/lib/kubelet/config.json")
    }

    /// kubelet reads `username`, `password`, `email` and `auth` of an entry, nothing
    /// else: no helpers, no identity tokens.
    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        match credential {
            CredentialKind::Password => None,
            CredentialKind::IdentityToken => Some(format!(
                "registry {address} logs in with an identity token, which kubelet ignores in config.json; give it a username and password, or pull with a credential provider (kubelet-credential-provider)"
            )),
            CredentialKind::Helper { .. } => Some(format!(
                "registry {address} uses a credential helper, which kubelet ignores in config.json; kubelet runs credential providers instead (kubelet-credential-provider)"
            )),
        }
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        // Keyed as kubelet's keyring matches: `host[:port][/namespace]`, a path prefix of
        // the image; Docker Hub as `docker.io`, which normalised Hub images
        // (`docker.io/library/nginx`) match directly. `registry-1.docker.io` never matches.
        let auths = keyed(
            registries,
            |r| r.address.canonical(),
            |r| match &r.credential {
                Some(Credential::Basic { username, password }) => Ok(Entry {
                    auth: basic_auth(username, password.expose()),
                }),
                _ => unreachable!("refused, or left out by documents::build"),
            },
        )?;
        Ok(DocFile::one(to_json(&ConfigJson { auths })))
    }
}

/// kubelet's `DockerConfigJSON`: `auths` only.
#[derive(Serialize)]
struct ConfigJson<'r> {
    auths: BTreeMap<String, Entry<'r>>,
}

/// `auth` alone: kubelet decodes it and takes it over `username` and `password`.
#[derive(Serialize)]
struct Entry<'r> {
    auth: BasicAuth<'r>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::basic;

    // Checked by hand against FORMATS.md §3/§18 (kubelet's credentialprovider config.go;
    // auth values with `printf %s user:pw | base64`);
    // matched with kubelet's keyring rules in tests/it/kubelet.rs.
    #[test]
    fn auth_only_keyed_by_host_and_namespace_with_hub_as_docker_io() {
        let files = KubeletConfig
            .build(
                &Options::none(),
                &[
                    basic("index.docker.io", "octocat", "pw"),
                    basic("quay.io/myorg", "myorg+deploy", "tok"),
                    basic("reg.example.com:5000", "john", "x"),
                ],
                None,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(files[0].bytes.clone()).unwrap(),
            "{\n\t\"auths\": {\n\t\t\"docker.io\": {\n\t\t\t\"auth\": \"b2N0b2NhdDpwdw==\"\n\t\t},\n\t\t\"quay.io/myorg\": {\n\t\t\t\"auth\": \"bXlvcmcrZGVwbG95OnRvaw==\"\n\t\t},\n\t\t\"reg.example.com:5000\": {\n\t\t\t\"auth\": \"am9objp4\"\n\t\t}\n\t}\n}\n"
        );
    }
}
