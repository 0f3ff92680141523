//! A registry's mirrors, CA, client certificate and skip_verify: how they are validated, and
//! what a document that has no place for them says.

use std::path::Path;

use crate::errors::{assert_error, render_bad};
use crate::registry_server::self_signed;
use crate::support::{regforge, text};

const KEY_SECRET_LINE: &str = "-----BEGIN PRIVATE KEY-----";

#[test]
fn mirrors_are_urls_with_a_scheme_and_no_password() {
    assert_error(
        "registries:\n  - address: docker.io\n    mirrors: [mirror.example.com]\n",
        "3:15",
        "registries[0].mirrors[0]: a mirror is a URL with its scheme, e.g. https://mirror.example.com:5000",
    );
    assert_error(
        "registries:\n  - address: docker.io\n    mirrors: ['https://m.io', 'https://m.io/']\n",
        "3:31",
        "registries[0].mirrors[1]: mirror https://m.io is listed twice",
    );
    assert_error(
        "registries:\n  - address: docker.io\n    mirrors: ['https://index.docker.io']\n",
        "3:15",
        "registries[0].mirrors[0]: a registry is not its own mirror",
    );
    let inventory =
        "registries:\n  - address: docker.io\n    mirrors: ['https://bob:hunter2@m.io']\n";
    let stderr = render_bad(inventory);
    assert!(
        stderr.contains(
            "regforge.yaml:3:15: registries[0].mirrors[0]: a mirror URL carries no user or password"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn tls_files_are_file_references_given_in_pairs() {
    assert_error(
        "registries:\n  - address: r.io\n    ca: {env: CA}\n",
        "3:9",
        "registries[0].ca: write ca: {file: PATH}, a PEM file whose bytes are placed on nodes as they are",
    );
    assert_error(
        "registries:\n  - address: r.io\n    client_key: {file: key.pem}\n",
        "3:17",
        "registries[0].client_key: give client_cert beside client_key",
    );
    assert_error(
        "registries:\n  - address: r.io\n    client_cert: {file: cert.pem}\n",
        "3:18",
        "registries[0].client_cert: give client_key beside client_cert",
    );
}

#[test]
fn a_registry_must_bring_something() {
    assert_error(
        "registries:\n  - address: r.io\n",
        "2:5",
        "registries[0]: the registry brings nothing: give username and password (or identity_token), or helper; or mirrors, ca or client_cert and client_key",
    );
}

/// An inventory beside a CA and a client pair made by openssl, rendering `targets`.
fn with_tls(dir: &Path, targets: &str) -> String {
    self_signed(dir, "/CN=regforge-test-ca", "ca.key", "ca.pem");
    self_signed(dir, "/CN=node", "node.key", "node.pem");
    let inventory = format!(
        "registries:
  - address: docker.io
    mirrors: ['https://mirror.internal:5000']
  - address: mirror.internal:5000
    username: alice
    password: {{env: PW}}
    ca: {{file: ca.pem}}
    client_cert: {{file: node.pem}}
    client_key: {{file: node.key}}
targets:
{targets}"
    );
    std::fs::write(dir.join("regforge.yaml"), &inventory).unwrap();
    inventory
}

fn render(dir: &Path, args: &[&str]) -> std::process::Output {
    let inventory = dir.join("regforge.yaml");
    let mut all = vec!["-i", inventory.to_str().unwrap(), "render"];
    all.extend(args);
    regforge(&all, &[("PW", "pw-of-alice")], None)
}

#[test]
fn a_document_without_a_place_for_mirrors_or_tls_warns_and_writes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    with_tls(dir.path(), "  - {name: config, format: docker-config}\n");
    let out = render(dir.path(), &["config", "--stdout"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The mirror-only registry has no entry; the mirror's credential has its own.
    assert_eq!(
        text(&out.stdout),
        "{\n\t\"auths\": {\n\t\t\"mirror.internal:5000\": {\n\t\t\t\"auth\": \"YWxpY2U6cHctb2YtYWxpY2U=\"\n\t\t}\n\t}\n}\n"
    );
    // Once per document and registry, at the target, naming what is left out.
    assert_eq!(stderr.matches("warning:").count(), 2, "{stderr}");
    assert!(
        stderr.contains("regforge.yaml:11:28: targets[0].format: docker-config has no place for the mirrors of registry docker.io and leaves them out;"),
        "{stderr}"
    );
    assert!(
        stderr.contains("docker-config has no place for the CA and client certificate of registry mirror.internal:5000 and leaves them out;"),
        "{stderr}"
    );
}

#[test]
fn tls_files_must_hold_what_their_key_says() {
    let dir = tempfile::tempdir().unwrap();
    with_tls(dir.path(), "  - {name: config, format: docker-config}\n");
    // The key where the CA belongs, and the other way round: the key's text is never shown.
    let swapped = std::fs::read_to_string(dir.path().join("regforge.yaml"))
        .unwrap()
        .replace("ca: {file: ca.pem}", "ca: {file: node.key}");
    std::fs::write(dir.path().join("regforge.yaml"), swapped).unwrap();
    let out = render(dir.path(), &["config", "--stdout"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("regforge.yaml:7:9: registries[1].ca: ")
            && stderr.contains("node.key does not hold PEM certificates"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY_SECRET_LINE), "{stderr}");
    let swapped = std::fs::read_to_string(dir.path().join("regforge.yaml"))
        .unwrap()
        .replace("ca: {file: node.key}", "ca: {file: ca.pem}")
        .replace(
            "client_key: {file: node.key}",
            "client_key: {file: node.pem}",
        );
    std::fs::write(dir.path().join("regforge.yaml"), swapped).unwrap();
    let out = render(dir.path(), &["config", "--stdout"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("registries[1].client_key: ")
            && stderr.contains("node.pem does not hold a PEM private key"),
        "{stderr}"
    );
}

#[test]
fn skip_verify_warns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:\n  - address: r.io\n    username: u\n    password: {env: PW}\n    skip_verify: true\ntargets:\n  - {name: c, format: docker-config}\n",
    )
    .unwrap();
    let out = render(dir.path(), &["c", "--stdout"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("regforge.yaml:5:18: registries[0].skip_verify: consumers will not verify this registry's certificate"),
        "{stderr}"
    );
}
