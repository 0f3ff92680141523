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
