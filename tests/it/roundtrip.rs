//! Round trips: generated usernames and passwords (quotes, backslashes, control
//! characters, `: `, `#`, `{{ }}`, `%`, YAML and TOML indicators, spaces at the ends,
//! any Unicode) through every document and provisioning format, rendered in process and
//! read back the way each consumer reads it. Placed files are read back by regforge's own
//! verify stage, which compares every byte.
//!
//! `REGFORGE_PROPTEST_CASES` sets the number of cases (CI: the default below; a long run:
//! `REGFORGE_PROPTEST_CASES=100000 cargo test --release --test it roundtrip`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use base64::Engine;
use proptest::prelude::*;
use serde_json::Value;

const KEY: &str = "registry.example.com:5000";

fn cases() -> u32 {
    std::env::var("REGFORGE_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// Every document that carries a password, alone and placed by each provisioning format.
fn inventory(username: &str) -> String {
    // A JSON string is a YAML double-quoted scalar.
    let user = serde_json::to_string(username).unwrap();
    let placed = "    files:\n      - {document: docker-config, path: /root/.docker/config.json}\n      - {document: drone-registry, path: /etc/drone/registries.yaml}\n      - {document: containerd-config}\n      - {document: k3s-registries}\n      - document: kubernetes-secret\n        path: /etc/kubernetes/regcred.yaml\n        secret: {name: regcred}\n";
    format!(
        "registries:
  - address: {KEY}
    username: {user}
    password: {{env: PW}}
targets:
  - {{name: docker, format: docker-config}}
  - {{name: podman, format: containers-auth}}
  - {{name: legacy, format: dockercfg}}
  - {{name: secret, format: kubernetes-secret}}
  - {{name: drone, format: drone-registry}}
  - {{name: rkt, format: rkt-auth}}
  - {{name: containerd, format: containerd-config}}
  - {{name: k3s, format: k3s-registries}}
  - {{name: talos11, format: talos, version: \"1.11.0\"}}
  - {{name: talos12, format: talos, version: \"1.12.0\"}}
  - {{name: kubelet, format: kubelet-config}}
  - name: butane
    format: butane
    variant: fcos
    version: 1.5.0
{placed}  - name: ignition
    format: ignition
    variant: fcos
    version: 1.4.0
{placed}  - name: cloud
    format: cloud-config
{placed}"
    )
}

fn render(username: &str, password: &str) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let password = password.to_string();
    let env = move |name: &str| (name == "PW").then(|| OsString::from(&password));
    regforge::render_text(Path::new("regforge.yaml"), &inventory(username), &env)
        .map(|files| files.into_iter().collect())
        .map_err(|e| e.to_string())
}

fn json(files: &BTreeMap<PathBuf, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(&files[Path::new(name)]).unwrap()
}

fn yaml(files: &BTreeMap<PathBuf, Vec<u8>>, name: &str) -> serde_yaml::Value {
    serde_yaml::from_slice(&files[Path::new(name)]).unwrap()
}

fn decode(b64: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

/// Checks every document's login as its consumer reads it.
fn read_back(files: &BTreeMap<PathBuf, Vec<u8>>, user: &str, password: &str) {
    let login = format!("{user}:{password}");
    // docker, podman, kubelet: `auth`, split at the first `:`.
    for name in ["docker.json", "podman.json", "kubelet.json"] {
        assert_eq!(
            decode(json(files, name)["auths"][KEY]["auth"].as_str().unwrap()),
            login,
            "{name}"
        );
    }
    // .dockercfg keys a registry by its v1 URL (FORMATS.md §1).
    let legacy = &json(files, "legacy.json")[format!("https://{KEY}/v1/")];
    assert_eq!(decode(legacy["auth"].as_str().unwrap()), login);
    // kubelet reads a pull Secret's payload: base64 of JSON.
    let secret = yaml(files, "secret.yaml");
    let payload: Value = serde_json::from_str(&decode(
        secret["data"][".dockerconfigjson"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(payload["auths"][KEY]["username"], user);
    assert_eq!(payload["auths"][KEY]["password"], password);
    let drone = yaml(files, "drone.yaml");
    assert_eq!(drone[0]["username"].as_str(), Some(user));
    assert_eq!(drone[0]["password"].as_str(), Some(password));
    let rkt = json(files, &format!("rkt/{KEY}.json"));
    assert_eq!(rkt["credentials"]["user"], user);
    assert_eq!(rkt["credentials"]["password"], password);
    let containerd: toml_edit::DocumentMut =
        std::str::from_utf8(&files[Path::new("containerd.toml")])
            .unwrap()
            .parse()
            .unwrap();
    let auth =
        &containerd["plugins"]["io.containerd.grpc.v1.cri"]["registry"]["configs"][KEY]["auth"];
    assert_eq!(auth["username"].as_str(), Some(user));
    assert_eq!(auth["password"].as_str(), Some(password));
    let k3s = yaml(files, "k3s.yaml");
    assert_eq!(
        k3s["configs"][KEY]["auth"]["password"].as_str(),
        Some(password)
    );
    let talos = yaml(files, "talos11.yaml");
    assert_eq!(
        talos["machine"]["registries"]["config"][KEY]["auth"]["password"].as_str(),
        Some(password)
    );
    let text = std::str::from_utf8(&files[Path::new("talos12.yaml")]).unwrap();
    let auth = serde_yaml::Deserializer::from_str(text)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .find(|d| d["kind"] == "RegistryAuthConfig")
        .unwrap();
    assert_eq!(auth["username"].as_str(), Some(user));
    assert_eq!(auth["password"].as_str(), Some(password));
}

use serde::Deserialize;

/// Characters that break naive quoting in one format or another.
fn tricky() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\"", "'", "\\", "\\\"", ": ", " #", "#", "{{", "}}", "{%", "%", "%25", "\t", "\n", "\r\n",
        "\u{7}", "\u{1b}", "- ", "? ", "! ", "& ", "* ", "|", ">", "[", "]", "{", "}", ",", "`",
        "@", "$", "=", "~", "null", "true", "0x1F", "1e3", "<", ">", "&", "\u{2028}", "é", "ß",
        "日本", "🦀", " ", "  ", "a", "Z", "9", "\u{feff}",
    ]);
    prop::collection::vec(pieces, 1..24).prop_map(|p| p.concat())
}

/// A password: tricky pieces or any characters but NUL (no process environment holds one).
fn password() -> impl Strategy<Value = String> {
    prop_oneof![tricky(), "[^\u{0}]{1,200}"]
}

/// A username: what the inventory accepts (non-empty, no `:`).
fn username() -> impl Strategy<Value = String> {
    prop_oneof![tricky(), "[^\u{0}:]{1,40}"]
        .prop_filter("no `:`", |u| !u.contains(':') && !u.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_document_and_format_carries_any_login(user in username(), password in password()) {
        let files = render(&user, &password);
        prop_assert!(files.is_ok(), "{:?}", files.as_ref().err());
        read_back(&files.unwrap(), &user, &password);
    }
}

#[test]
fn a_64_kib_password_goes_through_every_format() {
    let password: String = "p@ss: w#rd {{x}} %20 \"q\" \\ \u{7} é\n".repeat(64 * 1024 / 32);
    let files = render("robot$ci", &password).unwrap();
    read_back(&files, "robot$ci", &password);
}
