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
