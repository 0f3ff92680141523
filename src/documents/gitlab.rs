//! `gitlab-docker-auth-config`: the value of GitLab's `DOCKER_AUTH_CONFIG` variable, in the minimal form the docker CLI ≥ 28.3 inside jobs accepts too (FORMATS.md §20).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{BasicAuth, CredentialKind, DocFile, Kind, Options, basic_auth, keyed};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct GitlabDockerAuthConfig;

impl Kind for GitlabDockerAuthConfig {
    fn name(&self) -> &'static str {
        "gitlab-docker-auth-config"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Only `auth`, base64 of `user:password`, holds a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Base64]
    }

    /// The minimal form has `auth` and nothing else: the docker CLI ≥ 28.3, which reads
    /// the same variable inside jobs, rejects the whole value over any other field.
    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        (credential != CredentialKind::Password).then(|| {
            format!(
                "registry {address} has no username and password; DOCKER_AUTH_CONFIG's minimal form holds only `auth`, and a docker CLI in the job ignores the whole variable over credHelpers or identitytoken"
            )
        })
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        // The docker CLI looks keys up exactly: Hub under https://index.docker.io/v1/
        // (which GitLab Runner also accepts), others under host[:port].
        let auths = keyed(
            registries,
            |r| r.address.docker_key(),
            |r| match &r.credential {
                Some(Credential::Basic { username, password }) => Ok(Entry {
                    auth: basic_auth(username, password.expose()),
                }),
                _ => unreachable!("refused, or left out by documents::build"),
            },
        )?;
        let mut line = serde_json::to_vec(&Value { auths }).expect("a map of strings serialises");
        line.push(b'\n');
        Ok(DocFile::one(line))
    }
}

/// `{"auths": {...}}` and nothing else.
#[derive(Serialize)]
struct Value<'r> {
    auths: BTreeMap<String, Entry<'r>>,
}

#[derive(Serialize)]
struct Entry<'r> {
    auth: BasicAuth<'r>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::basic;

    // Checked by hand against FORMATS.md §20 (docker/cli parseEnvConfig's minimal form).
    #[test]
    fn one_line_of_auths_with_auth_only() {
        let files = GitlabDockerAuthConfig
            .build(
                &Options::none(),
                &[
                    basic("docker.io", "octocat", "pw"),
                    basic("registry.example.com:5000/team", "john", "x"),
                ],
                None,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(files[0].bytes.clone()).unwrap(),
            "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"b2N0b2NhdDpwdw==\"},\"registry.example.com:5000\":{\"auth\":\"am9objp4\"}}}\n"
        );
    }
}
