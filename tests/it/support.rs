//! Running the binary, reading folders, and finding the real tools the tests need.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// Every fixture case: a folder holding `regforge.yaml` and `expected/`.
pub fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("regforge.yaml").is_file())
        .collect();
    cases.sort();
    cases
}

/// Runs regforge with a clean environment (PATH and HOME only, plus `env`).
pub fn regforge(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    regforge_in(&root(), args, env, stdin)
}

/// Like `regforge`, run in the folder `cwd`.
pub fn regforge_in(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regforge"));
    cmd.current_dir(cwd);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("regforge runs");
    let mut pipe = child.stdin.take().unwrap();
    // Written from a thread while the output is collected, so a large input cannot
    // block on full pipes; a command that stops reading early (a bounded query) closes
    // the pipe, which is not the test's failure.
    let input = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || match pipe.write_all(&input) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
        _ => {}
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// All files under `dir`, by relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(base, &path, out);
        } else {
            out.insert(
                path.strip_prefix(base).unwrap().to_path_buf(),
                std::fs::read(&path).unwrap(),
            );
        }
    }
}

/// Copies a folder tree (a fixture) to `dest`.
pub fn copy_tree(from: &Path, dest: &Path) {
    for (path, bytes) in read_tree(from) {
        let target = dest.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

/// Renders a fixture case into a fresh folder and returns it.
pub fn render_case(case: &Path) -> tempfile::TempDir {
    render_case_with(case, &[])
}

/// Like `render_case`, with more `render` arguments.
pub fn render_case_with(case: &Path, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let inventory = case.join("regforge.yaml");
    let mut args = vec![
        "-i",
        inventory.to_str().unwrap(),
        "render",
        "--out-dir",
        out.path().to_str().unwrap(),
    ];
    args.extend(extra);
    let result = regforge(&args, &[], None);
    assert!(
        result.status.success(),
        "{}: {}",
        case.display(),
        text(&result.stderr)
    );
    out
}

/// The path of a real tool; a missing one fails the test with how to install it.
pub fn require_tool(name: &str, package: &str) -> PathBuf {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed; install it with `sudo apt-get install -y {package}` (or run ./scripts/test, which does)")
    })
}

/// The environment `node_inventory`'s secrets come from.
pub const NODE_ENV: [(&str, &str); 3] = [
    ("HUB_PW", "hub-pw"),
    ("MIRROR_PW", "mirror-pw"),
    ("ACR_TOKEN", "acr-token"),
];

/// Writes `dir/regforge.yaml` with today's node registries: Docker Hub behind a mirror
/// that has its own login, CA and client certificate (`ca.pem`, `node.pem`, `node.key`,
/// made by openssl beside it), and an identity-token registry; then `targets`.
pub fn node_inventory(dir: &Path, targets: &str) -> PathBuf {
    crate::registry_server::self_signed(dir, "/CN=mirror-ca", "ca.key", "ca.pem");
    crate::registry_server::self_signed(dir, "/CN=node", "node.key", "node.pem");
    let inventory = dir.join("regforge.yaml");
    std::fs::write(
        &inventory,
        format!(
            "registries:
  - address: docker.io
    username: hubuser
    password: {{env: HUB_PW}}
    mirrors: ['https://mirror.example.com:5000']
  - address: mirror.example.com:5000
    username: alice
    password: {{env: MIRROR_PW}}
    ca: {{file: ca.pem}}
    client_cert: {{file: node.pem}}
    client_key: {{file: node.key}}
  - address: example.azurecr.io
    username: 00000000-0000-0000-0000-000000000000
    identity_token: {{env: ACR_TOKEN}}
targets:
{targets}"
        ),
    )
    .unwrap();
    inventory
}

/// What `render TARGET --stdout` prints for the inventory at `inventory`, which must succeed.
pub fn render_stdout(inventory: &Path, target: &str, env: &[(&str, &str)]) -> String {
    let out = regforge(
        &[
            "-i",
            inventory.to_str().unwrap(),
            "render",
            target,
            "--stdout",
        ],
        env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Runs `regforge ARGS` in `dir` on a pseudo-terminal (util-linux `script`), returning
/// what the terminal showed, stdout and stderr together, whatever the exit status.
pub fn on_a_terminal(dir: &Path, args: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new("script")
        .current_dir(dir)
        .args(["--quiet", "--return", "--command"])
        .arg(format!("{} {args}", env!("CARGO_BIN_EXE_regforge")))
        .arg("/dev/null")
        .envs(env.iter().copied())
        .output()
        .expect("`script` runs a command on a terminal: apt-get install bsdutils");
    text(&out.stdout)
}
