//! Writing a fleet's outputs: few descriptors whatever its size, all or nothing when it fails.

use std::path::Path;
use std::process::Command;

use crate::support::{on_a_terminal, read_tree, regforge_in, text};

/// `n` targets: docker-config files of quay.io and cloud-configs placing a dockercfg of
/// docker.io, alternating; `version` changes the password, so a second render differs.
fn fleet(dir: &Path, n: usize, version: &str) {
    std::fs::write(dir.join("pw"), format!("pw-{version}\n")).unwrap();
    let mut inventory = String::from(
        "registries:\n  - {address: quay.io, username: robot, password: {file: pw}}\n  - {address: docker.io, username: octocat, password: {file: pw}}\ntargets:\n",
    );
    for i in 0..n {
        inventory.push_str(&if i.is_multiple_of(2) {
            format!("  - {{name: t{i:05}, format: docker-config, registries: [quay.io]}}\n")
        } else {
            format!(
                "  - name: t{i:05}\n    format: cloud-config\n    registries: [docker.io]\n    files:\n      - {{document: dockercfg, path: /root/{i}.dockercfg}}\n"
            )
        });
    }
    std::fs::write(dir.join("regforge.yaml"), inventory).unwrap();
}

/// Runs `regforge ARGS` in `dir` with at most `fds` open descriptors.
fn regforge_limited(dir: &Path, fds: u32, args: &str) -> std::process::Output {
    Command::new("bash")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("ulimit -n {fds} && exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_regforge"))
        .env_clear()
        .output()
        .unwrap()
}

/// Every path under `dir` whose name marks it as a temporary file.
fn temporaries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(".tmp") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn five_thousand_targets_render_with_64_descriptors() {
    // The old writer kept every staged file open until all were written and failed at
    // about file 60 under this limit.
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), 5000, "1");
    let out = regforge_limited(dir.path(), 64, "render --out-dir out");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "wrote 5000 file(s) to out\n");

    let written = read_tree(&dir.path().join("out"));
    assert_eq!(written.len(), 5000);
    // Each file is what the same target renders on its own.
    let alone = |name: &str| {
        let out = regforge_in(dir.path(), &["render", "--stdout", name], &[], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        out.stdout
    };
    for (file, name) in [("t00000.json", "t00000"), ("t04999.yaml", "t04999")] {
        assert_eq!(written[Path::new(file)], alone(name), "{file}");
    }
    let first = &written[Path::new("t00000.json")];
    let odd = &written[Path::new("t00001.yaml")];
    for (path, bytes) in &written {
        let number: usize = path.to_string_lossy()[1..6].parse().unwrap();
        if number.is_multiple_of(2) {
            assert_eq!(bytes, first, "{}", path.display());
        } else {
            // Cloud-configs differ only in the path they place the dockercfg at.
            let own = text(bytes).replace(&format!("/root/{number}."), "/root/1.");
            assert_eq!(own, text(odd), "{}", path.display());
        }
    }
}

#[test]
fn a_render_that_fails_half_way_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), 40, "1");
    let out = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = read_tree(&dir.path().join("out"));

    // A folder where target t00030's file goes: files before it in the batch are staged,
    // then the render fails.
    std::fs::remove_file(dir.path().join("out/t00030.json")).unwrap();
    std::fs::create_dir(dir.path().join("out/t00030.json")).unwrap();
    fleet(dir.path(), 40, "2");
    let out = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: cannot write out/t00030.json: a folder is in the way\n"
    );
    let mut after = read_tree(&dir.path().join("out"));
    assert!(after.len() == 39 && before.len() == 40);
    after.insert(
        "t00030.json".into(),
        before[Path::new("t00030.json")].clone(),
    );
    assert_eq!(after, before, "earlier outputs were replaced");
    assert_eq!(
        temporaries(&dir.path().join("out")),
        Vec::<std::path::PathBuf>::new()
    );
}

/// A symbolic link in the output folder, where a file or its folder goes, is refused
/// before anything is written: writing through it would put credentials where it points.
#[test]
fn a_link_in_the_output_folder_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    std::fs::write(
        &inventory,
        "registries:\n  - {address: quay.io, username: u, password: {env: PW}}\ntargets:\n  - {name: rkt, format: rkt-auth}\n  - {name: config, format: docker-config}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("rkt")).unwrap();
    let result = crate::support::regforge(
        &[
            "-i",
            inventory.to_str().unwrap(),
            "render",
            "--out-dir",
            out.to_str().unwrap(),
        ],
        &[("PW", "pw")],
        None,
    );
    assert_eq!(result.status.code(), Some(1));
    let stderr = text(&result.stderr);
    assert!(
        stderr.contains("is a symbolic link; regforge does not write through links"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert!(!out.join("config.json").exists(), "nothing is written");
}

/// A long render draws a progress bar on a terminal's stderr; `--quiet` draws none and
/// drops the summary; off a terminal (CI logs, pipes) there is no bar either.
#[test]
fn a_long_render_shows_progress_only_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), 1000, "a");
    let shown = on_a_terminal(dir.path(), "render", &[]);
    assert!(
        shown.contains("rendering ") && shown.contains("/1000 targets"),
        "{shown:?}"
    );
    assert!(
        shown.ends_with("wrote 1000 file(s) to out\r\n"),
        "{shown:?}"
    );
    let quiet = on_a_terminal(dir.path(), "render --quiet", &[]);
    assert_eq!(quiet, "");
    let piped = regforge_in(dir.path(), &["render"], &[], None);
    assert!(piped.status.success());
    assert_eq!(text(&piped.stderr), "wrote 1000 file(s) to out\n");
}

/// Outputs are staged a batch of targets at a time (pipeline::render_each); a failure
/// in a late batch still leaves the folder as it was, with no temporary file.
#[test]
fn a_failure_after_earlier_batches_were_staged_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), 2500, "1");
    let out = regforge_in(dir.path(), &["render", "--quiet"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = read_tree(&dir.path().join("out"));
    std::fs::remove_file(dir.path().join("out/t02400.json")).unwrap();
    std::fs::create_dir(dir.path().join("out/t02400.json")).unwrap();
    fleet(dir.path(), 2500, "2");
    let out = regforge_in(dir.path(), &["render", "--quiet"], &[], None);
    assert_eq!(
        text(&out.stderr),
        "error: cannot write out/t02400.json: a folder is in the way\n"
    );
    let after = read_tree(&dir.path().join("out"));
    assert_eq!(after.len(), before.len() - 1);
    assert!(
        after.iter().all(|(path, bytes)| before[path] == *bytes),
        "an output was replaced"
    );
    assert_eq!(
        temporaries(&dir.path().join("out")),
        Vec::<std::path::PathBuf>::new()
    );
}

/// Targets whose configs differ in anything a built-in template reads get their own
/// text, though identical ones share one (render::Texts): here the nodes differ only in
/// a mode, a path, a variant and the registry they carry.
#[test]
fn shared_texts_never_cross_between_different_configs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "pw\n").unwrap();
    let node = |name: &str, variant: &str, registry: &str, path: &str, mode: &str| {
        format!(
            "  - name: {name}\n    format: butane\n    variant: {variant}\n    version: {}\n    registries: [{registry}]\n    files:\n      - {{document: docker-config, path: {path}, mode: {mode}}}\n",
            if variant == "fcos" { "1.4.0" } else { "1.0.0" }
        )
    };
    let mut inventory = String::from(
        "registries:\n  - {address: quay.io, username: a, password: {file: pw}}\n  - {address: ghcr.io, username: b, password: {file: pw}}\ntargets:\n",
    );
    for name in ["same-1", "same-2"] {
        inventory.push_str(&node(name, "flatcar", "quay.io", "/root/a.json", "0600"));
    }
    inventory.push_str(&node("mode", "flatcar", "quay.io", "/root/a.json", "0400"));
    inventory.push_str(&node("path", "flatcar", "quay.io", "/root/b.json", "0600"));
    inventory.push_str(&node("variant", "fcos", "quay.io", "/root/a.json", "0600"));
    inventory.push_str(&node(
        "registry",
        "flatcar",
        "ghcr.io",
        "/root/a.json",
        "0600",
    ));
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let out = regforge_in(dir.path(), &["render", "--quiet"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let read =
        |name: &str| std::fs::read_to_string(dir.path().join(format!("out/{name}.bu"))).unwrap();
    assert_eq!(read("same-1"), read("same-2"));
    let same = read("same-1");
    for (name, differs) in [
        ("mode", "mode: 0400"),
        ("path", "/root/b.json"),
        ("variant", "variant: fcos"),
        ("registry", "ghcr.io"),
    ] {
        let own = read(name);
        assert!(
            own.contains(differs) && !same.contains(differs),
            "{name}:\n{own}"
        );
    }
}

/// A template is an input like the inventory: an earlier target's output that would
/// replace a later target's template is refused, though targets render as they are read,
/// and nothing is written.
#[test]
fn an_output_never_replaces_a_later_targets_template() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = crate::support::fixtures().join("custom-template");
    let template = std::fs::read_to_string(fixture.join("node.bu.j2")).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/first.bu"), &template).unwrap();
    std::fs::write(dir.path().join("pw"), "pw\n").unwrap();
    let node = "format: butane\n    variant: fcos\n    version: 1.4.0\n    files:\n      - {document: docker-config, path: /home/core/.docker/config.json, user: core, group: core}";
    std::fs::write(
        dir.path().join("regforge.yaml"),
        format!(
            "registries:\n  - {{address: quay.io, username: u, password: {{file: pw}}}}\ntargets:\n  - name: first\n    {node}\n  - name: second\n    template: out/first.bu\n    {node}\n"
        ),
    )
    .unwrap();
    let out = regforge_in(dir.path(), &["render", "--out-dir", "out"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("out/first.bu would replace out/first.bu, which this render reads"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/first.bu")).unwrap(),
        template
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        1
    );
}

/// Whatever the layout, a render gives the same files: registries written after the
/// targets, and a block scalar that ends a target (which the file read a line at a time
/// cannot place), are read whole instead of as a stream.
#[test]
fn every_layout_of_an_inventory_renders_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "pw\n").unwrap();
    let registries = "registries:\n  - {address: quay.io, username: u, password: {file: pw}}\n";
    let targets = "targets:\n  - {name: config, format: docker-config}\n  - {name: auth, format: containers-auth}\n";
    let block = "targets:\n  - format: docker-config\n    name: >-\n      config\n  - {name: auth, format: containers-auth}\n";
    let mut trees = Vec::new();
    for (i, inventory) in [
        format!("{registries}{targets}"),
        format!("{targets}{registries}"),
        format!("{registries}{block}"),
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
        let out = format!("out{i}");
        let result = regforge_in(dir.path(), &["render", "--out-dir", &out], &[], None);
        assert!(
            result.status.success(),
            "{inventory}\n{}",
            text(&result.stderr)
        );
        trees.push(read_tree(&dir.path().join(&out)));
    }
    assert_eq!(trees[0].len(), 2);
    assert_eq!(trees[0], trees[1]);
    assert_eq!(trees[0], trees[2]);
}
