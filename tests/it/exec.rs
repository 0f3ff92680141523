//! `{exec: [program, …]}` secrets, with real programs the test writes: the output is the
//! secret, each argv runs once, failures show the program's stderr but never a secret,
//! and time and output are bounded.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{regforge_in, text};

/// Writes an executable shell script `name` in `dir`.
fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn inventory(dir: &Path, registries: &str) {
    std::fs::write(
        dir.join("regforge.yaml"),
        format!("registries:\n{registries}targets:\n  - {{name: config, format: docker-config}}\n"),
    )
    .unwrap();
}

fn render(dir: &Path) -> std::process::Output {
    regforge_in(dir, &["render", "config", "--stdout"], &[], None)
}

#[test]
fn the_programs_output_is_the_secret_and_each_argv_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    // Counts its runs in a file beside it; prints the password and a line break.
    script(
        dir.path(),
        "vault",
        "echo run >> \"$(dirname \"$0\")/runs\"\necho \"pw-for-$1\"",
    );
    inventory(
        dir.path(),
        "  - {address: quay.io, username: a, password: {exec: [./vault, shared]}}\n  - {address: ghcr.io, username: b, password: {exec: [./vault, shared]}}\n  - {address: docker.io, username: c, password: {exec: [./vault, hub], timeout: 5}}\n",
    );
    let out = render(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let auth = |key: &str| {
        use base64::Engine;
        let b64 = config["auths"][key]["auth"].as_str().unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    // One trailing line break is dropped.
    assert_eq!(auth("quay.io"), "a:pw-for-shared");
    assert_eq!(auth("ghcr.io"), "b:pw-for-shared");
    assert_eq!(auth("https://index.docker.io/v1/"), "c:pw-for-hub");
    // `./vault shared` ran once for both registries, `./vault hub` once.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("runs")).unwrap(),
        "run\nrun\n"
    );
}

#[test]
fn failures_name_the_field_and_program_and_show_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "fails",
        "echo 'permission denied for secret/harbor' >&2\nexit 3",
    );
    script(dir.path(), "silent", "exit 0");
    script(dir.path(), "slow", "sleep 30\necho late");
    script(
        dir.path(),
        "chatty",
        "head -c 3000000 /dev/zero | tr '\\0' x",
    );
    for (program, location, message) in [
        (
            "[./fails]",
            "regforge.yaml:2:47: registries[0].password: ",
            "`./fails` failed (exit status: 3): permission denied for secret/harbor",
        ),
        (
            "[./silent]",
            "registries[0].password: ",
            "`./silent` printed nothing",
        ),
        (
            "[./slow], timeout: 1",
            "registries[0].password: ",
            "`./slow` did not finish within 1 s",
        ),
        (
            "[./chatty]",
            "registries[0].password: ",
            "`./chatty` printed more than 1 MiB",
        ),
        (
            "[./missing]",
            "registries[0].password: ",
            "cannot run `./missing`: No such file",
        ),
    ] {
        inventory(
            dir.path(),
            &format!("  - {{address: quay.io, username: a, password: {{exec: {program}}}}}\n"),
        );
        let started = std::time::Instant::now();
        let out = render(dir.path());
        assert_eq!(out.status.code(), Some(1), "{program}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(location) && stderr.contains(message),
            "{program}: {stderr}"
        );
        assert!(out.stdout.is_empty());
        // The timeout is the program's, not the test's: one second, not thirty.
        assert!(
            started.elapsed().as_secs() < 20,
            "{program} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn exec_is_written_as_a_list_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (source, message) in [
        (
            "{exec: vault}",
            "`exec` takes a list of strings: [PROGRAM, ARG…]",
        ),
        ("{exec: []}", "`exec` needs a program"),
        (
            "{exec: [vault], timeout: 0}",
            "`timeout` is a number of seconds, 1 or more",
        ),
        (
            "{exec: [vault], retries: 2}",
            "`retries` is not an `exec` setting",
        ),
    ] {
        inventory(
            dir.path(),
            &format!("  - {{address: quay.io, username: a, password: {source}}}\n"),
        );
        let out = render(dir.path());
        assert_eq!(out.status.code(), Some(1), "{source}");
        assert!(
            text(&out.stderr).contains(message),
            "{source}: {}",
            text(&out.stderr)
        );
    }
}

/// `{age: FILE, identity: FILE}`: a password encrypted by Debian's `age` to a key the test
/// makes with `age-keygen` is decrypted; another identity is refused with age's words.
#[test]
fn age_encrypted_secrets_decrypt_with_their_identity() {
    use std::process::{Command, Stdio};
    let age = crate::support::require_tool("age", "age");
    let keygen = crate::support::require_tool("age-keygen", "age");
    let dir = tempfile::tempdir().unwrap();
    for key in ["key.txt", "other.txt"] {
        let out = Command::new(&keygen)
            .arg("-o")
            .arg(dir.path().join(key))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let public = std::fs::read_to_string(dir.path().join("key.txt")).unwrap();
    let recipient = public
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    let mut encrypt = Command::new(&age)
        .args(["--encrypt", "--recipient", recipient, "--output"])
        .arg(dir.path().join("quay.password.age"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    encrypt
        .stdin
        .take()
        .unwrap()
        .write_all(b"age-protected-pw\n")
        .unwrap();
    assert!(encrypt.wait().unwrap().success());
    inventory(
        dir.path(),
        "  - {address: quay.io, username: robot, password: {age: quay.password.age, identity: key.txt}}\n",
    );
    let out = render(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD
        .decode(config["auths"]["quay.io"]["auth"].as_str().unwrap())
        .unwrap();
    assert_eq!(auth, b"robot:age-protected-pw");
    inventory(
        dir.path(),
        "  - {address: quay.io, username: robot, password: {identity: other.txt, age: quay.password.age}}\n",
    );
    let out = render(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("registries[0].password: `age` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("no identity matched"), "{stderr}");
}

/// `registry add --encrypt-to`: the password from stdin is stored age-encrypted, never in
/// plaintext, the managed entry names the file and identity, and render decrypts it.
#[test]
fn registry_add_stores_a_password_encrypted_to_an_age_recipient() {
    let keygen = crate::support::require_tool("age-keygen", "age");
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&keygen)
        .arg("-o")
        .arg(dir.path().join("key.txt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = std::fs::read_to_string(dir.path().join("key.txt")).unwrap();
    let recipient = key
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    std::fs::write(dir.path().join("regforge.yaml"), "registries: []\n").unwrap();
    let add = regforge_in(
        dir.path(),
        &[
            "registry",
            "add",
            "quay.io",
            "robot",
            "--password-stdin",
            "--skip-validation",
            "--encrypt-to",
            recipient,
            "--age-identity",
            "key.txt",
        ],
        &[],
        Some(b"sealed-pw-4711\n"),
    );
    assert_eq!(add.status.code(), Some(0), "{}", text(&add.stderr));
    let managed = std::fs::read_to_string(dir.path().join("regforge.registries.yaml")).unwrap();
    assert!(
        managed.contains("age: secrets/quay.io.password.age")
            && managed.contains("identity: key.txt"),
        "{managed}"
    );
    for (path, bytes) in crate::support::read_tree(dir.path()) {
        assert!(
            !bytes.windows(14).any(|w| w == b"sealed-pw-4711"),
            "{} holds the password in plaintext",
            path.display()
        );
    }
    let mut inventory = std::fs::read_to_string(dir.path().join("regforge.yaml")).unwrap();
    inventory.push_str("targets:\n  - {name: config, format: docker-config}\n");
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let out = render(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("cm9ib3Q6c2VhbGVkLXB3LTQ3MTE="),
        "{}",
        text(&out.stdout)
    );
    let delete = regforge_in(dir.path(), &["registry", "delete", "quay.io"], &[], None);
    assert_eq!(delete.status.code(), Some(0), "{}", text(&delete.stderr));
    assert!(!dir.path().join("secrets/quay.io.password.age").exists());
}

/// A helper registry with a short-lived token: documents whose consumer runs the helper
/// keep it (docker's credHelpers), the others take the token with the username the
/// registry expects (ECR's `AWS`), and the token's expiry is warned about.
#[test]
fn helper_registries_give_their_token_to_documents_without_helpers() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "ecr-token", "echo ecr-token-0123");
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:
  - address: 012345678910.dkr.ecr.us-east-1.amazonaws.com
    helper: ecr-login
    token: {exec: [./ecr-token]}
targets:
  - {name: config, format: docker-config}
  - {name: secret, format: kubernetes-secret}
  - {name: k3s, format: k3s-registries}
",
    )
    .unwrap();
    let render = |target: &str| regforge_in(dir.path(), &["render", target, "--stdout"], &[], None);
    let config = render("config");
    assert_eq!(config.status.code(), Some(0), "{}", text(&config.stderr));
    assert!(
        text(&config.stderr).contains("registries[0].token: a registry token expires"),
        "{}",
        text(&config.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(
        config["credHelpers"]["012345678910.dkr.ecr.us-east-1.amazonaws.com"],
        "ecr-login"
    );
    let secret = render("secret");
    assert_eq!(secret.status.code(), Some(0), "{}", text(&secret.stderr));
    let secret: serde_yaml::Value = serde_yaml::from_slice(&secret.stdout).unwrap();
    use base64::Engine;
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(secret["data"][".dockerconfigjson"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let entry = &payload["auths"]["012345678910.dkr.ecr.us-east-1.amazonaws.com"];
    assert_eq!(entry["username"], "AWS");
    assert_eq!(entry["password"], "ecr-token-0123");
    let k3s = render("k3s");
    assert_eq!(k3s.status.code(), Some(0), "{}", text(&k3s.stderr));
    assert!(
        text(&k3s.stdout).contains("password: ecr-token-0123"),
        "{}",
        text(&k3s.stdout)
    );
    // A token on a registry whose token username regforge does not know is refused.
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:\n  - {address: quay.io, helper: quay, token: {exec: [./ecr-token]}}\n",
    )
    .unwrap();
    let out = regforge_in(dir.path(), &["registry", "list"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("registries[0].token: a token is for ECR, Google"),
        "{}",
        text(&out.stderr)
    );
}

/// A failing program's stderr is shown, with any secret already resolved hidden.
#[test]
fn a_known_secret_on_a_failing_programs_stderr_is_hidden() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "leaky",
        "echo \"cannot log in with known-pw-5150 for harbor\" >&2\nexit 1",
    );
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:\n  - {address: quay.io, username: a, password: {env: KNOWN}}\n  - {address: ghcr.io, username: b, password: {exec: [./leaky]}}\ntargets:\n  - {name: config, format: docker-config}\n",
    )
    .unwrap();
    let out = regforge_in(
        dir.path(),
        &["render", "config", "--stdout"],
        &[("KNOWN", "known-pw-5150")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "`./leaky` failed (exit status: 1): cannot log in with <redacted> for harbor"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("known-pw-5150"), "{stderr}");
}

/// A fleet's render resolves secrets while it reads the inventory; when it fails, each
/// program still ran once, the error is the one the whole reading gives (the first
/// failing secret before any failed render), and nothing is written.
#[test]
fn a_failing_fleet_render_runs_each_program_once() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "vault",
        "echo \"run $1\" >> \"$(dirname \"$0\")/runs\"\n[ \"$1\" = bad ] && { echo nope >&2; exit 3; }\necho \"pw-for-$1\"",
    );
    let registries = "registries:\n  - {address: quay.io, username: a, password: {exec: [./vault, good]}}\n  - {address: ghcr.io, username: b, password: {exec: [./vault, bad]}}\n";
    let node = |name: &str, registry: &str, template: &str| {
        format!(
            "  - {{name: {name}, format: butane, variant: fcos, version: 1.4.0, registries: [{registry}],{template} files: [{{document: docker-config, path: /home/core/.docker/config.json, user: core, group: core}}]}}\n"
        )
    };
    let render = |targets: &str| {
        std::fs::write(
            dir.path().join("regforge.yaml"),
            format!("{registries}targets:\n{targets}"),
        )
        .unwrap();
        let _ = std::fs::remove_file(dir.path().join("runs"));
        let out = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
        assert_eq!(out.status.code(), Some(1));
        assert!(!dir.path().join("out").exists(), "nothing is written");
        let runs = std::fs::read_to_string(dir.path().join("runs")).unwrap_or_default();
        (text(&out.stderr), runs)
    };
    // A render fails first, a secret after it: the secret is reported.
    let (stderr, runs) = render(&format!(
        "{}{}{}",
        node("a", "quay.io", ""),
        node("b", "quay.io", " template: missing.j2,"),
        node("c", "ghcr.io", "")
    ));
    assert!(stderr.contains("registries[1].password"), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
    assert_eq!(runs, "run good\nrun bad\n");
    // Without the failing secret, the render's failure is reported.
    let (stderr, runs) = render(&format!(
        "{}{}",
        node("a", "quay.io", ""),
        node("b", "quay.io", " template: missing.j2,")
    ));
    assert!(stderr.contains("cannot read template"), "{stderr}");
    assert_eq!(runs, "run good\n");
}
