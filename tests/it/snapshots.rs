//! Every bad input's exact message, kept under `tests/bad_inputs/<case>/stderr`, so a changed message shows up in review.
//!
//! A case is a folder holding `regforge.yaml` (and any files it names); the
//! secret `pw` and the variable `PW` are provided. `args` (one per line)
//! replaces the default `render --out-dir out`; `exit` the default status 1.
//! In `stderr`, `$DIR` stands for the case's temporary folder. Run with
//! `REGFORGE_BLESS=1` to write the snapshots, then read every changed one.

use std::path::{Path, PathBuf};

use crate::support::{copy_tree, regforge_in, root, text};

const SECRET: &str = "s3cr3t-VALUE-never-printed";

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("tests/bad_inputs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn read_or(path: &Path, default: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|_| default.to_string())
}

/// Runs one case in a fresh folder: (exit status, stderr with `$DIR` put back).
fn run(case: &Path) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(case, dir.path());
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    let args = read_or(&case.join("args"), "render\n--out-dir\nout\n");
    let mut argv = vec!["-i", "regforge.yaml"];
    argv.extend(args.lines().filter(|l| !l.is_empty()));
    let result = regforge_in(dir.path(), &argv, &[("PW", SECRET)], None);
    let stderr = text(&result.stderr);
    assert!(
        !stderr.contains(SECRET),
        "{}: the secret leaked",
        case.display()
    );
    assert!(
        !dir.path().join("out").exists(),
        "{}: output was written",
        case.display()
    );
    let dir_text = dir.path().to_str().unwrap();
    let stderr = stderr.replace(dir_text, "$DIR");
    (result.status.code().unwrap_or(-1), stderr)
}

#[test]
fn every_bad_input_gives_its_recorded_message() {
    let bless = std::env::var_os("REGFORGE_BLESS").is_some();
    let mut changed = Vec::new();
    for case in cases() {
        let (code, stderr) = run(&case);
        let want_code: i32 = read_or(&case.join("exit"), "1").trim().parse().unwrap();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(code, want_code, "{name}: exit status; stderr:\n{stderr}");
        let snapshot = case.join("stderr");
        if bless {
            std::fs::write(&snapshot, &stderr).unwrap();
        } else if read_or(&snapshot, "") != stderr {
            let diff = similar::TextDiff::from_lines(&read_or(&snapshot, "")[..], &stderr)
                .unified_diff()
                .header("recorded", "now")
                .to_string();
            changed.push(format!("{name}:\n{diff}"));
        }
    }
    assert!(
        changed.is_empty(),
        "messages changed (REGFORGE_BLESS=1 records them; review each):\n{}",
        changed.join("\n")
    );
}

/// Issue 24's example: a bad address, an unknown Butane version and an unknown
/// document, in three entries, are all reported in one run, in line order.
#[test]
fn all_problems_are_reported_at_once_in_line_order() {
    let (code, stderr) = run(&root().join("tests/bad_inputs/all-at-once"));
    assert_eq!(code, 1);
    let lines: Vec<usize> = stderr
        .lines()
        .map(|l| {
            let at = l.strip_prefix("error: regforge.yaml:").expect(l);
            at.split(':').next().unwrap().parse().expect(l)
        })
        .collect();
    assert_eq!(lines, [5, 12, 18], "{stderr}");
}
