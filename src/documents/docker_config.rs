//! `docker-config`: `~/.docker/config.json` as the docker CLI reads it (FORMATS.md §1), and the
//! `auths` + `credHelpers` layout that containers `auth.json` shares with it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{BasicAuth, DocFile, Kind, Options, basic_auth, keyed, to_json};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;

pub struct DockerConfig;

impl Kind for DockerConfig {
    fn name(&self) -> &'static str {
        "docker-config"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Passwords and tokens in JSON strings; `auth` is base64 of `user:password`.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Json, Encoding::Base64]
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
pub(super) struct ConfigFile<'r> {
    // Always present, as docker writes it: an empty map still tells docker there is a config.
    auths: BTreeMap<String, AuthEntry<'r>>,
    #[serde(rename = "credHelpers", skip_serializing_if = "BTreeMap::is_empty")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct AuthEntry<'r> {
    // Every consumer reads `auth`; podman, Mesos and Drone read nothing else.
    auth: BasicAuth<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identitytoken: Option<&'r str>,
}

pub(super) fn build(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    Ok(to_json(&config_file(registries, |r| {
        r.address.docker_key()
    })?))
}

/// Inline credentials under `auths`, helpers under `credHelpers`, in one key space: a
/// consumer prefers the helper and drops an inline entry on the same key.
pub(super) fn config_file<'r>(
    registries: &'r [RegistryCredential],
    key: impl Fn(&RegistryCredential) -> String,
) -> Result<ConfigFile<'r>, String> {
    keyed(registries, &key, |_| Ok(()))?;
    let mut file = ConfigFile {
        auths: BTreeMap::new(),
        cred_helpers: BTreeMap::new(),
    };
    for r in registries {
        match &r.credential {
            Some(Credential::Basic { username, password }) => {
                file.auths.insert(
                    key(r),
                    AuthEntry {
                        auth: basic_auth(username, password.expose()),
                        identitytoken: None,
                    },
                );
            }
            // docker stores token logins as `user:` plus the token (FORMATS.md §1).
            Some(Credential::Token {
                username,
                identity_token,
            }) => {
                file.auths.insert(
                    key(r),
                    AuthEntry {
                        auth: basic_auth(username, ""),
                        identitytoken: Some(identity_token.expose()),
                    },
                );
            }
            Some(Credential::Helper { helper, .. }) => {
                file.cred_helpers.insert(key(r), helper.clone());
            }
            // Only mirrors or TLS: nothing of it belongs in a docker config.
            None => {}
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper, token};

    #[test]
    fn docker_layout_with_hub_key_and_helpers() {
        let doc = build(&[
            basic("quay.io", "myapp+deployment", "pw"),
            basic("docker.io", "alice", "p:ss w"),
            helper("012345678910.dkr.ecr.us-east-1.amazonaws.com", "ecr-login"),
        ])
        .unwrap();
        let want = "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"YWxpY2U6cDpzcyB3\"\n\t\t},\n\t\t\"quay.io\": {\n\t\t\t\"auth\": \"bXlhcHArZGVwbG95bWVudDpwdw==\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"012345678910.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"\n\t}\n}\n";
        assert_eq!(String::from_utf8(doc).unwrap(), want);
    }

    #[test]
    fn identity_token_is_written_with_an_empty_password_auth() {
        let doc = build(&[token(
            "myreg.azurecr.io",
            "00000000-0000-0000-0000-000000000000",
            "eyJ.tok",
        )])
        .unwrap();
        // `printf %s '00000000-0000-0000-0000-000000000000:' | base64`
        let want = "{\n\t\"auths\": {\n\t\t\"myreg.azurecr.io\": {\n\t\t\t\"auth\": \"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==\",\n\t\t\t\"identitytoken\": \"eyJ.tok\"\n\t\t}\n\t}\n}\n";
        assert_eq!(String::from_utf8(doc).unwrap(), want);
    }

    #[test]
    fn only_helpers_still_writes_auths() {
        let doc = build(&[helper("gcr.io", "gcr")]).unwrap();
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            "{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcr\"\n\t}\n}\n"
        );
    }

    proptest::proptest! {
        /// Whatever the password, docker's decoding (base64, split at the first `:`) gives it back.
        #[test]
        fn auth_round_trips(user in "[^:]{1,20}", password in any_password()) {
            let doc = build(&[basic("quay.io", &user, &password)]).unwrap();
            let json: serde_json::Value = serde_json::from_slice(&doc).unwrap();
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(json["auths"]["quay.io"]["auth"].as_str().unwrap())
                .unwrap();
            let text = String::from_utf8(decoded).unwrap();
            let (u, p) = text.split_once(':').unwrap();
            proptest::prop_assert_eq!((u, p), (user.as_str(), password.as_str()));
        }
    }

    fn any_password() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex(".{1,40}").unwrap()
    }

    #[test]
    fn two_registries_on_one_key_are_refused() {
        let err = build(&[basic("quay.io/a", "a", "1"), basic("quay.io/b", "b", "2")]).unwrap_err();
        assert!(
            err.contains("quay.io/a and quay.io/b both need the key quay.io"),
            "{err}"
        );
        let err = build(&[
            basic("docker.io", "a", "1"),
            helper("index.docker.io", "desktop"),
        ])
        .unwrap_err();
        assert!(err.contains("https://index.docker.io/v1/"), "{err}");
    }
}
