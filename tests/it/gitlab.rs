//! GitLab's `DOCKER_AUTH_CONFIG`: no GitLab Runner nor docker CLI ≥ 28.3 installs here, so the
//! value is read back with the rules of docker/cli `cli/config/configfile/file.go`
//! (`parseEnvConfig`: one JSON object, unknown fields refused, `auth` required, exact key
//! lookup) and gitlab-runner `helpers/docker/auth/auth.go` (Hub normalised to docker.io).

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;

use crate::support::{regforge_in, text};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvConfig {
    auths: BTreeMap<String, EnvAuth>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvAuth {
    auth: String,
}

#[test]
fn the_variable_is_the_minimal_form_the_docker_cli_accepts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:\n  - {address: docker.io, username: octocat, password: {env: PW}, email: o@example.com}\n  - {address: registry.example.com:5000, username: john, password: {env: PW}}\ntargets:\n  - {name: ci, format: gitlab-docker-auth-config}\n",
    )
    .unwrap();
    let out = regforge_in(
        dir.path(),
        &["document", "gitlab-docker-auth-config"],
        &[("PW", "p:w")],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let value = text(&out.stdout);
    // One line; exactly one JSON object.
    assert_eq!(value.lines().count(), 1);
    let objects: Vec<EnvConfig> = serde_json::Deserializer::from_str(&value)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let [config] = &objects[..] else {
        panic!("{value}")
    };
    let login = |key: &str| {
        let auth = &config.auths[key].auth;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(auth)
                .unwrap(),
        )
        .unwrap()
    };
    // The docker CLI looks Hub up exactly under the v1 index URL; GitLab Runner
    // normalises that key to docker.io, which its Hub lookups use.
    assert_eq!(login("https://index.docker.io/v1/"), "octocat:p:w");
    assert_eq!(login("registry.example.com:5000"), "john:p:w");
    assert!(!value.contains("email") && !value.contains("registry-1.docker.io"));
    // A helper registry cannot be written in the minimal form.
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:\n  - {address: 012345678910.dkr.ecr.us-east-1.amazonaws.com, helper: ecr-login}\ntargets:\n  - {name: ci, format: gitlab-docker-auth-config}\n",
    )
    .unwrap();
    let out = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("targets[0].format: gitlab-docker-auth-config: registry 012345678910.dkr.ecr.us-east-1.amazonaws.com has no username and password"),
        "{}",
        text(&out.stderr)
    );
}
