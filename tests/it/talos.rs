//! Talos: no talosctl installs from a package registry here, so the patch is read back
//! strictly with the structure of siderolabs/talos `pkg/machinery/config/types/v1alpha1`
//! (`RegistriesConfig`, before 1.12) and `pkg/machinery/config/types/cri` (the
//! Registry*Config documents, 1.12 on), as FORMATS.md §16 records them.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use crate::support::{NODE_ENV, node_inventory, render_stdout};

/// Renders a `talos` target of `version` from `support::node_inventory`.
fn render(dir: &Path, version: &str) -> String {
    let targets = format!("  - name: patch\n    format: talos\n    version: \"{version}\"\n");
    let inventory = node_inventory(dir, &targets);
    render_stdout(&inventory, "patch", &NODE_ENV)
}

fn pem(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

// v1alpha1 RegistriesConfig: mirrors by registry name, config by endpoint host.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    machine: Machine,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Machine {
    registries: Registries,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registries {
    mirrors: BTreeMap<String, Mirror>,
    config: BTreeMap<String, Config>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mirror {
    endpoints: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    auth: Option<Auth>,
    tls: Option<LegacyTls>,
}

/// RegistryAuthConfig in both forms: `identityToken`, never beside a username.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Auth {
    username: Option<String>,
    password: Option<String>,
    identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LegacyTls {
    ca: Option<String>,
    client_identity: Option<LegacyIdentity>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

/// The legacy client identity: `crt` and `key`, each base64 of PEM.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyIdentity {
    crt: String,
    key: String,
}

#[test]
fn before_1_12_the_patch_sets_machine_registries_with_base64_pem() {
    let dir = tempfile::tempdir().unwrap();
    let text = render(dir.path(), "1.11.0");
    let patch: Patch = serde_yaml::from_str(&text).unwrap();
    let registries = patch.machine.registries;
    assert_eq!(
        registries.mirrors["docker.io"].endpoints,
        ["https://mirror.example.com:5000"]
    );
    // Hub under registry-1.docker.io: what Talos before 1.9.6 / 1.10.0 needs, and
    // later versions map docker.io to anyway.
    assert!(!registries.config.contains_key("docker.io"));
    let hub = registries.config["registry-1.docker.io"]
        .auth
        .as_ref()
        .unwrap();
    assert_eq!(hub.password.as_deref(), Some("hub-pw"));
    assert_eq!(
        registries.config["example.azurecr.io"].auth,
        Some(Auth {
            username: None,
            password: None,
            identity_token: Some("acr-token".into()),
        })
    );
    let mirror = &registries.config["mirror.example.com:5000"];
    assert_eq!(
        mirror.auth.as_ref().unwrap().username.as_deref(),
        Some("alice")
    );
    let tls = mirror.tls.as_ref().unwrap();
    assert!(!tls.insecure_skip_verify);
    let decode = |b64: &str| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(decode(tls.ca.as_ref().unwrap()), pem(dir.path(), "ca.pem"));
    let identity = tls.client_identity.as_ref().unwrap();
    assert_eq!(decode(&identity.crt), pem(dir.path(), "node.pem"));
    assert_eq!(decode(&identity.key), pem(dir.path(), "node.key"));
}

/// One document of the 1.12 multi-document form, by its `kind` (spelled as Talos does).
#[derive(Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[allow(clippy::enum_variant_names)]
enum Document {
    RegistryMirrorConfig {
        #[serde(rename = "apiVersion")]
        api_version: String,
        name: String,
        endpoints: Vec<Endpoint>,
    },
    RegistryAuthConfig {
        #[serde(rename = "apiVersion")]
        api_version: String,
        name: String,
        username: Option<String>,
        password: Option<String>,
        #[serde(rename = "identityToken")]
        identity_token: Option<String>,
    },
    RegistryTLSConfig {
        #[serde(rename = "apiVersion")]
        api_version: String,
        name: String,
        ca: Option<String>,
        #[serde(rename = "clientIdentity")]
        client_identity: Option<Identity>,
        #[serde(rename = "insecureSkipVerify", default)]
        insecure_skip_verify: bool,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    url: String,
}

/// The 1.12 client identity: `cert` and `key`, plain PEM.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    cert: String,
    key: String,
}

#[test]
fn from_1_12_the_patch_is_registry_documents_with_plain_pem() {
    let dir = tempfile::tempdir().unwrap();
    let text = render(dir.path(), "1.12.0");
    let documents: Vec<Document> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| Document::deserialize(d).unwrap())
        .collect();
    let (mut mirrors, mut auths, mut tls) = (Vec::new(), BTreeMap::new(), Vec::new());
    for document in documents {
        match document {
            Document::RegistryMirrorConfig {
                api_version,
                name,
                endpoints,
            } => {
                assert_eq!(api_version, "v1alpha1");
                mirrors.push((
                    name,
                    endpoints.into_iter().map(|e| e.url).collect::<Vec<_>>(),
                ));
            }
            Document::RegistryAuthConfig {
                api_version,
                name,
                username,
                password,
                identity_token,
            } => {
                assert_eq!(api_version, "v1alpha1");
                // Talos's validation refuses a token beside a username or password.
                assert!(identity_token.is_none() || (username.is_none() && password.is_none()));
                auths.insert(name, (username, password, identity_token));
            }
            Document::RegistryTLSConfig {
                api_version,
                name,
                ca,
                client_identity,
                insecure_skip_verify,
            } => {
                assert_eq!(api_version, "v1alpha1");
                assert!(!insecure_skip_verify);
                tls.push((name, ca, client_identity));
            }
        }
    }
    assert_eq!(
        mirrors,
        [(
            "docker.io".to_string(),
            vec!["https://mirror.example.com:5000".to_string()]
        )]
    );
    assert_eq!(
        auths.keys().collect::<Vec<_>>(),
        [
            "example.azurecr.io",
            "mirror.example.com:5000",
            "registry-1.docker.io"
        ]
    );
    assert_eq!(
        auths["example.azurecr.io"],
        (None, None, Some("acr-token".to_string()))
    );
    let [(name, ca, identity)] = &tls[..] else {
        panic!("one TLS document expected:\n{text}");
    };
    assert_eq!(name, "mirror.example.com:5000");
    assert_eq!(ca.as_deref(), Some(pem(dir.path(), "ca.pem").as_str()));
    let identity = identity.as_ref().unwrap();
    assert_eq!(identity.cert, pem(dir.path(), "node.pem"));
    assert_eq!(identity.key, pem(dir.path(), "node.key"));
}
