//! k3s and RKE2: no k3s installs from a package registry here, so `registries.yaml` is read
//! back with the structure of rancher/wharfie `pkg/registries/types.go` (FORMATS.md §15),
//! strictly, and the files it names are checked to be placed by the same target.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::support::{NODE_ENV, node_inventory, render_stdout};

/// wharfie's `Registry`: `mirrors` by registry name, `configs` by endpoint host.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Registries {
    #[serde(default)]
    mirrors: BTreeMap<String, Mirror>,
    #[serde(default)]
    configs: BTreeMap<String, Config>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Mirror {
    endpoint: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Config {
    auth: Option<Auth>,
    tls: Option<Tls>,
}

/// wharfie's `AuthConfig` yaml tags: `identity_token`, with an underscore.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Auth {
    username: Option<String>,
    password: Option<String>,
    identity_token: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Tls {
    ca_file: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

/// The files a cloud-config places, by path.
fn placed(cloud_config: &str) -> BTreeMap<String, String> {
    let config: serde_yaml::Value = serde_yaml::from_str(cloud_config).unwrap();
    config["write_files"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["encoding"].is_null(), "{f:?}");
            (
                f["path"].as_str().unwrap().to_string(),
                f["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn render(dir: &Path, document: &str) -> BTreeMap<String, String> {
    let targets = format!(
        "  - name: node\n    format: cloud-config\n    files:\n      - document: {document}\n"
    );
    let inventory = node_inventory(dir, &targets);
    placed(&render_stdout(&inventory, "node", &NODE_ENV))
}

#[test]
fn k3s_registries_key_mirrors_by_name_and_credentials_by_endpoint_host() {
    let dir = tempfile::tempdir().unwrap();
    let files = render(dir.path(), "k3s-registries");
    let yaml = &files["/etc/rancher/k3s/registries.yaml"];
    let read: Registries = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(
        read.mirrors["docker.io"].endpoint,
        ["https://mirror.example.com:5000"]
    );
    // Hub's login under registry-1.docker.io: k3s before the July 2025 releases finds
    // no `docker.io` key (k3s#12561).
    assert!(!read.configs.contains_key("docker.io"), "{yaml}");
    let hub = read.configs["registry-1.docker.io"].auth.as_ref().unwrap();
    assert_eq!(hub.password.as_deref(), Some("hub-pw"));
    // The mirror's login and TLS under the mirror's host:port (k3s#3937).
    let mirror = &read.configs["mirror.example.com:5000"];
    assert_eq!(
        mirror.auth.as_ref().unwrap().password.as_deref(),
        Some("mirror-pw")
    );
    // The token alone, under `identity_token`.
    assert_eq!(
        read.configs["example.azurecr.io"].auth,
        Some(Auth {
            username: None,
            password: None,
            identity_token: Some("acr-token".into()),
        })
    );
    assert!(!yaml.contains("identitytoken"), "{yaml}");
    // Every TLS file it names is placed by the same target, with the inventory's bytes.
    let tls = mirror.tls.as_ref().unwrap();
    assert!(!tls.insecure_skip_verify);
    for (named, source) in [
        (&tls.ca_file, "ca.pem"),
        (&tls.cert_file, "node.pem"),
        (&tls.key_file, "node.key"),
    ] {
        let named = named.as_ref().unwrap();
        assert!(named.starts_with("/etc/rancher/k3s/"), "{named}");
        assert_eq!(
            files.get(named),
            Some(&std::fs::read_to_string(dir.path().join(source)).unwrap()),
            "{named}"
        );
    }
}

#[test]
fn rke2_registries_live_in_rke2s_folder() {
    let dir = tempfile::tempdir().unwrap();
    let files = render(dir.path(), "rke2-registries");
    let read: Registries =
        serde_yaml::from_str(&files["/etc/rancher/rke2/registries.yaml"]).unwrap();
    let ca = read.configs["mirror.example.com:5000"]
        .tls
        .as_ref()
        .unwrap()
        .ca_file
        .clone()
        .unwrap();
    assert_eq!(
        ca,
        "/etc/rancher/rke2/registry-certs/mirror.example.com:5000/ca.crt"
    );
    assert!(files.contains_key(&ca));
}
