//! No secret leaks: every fixture is rendered, then every secret of it rotated and the
//! folder checked with `render --check`; no old or new secret may show on stderr or in the
//! diff, in any encoding a format writes (raw, JSON or YAML escaped, base64 at any depth,
//! data URLs). The decoding here is the test's own, not regforge's redactor.

use std::path::Path;

use base64::Engine;

use crate::registry_server::self_signed;
use crate::support::{cases, copy_tree, read_tree, regforge_in, text};

/// `text` and every text found inside it: base64 runs and data URLs, decoded, to a depth.
fn views(text: &str, depth: usize, out: &mut Vec<String>) {
    out.push(text.to_string());
    if depth == 0 {
        return;
    }
    for url in text.split("data:").skip(1) {
        let url = url.split(['"', ' ', '\n']).next().unwrap_or_default();
        let Some((header, payload)) = url.split_once(',') else {
            continue;
        };
        let bytes = if header.ends_with(";base64") {
            base64::engine::general_purpose::STANDARD
                .decode(payload)
                .ok()
        } else {
            Some(percent_decode(payload))
        };
        if let Some(inner) = bytes.and_then(|b| String::from_utf8(b).ok()) {
            views(&inner, depth - 1, out);
        }
    }
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
    for run in text.split(|c: char| !is_b64(c)).filter(|r| r.len() >= 16) {
        for start in 0..4 {
            let run = &run[start.min(run.len())..];
            let usable = run.trim_end_matches('=').len() / 4 * 4;
            let Ok(bytes) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&run[..usable])
            else {
                continue;
            };
            if let Ok(inner) = String::from_utf8(bytes) {
                views(&inner, depth - 1, out);
            }
        }
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The forms of a secret to look for: itself (each substantial line of a multi-line
/// one), and JSON-escaped.
fn forms(secret: &str) -> Vec<String> {
    let mut out: Vec<String> = if secret.contains('\n') {
        secret
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 12 && !l.starts_with("-----"))
            .map(String::from)
            .collect()
    } else {
        vec![secret.to_string()]
    };
    let json = serde_json::to_string(secret).unwrap();
    out.push(json[1..json.len() - 1].to_string());
    out
}

/// The case's secrets: its `secrets/` files (without their final line break) and its
/// private keys.
fn secrets_of(dir: &Path) -> Vec<String> {
    read_tree(dir)
        .into_iter()
        .filter(|(p, _)| p.starts_with("secrets") || p.to_string_lossy().ends_with("key.pem"))
        .filter(|(p, _)| !p.ends_with(".gitignore"))
        .map(|(_, b)| {
            let s = String::from_utf8(b).unwrap();
            s.strip_suffix('\n').map(String::from).unwrap_or(s)
        })
        .collect()
}

/// Gives every secret of the case a new value; private keys a new key and certificate.
fn rotate(dir: &Path) {
    for (path, _) in read_tree(dir) {
        let full = dir.join(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.starts_with("secrets") && name != ".gitignore" {
            std::fs::write(&full, format!("rotated-{name}-Qx7Vb2\n")).unwrap();
        } else if name.ends_with("key.pem") {
            let cert = name.replace("-key.pem", ".pem");
            let folder = full.parent().unwrap();
            self_signed(folder, "/CN=rotated", &name, &cert);
        }
    }
}

/// The certificates of the case: public, though an EC key's last line (its public key)
/// shows in its certificate too.
fn certificates(dir: &Path) -> String {
    read_tree(dir)
        .into_iter()
        .filter(|(p, _)| {
            p.extension().is_some_and(|e| e == "pem") && !p.to_string_lossy().ends_with("key.pem")
        })
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect()
}

fn assert_no_leak(what: &str, output: &str, secrets: &[String], public: &str) {
    let mut all = Vec::new();
    views(output, 4, &mut all);
    for secret in secrets {
        for form in forms(secret) {
            if public.contains(&form) {
                continue;
            }
            assert!(
                !all.iter().any(|v| v.contains(&form)),
                "{what}: a secret ({} characters) leaked in:\n{output}",
                form.len()
            );
        }
    }
}

#[test]
fn no_secret_of_any_fixture_shows_on_stderr_or_in_a_drift_diff() {
    let mut checked = 0;
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&case, dir.path());
        let old = secrets_of(dir.path());
        let mut public = certificates(dir.path());
        let render = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
        assert!(
            render.status.success(),
            "{}: {}",
            case.display(),
            text(&render.stderr)
        );
        assert_no_leak("render's stderr", &text(&render.stderr), &old, &public);
        assert_no_leak("render's stdout", &text(&render.stdout), &old, &public);
        rotate(dir.path());
        let new = secrets_of(dir.path());
        public.push_str(&certificates(dir.path()));
        let check = regforge_in(
            dir.path(),
            &["render", "--check", "--out-dir", "out"],
            &[],
            None,
        );
        assert_eq!(
            check.status.code(),
            Some(1),
            "{}: {}",
            case.display(),
            text(&check.stderr)
        );
        let both: Vec<String> = old.iter().chain(&new).cloned().collect();
        let what = format!("{}: --check", case.display());
        assert_no_leak(&what, &text(&check.stdout), &both, &public);
        assert_no_leak(&what, &text(&check.stderr), &both, &public);
        let list = regforge_in(dir.path(), &["registry", "list", "--json"], &[], None);
        assert_no_leak("registry list", &text(&list.stdout), &both, &public);
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} fixtures");
}

/// The first target's name of the case's inventory.
fn first_target(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("regforge.yaml")).unwrap();
    let inventory: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    inventory["targets"][0]["name"]
        .as_str()
        .expect("a fixture names its targets")
        .to_string()
}

/// The other ways out: `check` in both formats, Terraform's stderr (its stdout carries
/// the credentials by design), and the error paths of an unknown target and of a secret
/// file that went missing after the others were read.
#[test]
fn no_secret_shows_in_check_terraform_or_an_error() {
    let mut checked = 0;
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&case, dir.path());
        let secrets = secrets_of(dir.path());
        let public = certificates(dir.path());
        let name = case.display().to_string();
        for format in ["text", "json"] {
            let check = regforge_in(dir.path(), &["check", "--format", format], &[], None);
            assert_no_leak(&name, &text(&check.stdout), &secrets, &public);
            assert_no_leak(&name, &text(&check.stderr), &secrets, &public);
        }
        for target in [first_target(dir.path()), "no-such-target".to_string()] {
            let query = serde_json::json!({ "target": target }).to_string();
            let tf = regforge_in(dir.path(), &["terraform"], &[], Some(query.as_bytes()));
            assert_eq!(tf.status.success(), target != "no-such-target", "{name}");
            assert_no_leak(&name, &text(&tf.stderr), &secrets, &public);
        }
        let mut files = read_tree(dir.path())
            .into_keys()
            .filter(|p| p.starts_with("secrets") && !p.ends_with(".gitignore"));
        if let Some(last) = files.next_back() {
            std::fs::remove_file(dir.path().join(last)).unwrap();
            let render = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
            assert!(!render.status.success(), "{name}: a missing secret renders");
            assert_no_leak(&name, &text(&render.stderr), &secrets, &public);
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} fixtures");
}

/// The commands whose purpose is not to print a document: `registry get` (text and
/// JSON) of every registry, and the stderr of `document` of every kind and of
/// `render --stdout` of every target, whose stdout is the document by design.
#[test]
fn no_secret_shows_in_registry_get_or_beside_a_printed_document() {
    let mut checked = 0;
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&case, dir.path());
        let secrets = secrets_of(dir.path());
        let public = certificates(dir.path());
        let name = case.display().to_string();
        let list = regforge_in(dir.path(), &["registry", "list", "--json"], &[], None);
        let registries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        for registry in registries.as_array().unwrap() {
            let address = registry["registry"].as_str().unwrap();
            for json in [&["--json"][..], &[]] {
                let mut args = vec!["registry", "get", address];
                args.extend(json);
                let get = regforge_in(dir.path(), &args, &[], None);
                assert!(get.status.success(), "{name}: {}", text(&get.stderr));
                assert_no_leak(&name, &text(&get.stdout), &secrets, &public);
                assert_no_leak(&name, &text(&get.stderr), &secrets, &public);
            }
        }
        let inventory: serde_yaml::Value = serde_yaml::from_str(
            &std::fs::read_to_string(dir.path().join("regforge.yaml")).unwrap(),
        )
        .unwrap();
        for target in inventory["targets"].as_sequence().unwrap() {
            let target = target["name"].as_str().unwrap();
            let render = regforge_in(dir.path(), &["render", "--stdout", target], &[], None);
            assert_no_leak(&name, &text(&render.stderr), &secrets, &public);
        }
        for kind in [
            "docker-config",
            "dockercfg",
            "rkt-auth",
            "drone-registry",
            "kubernetes-secret",
            "containerd-config",
            "talos",
        ] {
            // Some kinds refuse some registries, or need options: the error is checked too.
            let document = regforge_in(dir.path(), &["document", kind], &[], None);
            assert_no_leak(&name, &text(&document.stderr), &secrets, &public);
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} fixtures");
}
