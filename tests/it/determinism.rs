//! Same inventory and secrets ⇒ same bytes, whatever the folder, environment order or file times.

use std::process::Command;

use crate::support::{copy_tree, fixtures, read_tree, regforge_in, text};

fn render_copy(
    env: &[(&str, &str)],
    mtime: &str,
) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join(format!("nested-{mtime}"));
    copy_tree(&fixtures().join("quickstart"), &work);
    for entry in [
        "regforge.yaml",
        "secrets/quay.token",
        "secrets/hub.token",
        "secrets/example.pw",
    ] {
        let status = Command::new("touch")
            .args(["-d", mtime])
            .arg(work.join(entry))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let result = regforge_in(&work, &["render", "--out-dir", "rendered"], env, None);
    assert!(result.status.success(), "{}", text(&result.stderr));
    read_tree(&work.join("rendered"))
}

#[test]
fn rendering_is_byte_stable() {
    let a = render_copy(
        &[("A_VAR", "1"), ("TZ", "UTC"), ("LANG", "C")],
        "2001-02-03 04:05",
    );
    let b = render_copy(
        &[
            ("LANG", "de_DE.UTF-8"),
            ("TZ", "Pacific/Auckland"),
            ("Z_VAR", "2"),
            ("A_VAR", "x"),
        ],
        "2030-12-31 23:59",
    );
    assert_eq!(a, b);
    assert_eq!(a, read_tree(&fixtures().join("quickstart/expected")));
}

/// An inventory of `n` targets that differ (formats, registries, paths); target `broken`
/// (if any) names a helper registry in a dockercfg, which cannot be rendered.
fn many_targets(n: usize, broken: &[usize]) -> String {
    let mut text = String::from(
        "registries:\n  - {address: quay.io, username: robot, password: {file: pw}}\n  - {address: docker.io, username: octocat, password: {file: pw}}\n  - {address: gcr.io, helper: gcr}\ntargets:\n",
    );
    for i in 0..n {
        let target = if broken.contains(&i) {
            format!("  - {{name: t{i:03}, format: dockercfg}}\n")
        } else {
            match i % 3 {
                0 => {
                    format!("  - {{name: t{i:03}, format: docker-config, registries: [quay.io]}}\n")
                }
                1 => format!(
                    "  - name: t{i:03}\n    format: butane\n    variant: fcos\n    version: 1.5.0\n    files:\n      - {{document: docker-config, path: /home/u{i}/.docker/config.json, user: u{i}}}\n"
                ),
                _ => format!(
                    "  - name: t{i:03}\n    format: cloud-config\n    registries: [docker.io]\n    files:\n      - {{document: dockercfg, path: /root/{i}.dockercfg}}\n"
                ),
            }
        };
        text.push_str(&target);
    }
    text
}

#[test]
fn many_targets_render_as_they_do_one_batch_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "pw\n").unwrap();
    std::fs::write(dir.path().join("regforge.yaml"), many_targets(150, &[])).unwrap();
    // All 150 at once (spread over threads), then in batches of 30 (each rendered serially).
    let all = regforge_in(dir.path(), &["render", "--out-dir", "all"], &[], None);
    assert!(all.status.success(), "{}", text(&all.stderr));
    for batch in 0..5 {
        let names: Vec<String> = (batch * 30..batch * 30 + 30)
            .map(|i| format!("t{i:03}"))
            .collect();
        let mut args = vec!["render", "--out-dir", "batches"];
        args.extend(names.iter().map(String::as_str));
        let out = regforge_in(dir.path(), &args, &[], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let all = read_tree(&dir.path().join("all"));
    assert_eq!(all.len(), 150);
    assert_eq!(all, read_tree(&dir.path().join("batches")));

    // Two broken targets are both reported, in the order they are written, before
    // anything renders.
    std::fs::write(
        dir.path().join("regforge.yaml"),
        many_targets(150, &[20, 140]),
    )
    .unwrap();
    let out = regforge_in(dir.path(), &["render", "--out-dir", "broken"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let first =
        stderr.find("targets[20].format: dockercfg: registry gcr.io uses a credential helper");
    let second =
        stderr.find("targets[140].format: dockercfg: registry gcr.io uses a credential helper");
    assert!(first.is_some() && first < second, "{stderr}");
    assert!(!dir.path().join("broken").exists());
}
