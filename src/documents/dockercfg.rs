//! `dockercfg`: the legacy `~/.dockercfg` map, still read by kubelet, podman and Mesos (FORMATS.md §1).

use serde::Serialize;

use super::{
    BasicAuth, CredentialKind, DocFile, Kind, Options, basic_auth, keyed, refuse, to_json,
};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct Dockercfg;

impl Kind for Dockercfg {
    fn name(&self) -> &'static str {
        "dockercfg"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Only `auth`, base64 of `user:password`, holds a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Base64]
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        refusal(address, credential)
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        build(registries).map(DocFile::one)
    }
}

#[derive(Serialize)]
struct Entry<'r> {
    auth: BasicAuth<'r>,
    // Old docker clients expected the field; the CoreOS seed writes it empty.
    email: String,
}

/// `.dockercfg` holds `auth` only: no helpers, no identity tokens.
fn refusal(address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
    match credential {
        CredentialKind::Password => None,
        CredentialKind::Helper { .. } => Some(format!(
            "registry {address} uses a credential helper, which .dockercfg cannot express; use docker-config"
        )),
        CredentialKind::IdentityToken => Some(format!(
            "registry {address} logs in with an identity token, which .dockercfg cannot express; use docker-config"
        )),
    }
}

/// The key of the legacy `.dockercfg` map: a v1 index URL, as docker ≤ 1.6 wrote it
/// (Hub's is docker config.json's `https://index.docker.io/v1/` too).
fn key(address: &RegistryAddress) -> String {
    if address.is_docker_hub() {
        address.docker_key()
    } else {
        format!("https://{}/v1/", address.host_port())
    }
}

fn build(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    refuse(registries, refusal)?;
    let map = keyed(
        registries,
        |r| key(&r.address),
        |r| match &r.credential {
            Some(Credential::Basic { username, password }) => Ok(Entry {
                auth: basic_auth(username, password.expose()),
                email: r.email.clone().unwrap_or_default(),
            }),
            Some(Credential::Helper { .. } | Credential::Token { .. }) | None => {
                unreachable!("refused, or left out by documents::build")
            }
        },
    )?;
    Ok(to_json(&map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper};

    #[test]
    fn v1_index_keys_with_email() {
        let mut quay = basic("registry.example.com", "myapp+deployment", "pw");
        quay.email = Some("ops@example.com".into());
        let doc = build(&[quay, basic("docker.io", "alice", "pw")]).unwrap();
        let want = "{\n\t\"https://index.docker.io/v1/\": {\n\t\t\"auth\": \"YWxpY2U6cHc=\",\n\t\t\"email\": \"\"\n\t},\n\t\"https://registry.example.com/v1/\": {\n\t\t\"auth\": \"bXlhcHArZGVwbG95bWVudDpwdw==\",\n\t\t\"email\": \"ops@example.com\"\n\t}\n}\n";
        assert_eq!(String::from_utf8(doc).unwrap(), want);
    }

    #[test]
    fn helpers_cannot_be_written() {
        let err = build(&[helper("gcr.io", "gcr")]).unwrap_err();
        assert!(err.contains("gcr.io uses a credential helper"), "{err}");
    }
}
