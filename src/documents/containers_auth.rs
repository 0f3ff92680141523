//! `containers-auth`: the `auth.json` of podman, skopeo and buildah (containers/image, FORMATS.md §2).

use super::docker_config::config_file;
use super::{CredentialKind, DocFile, Kind, Options, refuse, to_json};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct ContainersAuth;

impl Kind for ContainersAuth {
    fn name(&self) -> &'static str {
        "containers-auth"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Tokens in JSON strings; `auth` is base64 of `user:password`.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Json, Encoding::Base64]
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

/// Like docker-config, but keyed `host[:port][/namespace]`: containers/image looks up the
/// most specific namespace first, so one host can carry a robot per organisation.
/// containers/image runs credential helpers per registry, never per namespace.
fn refusal(address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
    match (credential, address.namespace()) {
        (CredentialKind::Helper { .. }, Some(_)) => Some(format!(
            "registry {address} has a credential helper and a namespace; containers/image runs helpers per registry only, so give the helper to {}",
            address.host_port()
        )),
        _ => None,
    }
}

fn build(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    refuse(registries, refusal)?;
    // `host[:port]`, plus the namespace when there is one: containers/image scopes
    // credentials by path. Hub is `docker.io`.
    Ok(to_json(&config_file(registries, |r| {
        r.address.canonical()
    })?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper};

    #[test]
    fn namespaces_scope_credentials_and_hub_is_docker_io() {
        let doc = build(&[
            basic("quay.io/team-a", "team-a+robot", "pa"),
            basic("quay.io/team-b", "team-b+robot", "pb"),
            basic("index.docker.io", "octocat", "ph"),
            helper("gcr.io", "gcr"),
        ])
        .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        let keys: Vec<&String> = json["auths"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["docker.io", "quay.io/team-a", "quay.io/team-b"]);
        // `printf %s 'team-a+robot:pa' | base64`
        assert_eq!(
            json["auths"]["quay.io/team-a"]["auth"],
            "dGVhbS1hK3JvYm90OnBh"
        );
        assert_eq!(json["credHelpers"]["gcr.io"], "gcr");
    }

    #[test]
    fn a_namespaced_helper_is_refused() {
        let err = build(&[helper("gcr.io/project", "gcr")]).unwrap_err();
        assert!(err.contains("give the helper to gcr.io"), "{err}");
    }
}
