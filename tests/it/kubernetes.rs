//! Kubernetes Secrets judged by the kubectl on this machine: byte for byte for one registry,
//! envelope and payload for several, and the ServiceAccount through `kubectl patch --local`.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use serde_json::Value;

use crate::support::{regforge, require_tool, text};

/// One single-registry input: what goes into the inventory and onto kubectl's command line.
struct Case {
    name: &'static str,
    address: &'static str,
    /// `--docker-server`: what the address normalises to for docker consumers.
    server: &'static str,
    username: &'static str,
    password: &'static str,
    email: Option<&'static str>,
    namespace: Option<&'static str>,
}

const CASES: [Case; 9] = [
    Case {
        name: "regcred",
        address: "quay.io",
        server: "quay.io",
        username: "myapp+deployment",
        password: "robot-token",
        email: None,
        namespace: None,
    },
    Case {
        name: "with-email",
        address: "quay.io",
        server: "quay.io",
        username: "alice",
        password: "pw",
        email: Some("alice@example.com"),
        namespace: None,
    },
    Case {
        name: "with-namespace",
        address: "quay.io",
        server: "quay.io",
        username: "alice",
        password: "pw",
        email: None,
        namespace: Some("apps"),
    },
    Case {
        name: "hub",
        address: "docker.io",
        server: "https://index.docker.io/v1/",
        username: "octocat",
        password: "p:ss w",
        email: Some("o@example.com"),
        namespace: None,
    },
    Case {
        name: "host-port",
        address: "registry.example.com:5000",
        server: "registry.example.com:5000",
        username: "johndoe",
        password: "pw",
        email: None,
        namespace: Some("kube-system"),
    },
    Case {
        name: "html-escapes",
        address: "quay.io",
        server: "quay.io",
        username: "u",
        password: "<&>\"\\ 'x'",
        email: Some("a<b>&c@example.com"),
        namespace: None,
    },
    Case {
        name: "non-ascii",
        address: "ghcr.io",
        server: "ghcr.io",
        username: "jöhn",
        password: "pässwörd 密码 \u{2028}\u{2029} 😀",
        email: None,
        namespace: None,
    },
    Case {
        name: "robot-everything",
        address: "quay.io",
        server: "quay.io",
        username: "myorg+deploy_robot",
        password: "A1/b2+C3=",
        email: Some("robots@example.com"),
        namespace: Some("ci"),
    },
    Case {
        name: "123",
        address: "index.docker.io",
        server: "https://index.docker.io/v1/",
        username: "n",
        password: "0123",
        email: None,
        namespace: None,
    },
];

fn kubectl(args: &[&str]) -> Vec<u8> {
    let kubectl = require_tool("kubectl", "kubernetes-client");
    let out = Command::new(kubectl).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        text(&out.stderr)
    );
    out.stdout
}

/// Renders `inventory` (its password from $PW) and returns the target's bytes.
fn render(dir: &Path, inventory: &str, target: &str, password: &str) -> Vec<u8> {
    let path = dir.join("regforge.yaml");
    std::fs::write(&path, inventory).unwrap();
    let out = regforge(
        &["-i", path.to_str().unwrap(), "render", target, "--stdout"],
        &[("PW", password)],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

fn payload(secret_yaml: &[u8], key: &str) -> Vec<u8> {
    let doc: serde_yaml::Value = serde_yaml::from_slice(secret_yaml).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(doc["data"][key].as_str().unwrap())
        .unwrap()
}

#[test]
fn one_registry_secrets_equal_kubectl_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for case in &CASES {
        let mut registry = format!(
            "  - address: {}\n    username: {}\n    password: {{env: PW}}\n",
            case.address,
            regforge::yaml::double_quoted(case.username)
        );
        if let Some(email) = case.email {
            registry.push_str(&format!(
                "    email: {}\n",
                regforge::yaml::double_quoted(email)
            ));
        }
        let namespace = case
            .namespace
            .map(|ns| format!(", namespace: {ns}"))
            .unwrap_or_default();
        let inventory = format!(
            "registries:\n{registry}targets:\n  - name: s\n    format: kubernetes-secret\n    secret: {{name: \"{}\"{namespace}}}\n",
            case.name
        );
        let ours = render(dir.path(), &inventory, "s", case.password);
        let server = format!("--docker-server={}", case.server);
        let user = format!("--docker-username={}", case.username);
        let pass = format!("--docker-password={}", case.password);
        let mut args = vec![
            "create",
            "secret",
            "docker-registry",
            case.name,
            &server,
            &user,
            &pass,
        ];
        let email = case.email.map(|e| format!("--docker-email={e}"));
        if let Some(email) = &email {
            args.push(email);
        }
        if let Some(ns) = case.namespace {
            args.extend(["-n", ns]);
        }
        args.extend(["--dry-run=client", "-o", "yaml"]);
        let theirs = kubectl(&args);
        assert_eq!(text(&ours), text(&theirs), "case {}", case.name);
    }
}

#[test]
fn several_registries_legacy_type_and_service_account_match_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = "registries:\n  - {address: quay.io, username: a+robot, password: {env: PW}}\n  - {address: docker.io, username: octocat, password: {env: PW}, email: o@example.com}\n  - {address: registry.example.com:5000, username: johndoe, password: {env: PW}}\ntargets:\n  - name: all\n    format: kubernetes-secret\n    secret: {name: regcred, namespace: apps}\n  - name: legacy\n    format: kubernetes-secret\n    secret: {name: regcred, type: dockercfg}\n  - name: with-sa\n    format: kubernetes-secret\n    secret: {name: regcred, namespace: apps, service_account: builder}\n";
    let password = "pw<&>";
    // The payload holds exactly what kubectl writes for each registry alone.
    let all = render(dir.path(), inventory, "all", password);
    let mut merged = serde_json::Map::new();
    for (server, user, email) in [
        ("quay.io", "a+robot", None),
        (
            "https://index.docker.io/v1/",
            "octocat",
            Some("o@example.com"),
        ),
        ("registry.example.com:5000", "johndoe", None),
    ] {
        let (server, user, pass) = (
            format!("--docker-server={server}"),
            format!("--docker-username={user}"),
            format!("--docker-password={password}"),
        );
        let mut args = vec![
            "create",
            "secret",
            "docker-registry",
            "x",
            &server,
            &user,
            &pass,
        ];
        let email = email.map(|e| format!("--docker-email={e}"));
        if let Some(e) = &email {
            args.push(e);
        }
        args.extend(["--dry-run=client", "-o", "yaml"]);
        let single: Value =
            serde_json::from_slice(&payload(&kubectl(&args), ".dockerconfigjson")).unwrap();
        merged.extend(single["auths"].as_object().unwrap().clone());
    }
    let ours_payload = payload(&all, ".dockerconfigjson");
    let ours: Value = serde_json::from_slice(&ours_payload).unwrap();
    assert_eq!(ours, serde_json::json!({ "auths": merged }));
    // And the envelope is kubectl's for that payload.
    let file = dir.path().join("payload");
    std::fs::write(&file, &ours_payload).unwrap();
    let from_file = format!(".dockerconfigjson={}", file.display());
    let theirs = kubectl(&[
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--from-file",
        &from_file,
        "-n",
        "apps",
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    assert_eq!(text(&all), text(&theirs));

    // The legacy type: the bare map under .dockercfg.
    let legacy = render(dir.path(), inventory, "legacy", password);
    let legacy_payload = payload(&legacy, ".dockercfg");
    let map: Value = serde_json::from_slice(&legacy_payload).unwrap();
    assert_eq!(map, Value::Object(merged));
    std::fs::write(&file, &legacy_payload).unwrap();
    let from_file = format!(".dockercfg={}", file.display());
    let theirs = kubectl(&[
        "create",
        "secret",
        "generic",
        "regcred",
        "--type=kubernetes.io/dockercfg",
        "--from-file",
        &from_file,
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    assert_eq!(text(&legacy), text(&theirs));

    // The ServiceAccount: kubectl's own, given the imagePullSecrets.
    let with_sa = text(&render(dir.path(), inventory, "with-sa", password));
    let (secret, account) = with_sa.split_once("---\n").expect("two YAML documents");
    assert_eq!(secret, text(&all));
    let sa_file = dir.path().join("sa.yaml");
    std::fs::write(
        &sa_file,
        kubectl(&[
            "create",
            "serviceaccount",
            "builder",
            "-n",
            "apps",
            "--dry-run=client",
            "-o",
            "yaml",
        ]),
    )
    .unwrap();
    let theirs = kubectl(&[
        "patch",
        "--local",
        "-f",
        sa_file.to_str().unwrap(),
        "--type=merge",
        "-p",
        r#"{"imagePullSecrets":[{"name":"regcred"}]}"#,
        "-o",
        "yaml",
    ]);
    assert_eq!(account, text(&theirs));
}

#[test]
fn helpers_and_tokens_cannot_go_into_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regforge.yaml");
    std::fs::write(&path, "registries:\n  - {address: gcr.io, helper: gcr}\ntargets:\n  - {name: s, format: kubernetes-secret}\n").unwrap();
    let out = regforge(
        &["-i", path.to_str().unwrap(), "render", "--stdout"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("regforge.yaml:4:23: targets[0].format: kubernetes-secret: registry gcr.io has no username and password; kubelet reads neither credential helpers nor identity tokens"), "{}", text(&out.stderr));
}

/// `namespaces:`: one YAML stream with, per namespace, the Secret kubectl prints for
/// `docker-registry … -n NAMESPACE` (byte for byte, from the same docker-registry flags)
/// and kubectl's ServiceAccount with the Secret in `imagePullSecrets`.
#[test]
fn a_secret_and_its_service_account_in_every_namespace_match_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = "registries:\n  - {address: registry.example.com:5000, username: johndoe, password: {env: PW}}\ntargets:\n  - name: pull\n    format: kubernetes-secret\n    secret: {name: regcred, namespaces: [team-a, team-b, team-c], service_account: default}\n";
    let password = "pw<&>\"x";
    let stream = text(&render(dir.path(), inventory, "pull", password));
    let objects: Vec<&str> = stream.split("---\n").collect();
    assert_eq!(objects.len(), 6, "{stream}");
    let pass = format!("--docker-password={password}");
    for (i, ns) in ["team-a", "team-b", "team-c"].into_iter().enumerate() {
        let secret = kubectl(&[
            "create",
            "secret",
            "docker-registry",
            "regcred",
            "--docker-server=registry.example.com:5000",
            "--docker-username=johndoe",
            &pass,
            "-n",
            ns,
            "--dry-run=client",
            "-o",
            "yaml",
        ]);
        assert_eq!(objects[2 * i], text(&secret), "the Secret in {ns}");
        let sa_file = dir.path().join("sa.yaml");
        std::fs::write(
            &sa_file,
            kubectl(&[
                "create",
                "serviceaccount",
                "default",
                "-n",
                ns,
                "--dry-run=client",
                "-o",
                "yaml",
            ]),
        )
        .unwrap();
        let account = kubectl(&[
            "patch",
            "--local",
            "-f",
            sa_file.to_str().unwrap(),
            "--type=merge",
            "-p",
            r#"{"imagePullSecrets":[{"name":"regcred"}]}"#,
            "-o",
            "yaml",
        ]);
        assert_eq!(
            objects[2 * i + 1],
            text(&account),
            "the ServiceAccount in {ns}"
        );
    }
}
