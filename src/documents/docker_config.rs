//! `docker-config`: `~/.docker/config.json` as the docker CLI reads it (FORMATS.md §1).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{basic_auth, keyed, to_json};
use crate::credentials::{Credential, RegistryCredential};

#[derive(Serialize)]
struct ConfigFile {
    // Always present, as docker writes it: an empty map still tells docker there is a config.
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credHelpers", skip_serializing_if = "BTreeMap::is_empty")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct AuthEntry {
    auth: String,
}

pub fn build(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    // One key space for both maps: docker prefers a helper and drops the inline entry.
    keyed(registries, |r| r.address.docker_key(), |_| Ok(()))?;
    let (helpers, inline): (Vec<_>, Vec<_>) = registries
        .iter()
        .cloned()
        .partition(|r| matches!(r.credential, Credential::Helper { .. }));
    let auths = keyed(
        &inline,
        |r| r.address.docker_key(),
        |r| match &r.credential {
            Credential::Basic { username, password } => Ok(AuthEntry {
                auth: basic_auth(username, password.expose()),
            }),
            Credential::Helper { .. } => unreachable!("helpers were partitioned out"),
        },
    )?;
    let cred_helpers = keyed(
        &helpers,
        |r| r.address.docker_key(),
        |r| match &r.credential {
            Credential::Helper { helper } => Ok(helper.clone()),
            Credential::Basic { .. } => unreachable!("basic credentials were partitioned out"),
        },
    )?;
    Ok(to_json(&ConfigFile {
        auths,
        cred_helpers,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper};

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
