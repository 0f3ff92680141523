//! The command line: stdout carries only data, exit codes, atomic all-or-nothing output.

use std::os::unix::fs::PermissionsExt;

use sha2::{Digest, Sha512};

use crate::support::{copy_tree, fixtures, read_tree, regforge, regforge_in, text};

fn quickstart() -> String {
    fixtures()
        .join("quickstart/regforge.yaml")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn stdout_prints_one_target_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inv = quickstart();
    let result = regforge_in(
        dir.path(),
        &["-i", &inv, "render", "flatcar-workers", "--stdout"],
        &[],
        None,
    );
    assert!(result.status.success(), "{}", text(&result.stderr));
    let want = std::fs::read(fixtures().join("quickstart/expected/flatcar-workers.bu")).unwrap();
    assert_eq!(result.stdout, want);
    assert!(
        text(&result.stderr).contains("1 artifact(s) of target flatcar-workers were not written")
    );
    assert!(read_tree(dir.path()).is_empty(), "--stdout wrote files");
}

#[test]
fn requests_the_inventory_cannot_serve_exit_1() {
    let inv = quickstart();
    for args in [
        vec!["-i", &inv, "render", "--stdout"],
        vec!["-i", &inv, "render", "no-such-target"],
        vec!["-i", &inv, "document", "kubeconfig"],
        vec![
            "-i",
            &inv,
            "document",
            "docker-config",
            "--registry",
            "ghcr.io",
        ],
    ] {
        let result = regforge(&args, &[], None);
        assert_eq!(
            result.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&result.stderr)
        );
        assert!(result.stdout.is_empty());
    }
    let result = regforge(&["-i", &inv, "render", "nope"], &[], None);
    assert!(
        text(&result.stderr).contains("no target `nope`"),
        "{}",
        text(&result.stderr)
    );
}

#[test]
fn hash_matches_sha512_of_file_and_stdin() {
    let artifact =
        fixtures().join("quickstart/expected/artifacts/docker-config-dc0bda7bfcf1a27e.json");
    let bytes = std::fs::read(&artifact).unwrap();
    let want = format!("sha512-{}\n", hex::encode(Sha512::digest(&bytes)));
    assert!(
        want.starts_with("sha512-dc0bda7bfcf1a27e"),
        "artifact name carries the hash prefix"
    );
    let from_file = regforge(&["hash", artifact.to_str().unwrap()], &[], None);
    assert_eq!(text(&from_file.stdout), want);
    let from_stdin = regforge(&["hash", "-"], &[], Some(&bytes));
    assert_eq!(text(&from_stdin.stdout), want);
    let missing = regforge(&["hash", "/nonexistent/file"], &[], None);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        text(&missing.stderr),
        "error: cannot read /nonexistent/file: No such file or directory\n"
    );
}

#[test]
fn document_command_gives_the_bytes_placed_by_targets() {
    let inv = quickstart();
    let result = regforge(
        &[
            "-i",
            &inv,
            "document",
            "docker-config",
            "--registry",
            "quay.io",
            "--registry",
            "registry.example.com:5000",
        ],
        &[],
        None,
    );
    assert!(result.status.success(), "{}", text(&result.stderr));
    // fcos-builders places exactly these two registries inline.
    let bu =
        std::fs::read_to_string(fixtures().join("quickstart/expected/fcos-builders.bu")).unwrap();
    let config: serde_yaml::Value = serde_yaml::from_str(&bu).unwrap();
    let inline = config["storage"]["files"][0]["contents"]["inline"]
        .as_str()
        .unwrap();
    assert_eq!(text(&result.stdout), inline);
    // With no --registry it is the bare docker-config target.
    let all = regforge(&["-i", &inv, "document", "docker-config"], &[], None);
    assert_eq!(
        all.stdout,
        std::fs::read(fixtures().join("quickstart/expected/docker-config.json")).unwrap()
    );
}

#[test]
fn document_output_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("config.json");
    let result = regforge(
        &[
            "-i",
            &quickstart(),
            "document",
            "dockercfg",
            "--registry",
            "quay.io",
            "-o",
            dest.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(result.status.success(), "{}", text(&result.stderr));
    assert!(result.stdout.is_empty());
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(text(&std::fs::read(&dest).unwrap()).contains("https://quay.io/v1/"));
}

#[test]
fn a_failing_target_leaves_the_out_dir_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("quickstart"), dir.path());
    let out = dir.path().join("out");
    let inv = dir.path().join("regforge.yaml");
    let render = || {
        regforge(
            &[
                "-i",
                inv.to_str().unwrap(),
                "render",
                "--out-dir",
                out.to_str().unwrap(),
            ],
            &[],
            None,
        )
    };
    let first = render();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before = read_tree(&out);
    // Change a password (so every file would change) and add a target that cannot render.
    std::fs::write(dir.path().join("secrets/quay.token"), "rotated\n").unwrap();
    let mut yaml = std::fs::read_to_string(&inv).unwrap();
    yaml.push_str("  - name: zz-broken\n    format: dockercfg\n");
    std::fs::write(&inv, yaml).unwrap();
    let second = render();
    assert_eq!(second.status.code(), Some(1));
    assert!(text(&second.stderr).contains("regforge.yaml:56:13: targets[4].format: dockercfg: registry 012345678910.dkr.ecr.us-east-1.amazonaws.com uses a credential helper"), "{}", text(&second.stderr));
    assert_eq!(read_tree(&out), before, "the out-dir changed");
    // And the files written are private.
    let mode = std::fs::metadata(out.join("flatcar-workers.bu"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn inventory_from_env_or_working_folder() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("quickstart"), dir.path());
    let want = std::fs::read(fixtures().join("quickstart/expected/docker-config.json")).unwrap();
    let from_cwd = regforge_in(
        dir.path(),
        &["render", "docker-config", "--stdout"],
        &[],
        None,
    );
    assert_eq!(from_cwd.stdout, want, "{}", text(&from_cwd.stderr));
    let elsewhere = tempfile::tempdir().unwrap();
    let inv = dir.path().join("regforge.yaml");
    let from_env = regforge_in(
        elsewhere.path(),
        &["render", "docker-config", "--stdout"],
        &[("REGFORGE_INVENTORY", inv.to_str().unwrap())],
        None,
    );
    assert_eq!(from_env.stdout, want, "{}", text(&from_env.stderr));
    let none = regforge_in(elsewhere.path(), &["render"], &[], None);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        text(&none.stderr)
            .contains("cannot read inventory regforge.yaml: No such file or directory"),
        "{}",
        text(&none.stderr)
    );
}

#[test]
fn every_command_has_help_with_examples() {
    for args in [
        vec!["--help"],
        vec!["render", "--help"],
        vec!["document", "--help"],
        vec!["hash", "--help"],
        vec!["terraform", "--help"],
        vec!["check", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
        vec!["registry", "--help"],
        vec!["registry", "add", "--help"],
        vec!["registry", "list", "--help"],
        vec!["registry", "get", "--help"],
        vec!["registry", "update", "--help"],
        vec!["registry", "delete", "--help"],
    ] {
        let result = regforge(&args, &[], None);
        assert!(result.status.success());
        assert!(text(&result.stdout).contains("Examples:"), "{args:?}");
    }
}

#[test]
fn document_help_lists_the_kinds_and_their_option_blocks() {
    let out = regforge(&["document", "--help"], &[], None);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(
        help.ends_with("\nDocuments: docker-config, dockercfg, containers-auth, kubernetes-secret, rkt-auth, mesos-archive, marathon-app, marathon-pod, drone-registry, containerd-config, containerd-hosts, k3s-registries, rke2-registries, talos, registries-conf, certs-d, crio-config, kubelet-config, kubelet-credential-provider, gitlab-docker-auth-config, nomad-docker-plugin.\n--set takes the keys of the document's options block in the inventory\n(secret:, rkt:, marathon:, containerd:, talos:, crio:, credential_provider:, nomad:; see docs/inventory.md).\n"),
        "{help}"
    );
}

/// Completions for every shell clap_complete knows, the bash one valid to `bash -n`; the
/// manual page free of warnings from groff (Debian's groff-base), every command in it.
#[test]
fn completions_and_the_manual_page_are_well_formed() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = regforge(&["completions", shell], &[], None);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("regforge"), "{shell}");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("regforge.bash");
    std::fs::write(
        &script,
        regforge(&["completions", "bash"], &[], None).stdout,
    )
    .unwrap();
    let bash = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(bash.status.success(), "{}", text(&bash.stderr));
    let page = dir.path().join("regforge.1");
    let man = regforge(&["man"], &[], None);
    assert_eq!(man.status.code(), Some(0));
    std::fs::write(&page, &man.stdout).unwrap();
    let groff = crate::support::require_tool("groff", "groff-base");
    let checked = std::process::Command::new(groff)
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        checked.status.success() && checked.stderr.is_empty(),
        "{}",
        text(&checked.stderr)
    );
    let roff = text(&man.stdout);
    for command in [
        "render",
        "document",
        "hash",
        "terraform",
        "registry",
        "completions",
        "man",
        "schema",
    ] {
        assert!(
            roff.contains(&format!(".SH \"REGFORGE {}\"", command.to_uppercase())),
            "{command}"
        );
    }
}

/// `regforge check`: every target rendered in memory, findings on stdout (text or JSON)
/// with file, line, column and field, exit 1 on an error or, with --strict, a warning;
/// nothing written.
#[test]
fn check_reports_every_finding_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    std::fs::write(
        &inventory,
        "registries:\n  - {address: quay.io, username: u, password: literal-pw-77}\ntargets:\n  - {name: config, format: docker-config}\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["-i", inventory.to_str().unwrap(), "check"];
        all.extend(args);
        regforge(&all, &[], None)
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("warning: "),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("1 target(s) render and verify; 0 error(s), 1 warning(s)"));
    assert_eq!(run(&["--strict"]).status.code(), Some(1));
    let json = run(&["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["findings"][0]["line"], 2);
    assert_eq!(report["findings"][0]["field"], "registries[0].password");
    assert_eq!(report["findings"][0]["rule"], "literal-secret");
    assert!(text(&out.stdout).ends_with(" [literal-secret]\n"));
    // A secret that cannot be resolved is an error finding at its place; no value shown.
    std::fs::write(
        &inventory,
        "registries:\n  - {address: quay.io, username: u, password: {env: UNSET_PW}}\ntargets:\n  - {name: config, format: docker-config}\n",
    )
    .unwrap();
    let out = run(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["findings"][0]["level"], "error");
    assert_eq!(report["findings"][0]["rule"], "render");
    assert_eq!(report["findings"][0]["field"], "registries[0].password");
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("UNSET_PW is not set")
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "check wrote something"
    );
}

/// `check --fetch`: each hosted artifact's URL, served here by a loopback HTTP server,
/// must give the bytes of the config's sha512; stale or missing ones are errors.
#[test]
fn check_fetch_compares_hosted_artifacts_with_their_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let port = server.server_addr().to_ip().unwrap().port();
    let inventory = dir.path().join("regforge.yaml");
    std::fs::write(
        &inventory,
        format!(
            "registries:\n  - {{address: quay.io, username: u, password: {{env: PW}}}}\ntargets:\n  - name: node\n    format: butane\n    variant: fcos\n    version: 1.5.0\n    files:\n      - {{document: docker-config, path: /root/.docker/config.json, delivery: remote}}\n    remote: {{url: \"http://127.0.0.1:{port}/a/\"}}\n"
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let render = regforge(
        &[
            "-i",
            inventory.to_str().unwrap(),
            "render",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
        &[("PW", "pw")],
        None,
    );
    assert!(render.status.success(), "{}", text(&render.stderr));
    let artifacts = out_dir.join("artifacts");
    let name = std::fs::read_dir(&artifacts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let good = std::fs::read(artifacts.join(&name)).unwrap();
    // Serves the artifact right, then stale bytes, then nothing.
    let responses = vec![good, b"stale".to_vec()];
    let serving = server.clone();
    let thread = std::thread::spawn(move || {
        for body in responses {
            let request = serving.recv().unwrap();
            request
                .respond(tiny_http::Response::from_data(body))
                .unwrap();
        }
        let request = serving.recv().unwrap();
        request.respond(tiny_http::Response::empty(404)).unwrap();
    });
    let check = || {
        regforge(
            &["-i", inventory.to_str().unwrap(), "check", "--fetch"],
            &[("PW", "pw")],
            None,
        )
    };
    assert_eq!(check().status.code(), Some(0));
    let stale = check();
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        text(&stale.stdout).contains("serves other bytes than the config's sha512"),
        "{}",
        text(&stale.stdout)
    );
    let missing = check();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stdout).contains("HTTP status 404"),
        "{}",
        text(&missing.stdout)
    );
    thread.join().unwrap();
}

#[test]
fn version_matches_cargo_toml_and_the_changelog() {
    let out = regforge(&["--version"], &[], None);
    assert!(out.status.success());
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(text(&out.stdout), format!("regforge {version}\n"));
    let changelog = std::fs::read_to_string(fixtures().join("../CHANGELOG.md")).unwrap();
    let newest = changelog
        .lines()
        .find(|line| line.starts_with("## "))
        .expect("CHANGELOG.md has a version heading");
    assert!(
        newest.starts_with(&format!("## [{version}]")),
        "CHANGELOG.md's newest entry `{newest}` is not Cargo.toml's {version}"
    );
}

/// `regforge … | head` stops reading early: like ripgrep, regforge then ends quietly
/// with exit 0 instead of reporting a write error. The pipe's reader is closed before
/// regforge starts, so every write to stdout meets EPIPE.
#[test]
fn a_closed_stdout_ends_quietly_with_success() {
    for args in [
        vec!["man"],
        vec!["-i", &quickstart(), "render", "flatcar-workers", "--stdout"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_regforge"))
            .args(&args)
            .current_dir(fixtures().join(".."))
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}
