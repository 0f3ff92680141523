//! Golden tests: each fixture renders to exactly its reviewed `expected/` tree.
//! `REGFORGE_BLESS=1 cargo test golden` rewrites them; review the diff before committing.

use crate::support::{cases, read_tree, render_case};

#[test]
fn every_case_renders_to_its_expected_files() {
    let cases = cases();
    assert!(cases.len() >= 3, "fixtures are missing");
    for case in cases {
        let out = render_case(&case);
        let got = read_tree(out.path());
        let expected_dir = case.join("expected");
        if std::env::var_os("REGFORGE_BLESS").is_some() {
            let _ = std::fs::remove_dir_all(&expected_dir);
            for (path, bytes) in &got {
                let dest = expected_dir.join(path);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::write(dest, bytes).unwrap();
            }
            continue;
        }
        let want = read_tree(&expected_dir);
        let got_names: Vec<_> = got.keys().collect();
        let want_names: Vec<_> = want.keys().collect();
        assert_eq!(got_names, want_names, "{}: different files", case.display());
        for (path, bytes) in &want {
            assert!(
                got[path] == *bytes,
                "{}: {} differs:\n--- expected\n{}\n--- got\n{}",
                case.display(),
                path.display(),
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&got[path])
            );
        }
    }
}
