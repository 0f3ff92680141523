//! `render --check`: golden-file drift as exit 1 and a redacted diff, never a write.

use std::path::Path;
use std::process::Output;

use base64::Engine;

use crate::support::{copy_tree, fixtures, read_tree, regforge_in, text};

/// A copy of a fixture case whose `out/` holds what it renders.
fn rendered_case(case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(case), dir.path());
    let result = regforge_in(dir.path(), &["render"], &[], None);
    assert!(result.status.success(), "{}", text(&result.stderr));
    dir
}

/// Runs `regforge render --check ARGS…` in `dir` and asserts it changed nothing there.
fn check(dir: &Path, args: &[&str]) -> Output {
    let before = read_tree(dir);
    let mut all = vec!["render", "--check"];
    all.extend_from_slice(args);
    let result = regforge_in(dir, &all, &[], None);
    assert_eq!(read_tree(dir), before, "--check wrote to {}", dir.display());
    result
}

/// stderr without the inventory's warnings (the quickstart's plain-http artifact URL),
/// which `render --check` shows like every command.
fn without_warnings(stderr: &[u8]) -> String {
    text(stderr)
        .lines()
        .filter(|line| !line.starts_with("warning: "))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn assert_drift(result: &Output, files: usize) -> String {
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    assert_eq!(
        without_warnings(&result.stderr),
        format!(
            "error: {files} file(s) under out differ from what regforge renders; run `regforge render` to update them\n"
        )
    );
    text(&result.stdout)
}

#[test]
fn an_unchanged_tree_passes_quietly() {
    for case in ["quickstart", "tricky-secrets", "custom-template"] {
        let dir = rendered_case(case);
        let result = check(dir.path(), &[]);
        assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
        assert!(result.stdout.is_empty());
        assert!(without_warnings(&result.stderr).starts_with("out is up to date: "));
    }
}

#[test]
fn an_edited_file_shows_as_a_unified_diff() {
    let dir = rendered_case("quickstart");
    let path = dir.path().join("out/fcos-builders.bu");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("mode: 0700", "mode: 0755");
    std::fs::write(&path, edited).unwrap();
    let diff = assert_drift(&check(dir.path(), &[]), 1);
    assert_eq!(
        diff,
        "\
--- out/fcos-builders.bu
+++ fcos-builders.bu (rendered)
@@ -3,7 +3,7 @@
 storage:
   directories:
     - path: /home/core/.docker
-      mode: 0755
+      mode: 0700
       user:
         name: core
       group:
"
    );
}

#[test]
fn a_deleted_file_and_an_extra_file() {
    let dir = rendered_case("quickstart");
    std::fs::remove_file(dir.path().join("out/legacy-coreos.yaml")).unwrap();
    std::fs::write(dir.path().join("out/artifacts/old.json"), "{}\n").unwrap();
    // Dotfiles such as a .gitignore are not drift: regforge never writes such names.
    std::fs::write(dir.path().join("out/.gitignore"), "*.tmp\n").unwrap();
    let diff = assert_drift(&check(dir.path(), &[]), 2);
    assert!(
        diff.starts_with("Only in out: artifacts/old.json (not rendered)\n--- /dev/null\n+++ legacy-coreos.yaml (rendered)\n@@ -0,0 +1,15 @@\n+#cloud-config\n+write_files:\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+      \t\t\"auth\": \"<redacted>\",\n"),
        "{diff}"
    );
    assert!(!diff.contains("gitignore"));
    // Named targets compare only their own files; other files are not judged.
    let result = check(dir.path(), &["flatcar-workers", "fcos-builders"]);
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert!(result.stdout.is_empty());
    let diff = assert_drift(&check(dir.path(), &["legacy-coreos"]), 1);
    assert!(diff.starts_with("--- /dev/null\n"), "{diff}");
}

#[test]
fn a_missing_out_dir_is_all_drift() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("quickstart"), dir.path());
    let diff = assert_drift(&check(dir.path(), &[]), 5);
    assert_eq!(diff.matches("--- /dev/null\n").count(), 5);
    assert!(!dir.path().join("out").exists());
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Everything that would give a password away: itself, JSON-escaped, and its docker `auth`.
fn giveaways(username: &str, password: &str) -> Vec<String> {
    let json = serde_json::to_string(password).unwrap();
    vec![
        password.to_string(),
        json[1..json.len() - 1].to_string(),
        b64(&format!("{username}:{password}")),
    ]
}

#[test]
fn a_changed_password_is_redacted_on_both_sides() {
    for (case, secret, username, new) in [
        // A literal block of dockercfg in cloud-config, a remote artifact, inline Butane.
        (
            "quickstart",
            "secrets/example.pw",
            "johndoe",
            "n3w-p4ssw0rd",
        ),
        // Base64 cloud-config content holding a dockercfg; JSON escapes in a Butane
        // double-quoted inline; local files; quotes and non-ASCII.
        (
            "tricky-secrets",
            "secrets/unicode.pw",
            "jöhn",
            "  n\"e\\w <pässwörd> ✓",
        ),
    ] {
        let dir = rendered_case(case);
        let secret_path = dir.path().join(secret);
        let old = std::fs::read_to_string(&secret_path).unwrap();
        let old = old.strip_suffix('\n').unwrap_or(&old).to_string();
        std::fs::write(&secret_path, format!("{new}\n")).unwrap();
        let result = check(dir.path(), &[]);
        let stdout = text(&result.stdout);
        assert_eq!(result.status.code(), Some(1), "{case}: {stdout}");
        assert!(stdout.contains("<redacted>"), "{case}: {stdout}");
        for giveaway in giveaways(username, &old)
            .into_iter()
            .chain(giveaways(username, new))
        {
            assert!(
                !stdout.contains(&giveaway),
                "{case}: the diff shows {giveaway:?}:\n{stdout}"
            );
        }
        // A changed password shows as a changed line, not as nothing.
        assert!(stdout.contains("-"), "{stdout}");
        assert!(!text(&result.stderr).contains(new));
    }
}

#[test]
fn a_rotated_multi_line_key_shows_no_line_of_either_key() {
    // The platforms fixture's GCR `_json_key` is written by its Drone file as a block
    // scalar, one line of the key per diff line.
    let dir = rendered_case("platforms");
    let key = dir.path().join("secrets/gcr.json");
    let old = std::fs::read_to_string(&key).unwrap();
    let new = old
        .replace("FAKE", "R0TATED-KEY-MATERIAL")
        .replace("\"fake\"", "\"key-2\"");
    std::fs::write(&key, &new).unwrap();
    let result = check(dir.path(), &["drone-registry"]);
    let stdout = text(&result.stdout);
    assert_eq!(result.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("-      <redacted>") && stdout.contains("+      <redacted>"),
        "{stdout}"
    );
    for line in old.lines().chain(new.lines()).map(str::trim) {
        if line.len() >= 8 {
            assert!(!stdout.contains(line), "the diff shows {line:?}:\n{stdout}");
        }
    }
}

/// The node runtimes' documents in a drift diff: a rotated password in containerd's TOML,
/// k3s's and Talos's YAML, and a replaced client key (its own file, Talos's PEM block and
/// base64) show as changed lines with neither the old nor the new value.
#[test]
fn rotated_node_credentials_and_client_keys_are_hidden_in_every_node_document() {
    let dir = rendered_case("nodes");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (old_key, old_cert) = (read("certs/node-key.pem"), read("certs/node.pem"));
    // A new key (and certificate) for the node, and a new mirror password.
    crate::registry_server::self_signed(
        dir.path(),
        "/CN=new node",
        "certs/node-key.pem",
        "certs/node.pem",
    );
    let (new_key, new_cert) = (read("certs/node-key.pem"), read("certs/node.pem"));
    std::fs::write(dir.path().join("secrets/mirror.pw"), "rotated-mirror-pw\n").unwrap();
    let result = check(dir.path(), &[]);
    let diff = text(&result.stdout);
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    for changed in [
        "out/containerd-v2.toml",
        "out/containerd-v3.toml",
        "out/k3s.yaml",
        "out/talos-1.11.yaml",
        "out/talos-1.12.yaml",
        "out/certs.d/mirror.example.com:5000/client.key",
        // The config and the key again, percent-escaped in Ignition data URLs.
        "out/flatcar-containerd.ign",
        "out/k3s/registry-certs/mirror.example.com:5000/client.key",
    ] {
        assert!(
            diff.contains(&format!("--- {changed}")),
            "{changed} not in:\n{diff}"
        );
    }
    assert!(
        diff.contains("-password = \"<redacted>\"\n+password = \"<redacted>\""),
        "{diff}"
    );
    for secret in ["mirror-node-pw", "rotated-mirror-pw"] {
        assert!(!diff.contains(secret), "{secret} in:\n{diff}");
    }
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for key in [&old_key, &new_key] {
        // An EC key's last line is its public key, which the certificate shows too.
        let public = |l: &str| old_cert.contains(l) || new_cert.contains(l);
        for line in key
            .lines()
            .filter(|l| !l.starts_with("-----") && !public(l))
        {
            assert!(!diff.contains(line), "a key line in:\n{diff}");
        }
        assert!(!diff.contains(&b64(key)[..40]), "a base64 key in:\n{diff}");
    }
}

/// A link in the rendered folder is reported, never followed: it could point at
/// anything (another process's environment); a killed render's temporary file is
/// reported too.
#[test]
fn links_are_not_followed_and_leftover_temporary_files_are_reported() {
    let dir = rendered_case("quickstart");
    let out = dir.path().join("out");
    let victim = read_tree(&out)
        .into_keys()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let secret_file = dir.path().join("not-in-out.txt");
    std::fs::write(&secret_file, "ANOTHER-CI-TOKEN-0000\n").unwrap();
    std::fs::remove_file(out.join(&victim)).unwrap();
    std::os::unix::fs::symlink(&secret_file, out.join(&victim)).unwrap();
    std::fs::write(out.join(".regforge-1234.tmp"), "half a file").unwrap();
    let result = check(dir.path(), &[]);
    let diff = assert_drift(&result, 2);
    assert!(!diff.contains("ANOTHER-CI-TOKEN"), "{diff}");
    assert!(
        diff.contains(&format!(
            "Symbolic link out/{}: not followed; regforge writes regular files",
            victim.display()
        )),
        "{diff}"
    );
    assert!(
        diff.contains(
            "Temporary file out/.regforge-1234.tmp: left by an interrupted regforge; delete it"
        ),
        "{diff}"
    );
}

/// A fleet whose every file drifted (a rotated password) is diffed on every core; the
/// diff is still one file after another in path order, and redacted.
#[test]
fn a_drifted_fleet_diffs_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut inventory = String::from(
        "registries:\n  - {address: quay.io, username: robot, password: {file: pw}}\ntargets:\n",
    );
    for i in 0..150 {
        inventory.push_str(&format!("  - {{name: t{i:03}, format: docker-config}}\n"));
    }
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    std::fs::write(dir.path().join("pw"), "first-Secret-pw\n").unwrap();
    let rendered = regforge_in(dir.path(), &["render", "--quiet"], &[], None);
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    std::fs::write(dir.path().join("pw"), "second-Secret-pw\n").unwrap();
    let diff = assert_drift(&check(dir.path(), &[]), 150);
    let headers: Vec<&str> = diff.lines().filter(|l| l.starts_with("--- ")).collect();
    let expected: Vec<String> = (0..150).map(|i| format!("--- out/t{i:03}.json")).collect();
    assert_eq!(headers, expected);
    for secret in ["first-Secret-pw", "second-Secret-pw"] {
        assert!(!diff.contains(secret));
        assert!(!diff.contains(&b64(&format!("robot:{secret}"))));
    }
}
