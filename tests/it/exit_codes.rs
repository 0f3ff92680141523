//! Exit status: 0 success, 1 any failure, 2 only the command-line misuse clap reports.
//! One test per kind of failure, each with its exact message (the README's table).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{regforge_in, text};

const INVENTORY: &str = "registries:\n  - address: quay.io\n    username: robot\n    password: {env: QUAY_PW}\ntargets:\n  - name: config\n    format: docker-config\n";

struct Folder {
    dir: tempfile::TempDir,
}

impl Folder {
    fn new(inventory: &str) -> Folder {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
        Folder { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        regforge_in(
            self.path(),
            args,
            &[("QUAY_PW", "quay-Secret"), ("X", "x-Secret")],
            stdin,
        )
    }
}

/// The exit code and the whole of stderr; stdout must be empty.
fn failure(out: &Output) -> (Option<i32>, String) {
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    (out.status.code(), text(&out.stderr))
}

fn error(message: &str) -> (Option<i32>, String) {
    (Some(1), format!("error: {message}\n"))
}

#[test]
fn misuse_that_clap_reports_exits_2() {
    let folder = Folder::new(INVENTORY);
    let (code, stderr) = failure(&folder.run(&["render", "--bogus-flag"], None));
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: unexpected argument '--bogus-flag' found\n"),
        "{stderr}"
    );
    let (code, stderr) = failure(&folder.run(&["registry", "add", "ghcr.io"], None));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the following required arguments were not provided"),
        "{stderr}"
    );
}

#[test]
fn names_the_inventory_lacks_exit_1() {
    let folder = Folder::new(INVENTORY);
    assert_eq!(
        failure(&folder.run(&["render", "nosuch"], None)),
        error("no target `nosuch` in regforge.yaml; defined: config")
    );
    assert_eq!(
        failure(&folder.run(&["registry", "get", "nosuch.example.com"], None)),
        error("no registry `nosuch.example.com` in regforge.yaml; see `regforge registry list`")
    );
    assert_eq!(
        failure(&folder.run(
            &["document", "docker-config", "--registry", "ghcr.io"],
            None
        )),
        error("no registry `ghcr.io` in regforge.yaml")
    );
}

#[test]
fn unusable_input_exits_1() {
    let folder = Folder::new(INVENTORY);
    let add = [
        "registry",
        "add",
        "ghcr.io",
        "u",
        "--password-stdin",
        "--skip-validation",
    ];
    assert_eq!(
        failure(&folder.run(&add, Some(b"\xff\xfe"))),
        error("the password on stdin is not UTF-8")
    );
    assert_eq!(
        failure(&folder.run(&add, Some(b""))),
        error("--password-stdin read an empty password")
    );
    assert_eq!(
        failure(&folder.run(&["terraform"], Some(b"[]"))),
        error(
            "terraform query: stdin is not a JSON object of strings (invalid type: sequence, expected a map at line 1 column 0); regforge terraform is meant to be run by Terraform's external data source"
        )
    );
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
}

#[test]
fn an_invalid_inventory_exits_1() {
    let folder = Folder::new(&INVENTORY.replace("quay.io", "https://quay.io"));
    assert_eq!(
        failure(&folder.run(&["render"], None)),
        error(
            "regforge.yaml:2:14: registries[0].address: the address has a scheme (https://); write the bare host, e.g. quay.io"
        )
    );
}

#[test]
fn an_io_failure_exits_1() {
    let folder = Folder::new(INVENTORY);
    assert_eq!(
        failure(&folder.run(&["hash", "nosuch.json"], None)),
        error("cannot read nosuch.json: No such file or directory")
    );
}

#[test]
fn a_registry_that_cannot_be_reached_exits_1() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let folder = Folder::new(INVENTORY);
    let out = folder.run(
        &["registry", "add", "127.0.0.1:1", "u", "--password-env", "X"],
        None,
    );
    assert_eq!(
        failure(&out),
        error(
            "cannot log in to 127.0.0.1:1: cannot reach https://127.0.0.1:1/v2/: Connection refused"
        )
    );
}

#[test]
fn conflicts_exit_1() {
    let folder = Folder::new(INVENTORY);
    let add = [
        "registry",
        "add",
        "ghcr.io",
        "u",
        "--password-env",
        "X",
        "--skip-validation",
    ];
    assert!(folder.run(&add, None).status.success());
    assert_eq!(
        failure(&folder.run(&add, None)),
        error(
            "registry ghcr.io already exists: it was added with `regforge registry add`; change it with `regforge registry update ghcr.io`"
        )
    );
    assert_eq!(
        failure(&folder.run(&["registry", "delete", "quay.io"], None)),
        error(
            "registry quay.io is written by hand in regforge.yaml; delete it by editing that file"
        )
    );
}

/// The descriptors of process `pid` that are open on `path`.
fn has_open(pid: u32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
}

#[test]
fn losing_a_race_for_the_lock_exits_1() {
    // The test holds the inventory's lock; `registry add` reads the inventory, finds no
    // ghcr.io, and waits for the lock. Meanwhile "another command" adds ghcr.io. When the
    // lock is free, the add re-reads the managed file under it and gives way.
    let folder = Folder::new(INVENTORY);
    let first = [
        "registry",
        "add",
        "ghcr.io",
        "u",
        "--password-env",
        "X",
        "--skip-validation",
    ];
    assert!(folder.run(&first, None).status.success());
    let managed = folder.path().join("regforge.registries.yaml");
    let with_ghcr = std::fs::read(&managed).unwrap();
    assert!(
        folder
            .run(&["registry", "delete", "ghcr.io"], None)
            .status
            .success()
    );

    let lock_path: PathBuf = folder.path().join(".regforge.yaml.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_regforge"))
        .current_dir(folder.path())
        .args(first)
        .env_clear()
        .env("X", "x-Secret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waited = Instant::now();
    while !has_open(child.id(), &lock_path) {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the add never took the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(&managed, &with_ghcr).unwrap();
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        failure(&out),
        error(
            "registry ghcr.io was just added by another command; change it with `regforge registry update ghcr.io`"
        )
    );
    assert_eq!(std::fs::read(&managed).unwrap(), with_ghcr);
}

#[test]
fn drift_found_by_check_exits_1() {
    let folder = Folder::new(INVENTORY);
    assert!(folder.run(&["render"], None).status.success());
    std::fs::write(folder.path().join("out/config.json"), "{}\n").unwrap();
    let out = folder.run(&["render", "--check"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with("--- out/config.json\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        text(&out.stderr),
        "error: 1 file(s) under out differ from what regforge renders; run `regforge render` to update them\n"
    );
}

#[test]
fn help_ends_with_the_table() {
    let out = Folder::new(INVENTORY).run(&["--help"], None);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).ends_with(
            "Exit status:\n  0  done (render --check: up to date)\n  1  any failure: invalid input or inventory, I/O, a registry's refusal, a conflict,\n     drift found by --check, a target or registry the inventory lacks\n  2  command-line misuse: an unknown flag, a missing argument\n"
        ),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_document_that_cannot_carry_a_registry_exits_1() {
    let folder = Folder::new("registries:\n  - {address: gcr.io, helper: gcr}\n");
    assert_eq!(
        failure(&folder.run(&["document", "dockercfg"], None)),
        error(
            "dockercfg: registry gcr.io uses a credential helper, which .dockercfg cannot express; use docker-config"
        )
    );
}

/// docs/command-line.md shows the exit status table exactly as `--help` prints it.
#[test]
fn the_command_line_page_shows_the_help_table() {
    let out = Folder::new(INVENTORY).run(&["--help"], None);
    let help = text(&out.stdout);
    let table = &help[help.find("Exit status:\n").unwrap()..];
    let page =
        std::fs::read_to_string(crate::support::root().join("docs/command-line.md")).unwrap();
    assert!(
        page.contains(&format!("```text\n{table}```\n")),
        "docs/command-line.md:\n{table}"
    );
}

/// clap's colours appear on a terminal only, and never with NO_COLOR.
#[test]
fn colours_only_on_a_terminal_and_never_with_no_color() {
    let folder = Folder::new(INVENTORY);
    let escape = '\u{1b}';
    let coloured = crate::support::on_a_terminal(folder.path(), "--bogus", &[]);
    assert!(coloured.contains(escape), "{coloured:?}");
    let plain = crate::support::on_a_terminal(folder.path(), "--bogus", &[("NO_COLOR", "1")]);
    assert!(
        plain.contains("unexpected argument") && !plain.contains(escape),
        "{plain:?}"
    );
    let (code, piped) = failure(&folder.run(&["--bogus"], None));
    assert_eq!(code, Some(2));
    assert!(!piped.contains(escape), "{piped:?}");
}
