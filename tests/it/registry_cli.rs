//! `regforge registry …` against real distribution registries on 127.0.0.1, and the managed file under concurrency and SIGKILL.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::registry_server::{PASSWORD, RegistryServer, TokenServer};
use crate::support::{read_tree, regforge_in, text};

const WRONG_PASSWORD: &str = "not-the-Pa55word-at-all";
const HAND_PASSWORD: &str = "hand-written-quay-Secret";
/// Every secret a test hands to regforge; none may ever appear in what it prints.
const SECRETS: [&str; 3] = [PASSWORD, WRONG_PASSWORD, HAND_PASSWORD];

const INVENTORY: &str = "# written by hand; regforge must keep every byte of it\nregistries:\n  - address: quay.io            # a robot account\n    username: robot\n    password: {env: QUAY_PW}\ntargets:\n  - name: config\n    format: docker-config       # all registries\n";

/// A folder with a hand-written inventory in it.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("regforge.yaml"), INVENTORY).unwrap();
        Workspace { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn inventory(&self) -> PathBuf {
        self.path().join("regforge.yaml")
    }

    fn managed(&self) -> PathBuf {
        self.path().join("regforge.registries.yaml")
    }

    /// Runs `regforge -i INVENTORY args…` with the right and wrong passwords in the
    /// environment, and checks that no secret appears on stdout or stderr.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let inventory = self.inventory();
        let mut full = vec!["-i", inventory.to_str().unwrap()];
        full.extend_from_slice(args);
        let out = regforge_in(
            self.path(),
            &full,
            &[
                ("GOOD_PW", PASSWORD),
                ("BAD_PW", WRONG_PASSWORD),
                ("QUAY_PW", HAND_PASSWORD),
            ],
            stdin.map(str::as_bytes),
        );
        assert_no_secret(&out);
        out
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            text(&out.stderr)
        );
        out
    }
}

fn assert_no_secret(out: &Output) {
    for secret in SECRETS {
        for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text(stream).contains(secret),
                "a secret was printed on {name}: {}",
                text(stream)
            );
        }
    }
}

fn status(out: &Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn basic_auth_right_password_is_added_and_listed() {
    let registry = RegistryServer::start_htpasswd();
    let ws = Workspace::new();
    let address = registry.address();
    let ca = registry.ca_pem();
    let out = ws.ok(
        &[
            "registry",
            "add",
            &address,
            registry.user(),
            "--password-env",
            "GOOD_PW",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        text(&out.stderr).contains("succeeded (basic auth)"),
        "{}",
        text(&out.stderr)
    );
    let list = text(&ws.ok(&["registry", "list"], None).stdout);
    let lines: Vec<&str> = list.lines().collect();
    let w = address.len();
    assert_eq!(
        lines[0],
        format!("{:<w$}  Type       User           Verify TLS", "Registry")
    );
    assert_eq!(
        lines[1],
        format!("{address}  docker_v2  regforge-test  true")
    );
    assert_eq!(
        lines[2],
        format!("{:<w$}  docker_v2  robot          true", "quay.io")
    );
    // The inventory kept every byte and gained only the include.
    let inventory = std::fs::read_to_string(ws.inventory()).unwrap();
    assert!(inventory.starts_with(INVENTORY));
    assert!(inventory.ends_with("managed_registries: regforge.registries.yaml\n"));
    let get = text(&ws.ok(&["registry", "get", &address], None).stdout);
    assert!(get.starts_with(&format!(
        "Registry: {address}\nType: docker_v2\nUser: regforge-test\nVerify TLS: true\nCreated: "
    )));
    let get = text(&ws.ok(&["registry", "get", "quay.io"], None).stdout);
    assert!(get.ends_with("Created: -\nUpdated: -\n"), "{get}");
}

#[test]
fn password_from_stdin_is_stored_0600_and_checked() {
    let registry = RegistryServer::start_htpasswd();
    let ws = Workspace::new();
    let address = registry.address();
    let ca = registry.ca_pem();
    let out = ws.ok(
        &[
            "registry",
            "add",
            &address,
            registry.user(),
            "--password-stdin",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        Some(&format!("{}\n", registry.password())),
    );
    assert!(text(&out.stderr).contains("keep"), "{}", text(&out.stderr));
    let secrets = ws.path().join("secrets");
    assert_eq!(
        std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::read_to_string(secrets.join(".gitignore")).unwrap(),
        "*\n"
    );
    let file = secrets.join(format!("127.0.0.1_{}.password", &address[10..]));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), PASSWORD);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The stored reference works for a later check, and delete removes the file.
    ws.ok(
        &[
            "registry",
            "update",
            &address,
            "--email",
            "ops@example.com",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        None,
    );
    ws.ok(&["registry", "delete", &address], None);
    assert!(!file.exists());
}

#[test]
fn wrong_password_is_unauthorized_and_changes_nothing() {
    let registry = RegistryServer::start_htpasswd();
    let ws = Workspace::new();
    // A managed file exists already, so both files are compared.
    ws.ok(
        &[
            "registry",
            "add",
            "ghcr.io",
            "octocat",
            "--password-env",
            "X",
            "--skip-validation",
        ],
        None,
    );
    let before = read_tree(ws.path());
    let address = registry.address();
    let ca = registry.ca_pem();
    for password in [vec!["--password-env", "BAD_PW"], vec!["--password-stdin"]] {
        let mut args = vec![
            "registry",
            "add",
            &address,
            registry.user(),
            "--ca-cert",
            ca.to_str().unwrap(),
        ];
        args.extend(password);
        let out = ws.run(&args, Some(WRONG_PASSWORD));
        assert_eq!(status(&out), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("unauthorized"),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        assert_eq!(read_tree(ws.path()), before, "a failed add changed files");
    }
}

#[test]
fn tls_needs_the_ca_or_insecure() {
    let registry = RegistryServer::start_htpasswd();
    let ws = Workspace::new();
    let address = registry.address();
    let before = read_tree(ws.path());
    let out = ws.run(
        &[
            "registry",
            "add",
            &address,
            registry.user(),
            "--password-env",
            "GOOD_PW",
        ],
        None,
    );
    assert_eq!(status(&out), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("TLS with https://") && stderr.contains("--ca-cert"),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert_eq!(read_tree(ws.path()), before);
    let out = ws.ok(
        &[
            "registry",
            "add",
            &address,
            registry.user(),
            "--password-env",
            "GOOD_PW",
            "--insecure",
        ],
        None,
    );
    assert!(text(&out.stderr).contains("succeeded"));
    let list = text(&ws.ok(&["registry", "list"], None).stdout);
    assert!(
        list.contains(&format!("{address}  docker_v2  regforge-test  false")),
        "{list}"
    );
    let get = text(&ws.ok(&["registry", "get", &address], None).stdout);
    assert!(get.contains("Verify TLS: false\n"));
    let json: serde_json::Value =
        serde_json::from_slice(&ws.ok(&["registry", "get", &address, "--json"], None).stdout)
            .unwrap();
    assert_eq!(json["verify_tls"], false);
    assert!(
        std::fs::read_to_string(ws.managed())
            .unwrap()
            .contains("insecure: true")
    );
    // Back to verification: the check must then fail again without the CA.
    let out = ws.run(&["registry", "update", &address, "--verify-tls"], None);
    assert_eq!(status(&out), Some(1), "{}", text(&out.stderr));
}

#[test]
fn bearer_tokens_from_the_realm_against_the_real_registry() {
    let tokens = TokenServer::start();
    let registry = RegistryServer::start(tokens.auth());
    let ws = Workspace::new();
    let address = registry.address();
    let ca = registry.ca_pem();
    let out = ws.run(
        &[
            "registry",
            "add",
            &address,
            registry.user(),
            "--password-env",
            "BAD_PW",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(status(&out), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unauthorized"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tokens.hits(), 1, "the realm was not asked");
    let out = ws.run(
        &[
            "registry",
            "add",
            &address,
            registry.user(),
            "--password-env",
            "GOOD_PW",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}\nregistry log:\n{}",
        text(&out.stderr),
        registry.log()
    );
    assert!(
        text(&out.stderr).contains(&format!("bearer token from {}", tokens.realm())),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tokens.hits(), 2);
}

#[test]
fn failures_say_which() {
    let ws = Workspace::new();
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let out = ws.run(
        &[
            "registry",
            "add",
            &address,
            "u",
            "--password-env",
            "GOOD_PW",
        ],
        None,
    );
    assert_eq!(status(&out), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach https://"),
        "{}",
        text(&out.stderr)
    );
    // --skip-validation contacts nothing.
    ws.ok(
        &[
            "registry",
            "add",
            &address,
            "u",
            "--password-env",
            "GOOD_PW",
            "--skip-validate",
        ],
        None,
    );
    assert!(text(&ws.ok(&["registry", "list"], None).stdout).contains(&address));
}

#[test]
fn passwords_on_the_command_line_are_refused() {
    let ws = Workspace::new();
    for args in [
        vec!["registry", "add", "ghcr.io", "octocat", PASSWORD],
        vec!["registry", "add", "ghcr.io", "octocat", "-p", PASSWORD],
        vec![
            "registry",
            "add",
            "ghcr.io",
            "octocat",
            "--password",
            PASSWORD,
        ],
        vec!["registry", "update", "quay.io", "--password", PASSWORD],
    ] {
        let out = ws.run(&args, None);
        assert_eq!(status(&out), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("shell history") && stderr.contains("--password-stdin"),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(ws.inventory()).unwrap(), INVENTORY);
}

#[test]
fn existing_hand_written_and_targeted_registries_are_guarded() {
    let ws = Workspace::new();
    let skip = ["--password-env", "X", "--skip-validation"];
    let add = |address: &str| {
        let mut args = vec!["registry", "add", address, "u"];
        args.extend(skip);
        ws.run(&args, None)
    };
    assert!(add("docker.io").status.success());
    // Hub aliases are one registry.
    let out = add("registry-1.docker.io");
    assert_eq!(status(&out), Some(1));
    assert!(
        text(&out.stderr).contains("regforge registry update docker.io"),
        "{}",
        text(&out.stderr)
    );
    let out = add("quay.io");
    assert!(
        text(&out.stderr).contains("written by hand in"),
        "{}",
        text(&out.stderr)
    );
    for verb in ["update", "delete"] {
        let mut args = vec!["registry", verb, "quay.io"];
        if verb == "update" {
            args.extend(["--email", "e@x", "--skip-validation"]);
        }
        let out = ws.run(&args, None);
        assert_eq!(status(&out), Some(1));
        assert!(
            text(&out.stderr).contains("is written by hand in"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = ws.run(&["registry", "get", "nope.example.com"], None);
    assert_eq!(status(&out), Some(1));
    // A target that names a managed registry keeps it, unless --force.
    let inventory = std::fs::read_to_string(ws.inventory()).unwrap();
    std::fs::write(
        ws.inventory(),
        format!("{inventory}\n# and one more target\n").replace(
            "format: docker-config       # all registries\n",
            "format: docker-config\n    registries: [quay.io, index.docker.io]\n",
        ),
    )
    .unwrap();
    let out = ws.run(&["registry", "del", "docker.io"], None);
    assert_eq!(status(&out), Some(1));
    assert!(
        text(&out.stderr).contains("target(s) config still name"),
        "{}",
        text(&out.stderr)
    );
    ws.ok(&["registry", "del", "docker.io", "--force"], None);
    assert!(
        !std::fs::read_to_string(ws.managed())
            .unwrap()
            .contains("docker.io")
    );
}

#[test]
fn an_address_in_both_files_names_both_places() {
    let ws = Workspace::new();
    ws.ok(
        &[
            "registry",
            "add",
            "ghcr.io",
            "u",
            "--password-env",
            "X",
            "--skip-validation",
        ],
        None,
    );
    let inventory = std::fs::read_to_string(ws.inventory()).unwrap();
    std::fs::write(
        ws.inventory(),
        inventory.replace(
            "targets:",
            "  - address: ghcr.io\n    username: me\n    password: {env: X}\ntargets:",
        ),
    )
    .unwrap();
    let out = ws.run(&["registry", "list"], None);
    assert_eq!(status(&out), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("regforge.registries.yaml:4:")
            && stderr.contains("registries[0].address")
            && stderr.contains("regforge.yaml:6:")
            && stderr.contains("registries[1].address"),
        "{stderr}"
    );
}

fn spawn(ws: &Workspace, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_regforge"))
        .current_dir(ws.path())
        .arg("-i")
        .arg(ws.inventory())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn twenty_concurrent_adds_lose_nothing() {
    let ws = Workspace::new();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let address = format!("registry-{i}.example.com");
            spawn(
                &ws,
                &[
                    "registry",
                    "add",
                    &address,
                    "u",
                    "--password-env",
                    "X",
                    "--skip-validation",
                ],
            )
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let list = ws.ok(&["registry", "list", "--json"], None);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.len(), 21);
    let managed = std::fs::read_to_string(ws.managed()).unwrap();
    for i in 0..20 {
        assert!(managed.contains(&format!("address: registry-{i}.example.com\n")));
    }
    // The include was appended exactly once.
    let inventory = std::fs::read_to_string(ws.inventory()).unwrap();
    assert_eq!(inventory.matches("managed_registries:").count(), 1);
    assert!(inventory.starts_with(INVENTORY));
}

#[test]
fn writers_killed_at_random_moments_leave_files_that_parse() {
    let ws = Workspace::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..60 {
        if i % 10 == 0 {
            // Take the include away now and then, so that appending it is killed too.
            std::fs::write(ws.inventory(), INVENTORY).unwrap();
        }
        let address = format!("r{}.example.com", next() % 6);
        let args: Vec<&str> = match next() % 3 {
            0 => vec![
                "registry",
                "add",
                &address,
                "u",
                "--password-env",
                "X",
                "--skip-validation",
            ],
            1 => vec![
                "registry",
                "update",
                &address,
                "--email",
                "e@example.com",
                "--skip-validation",
            ],
            _ => vec!["registry", "delete", &address],
        };
        let mut child = spawn(&ws, &args);
        std::thread::sleep(std::time::Duration::from_micros(next() % 8000));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let out = ws.run(&["registry", "list"], None);
        assert!(
            out.status.success(),
            "after killing {args:?} (iteration {i}): {}",
            text(&out.stderr)
        );
        let inventory = std::fs::read_to_string(ws.inventory()).unwrap();
        assert!(inventory.starts_with(INVENTORY));
    }
}

#[test]
fn the_harness_serves_skopeo_with_its_cert_dir() {
    let registry = RegistryServer::start_htpasswd();
    let image = registry.push_tiny_image();
    let skopeo = crate::support::require_tool("skopeo", "skopeo");
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(skopeo)
        .env("HOME", home.path())
        .args(["inspect", "--creds"])
        .arg(format!("{}:{}", registry.user(), registry.password()))
        .arg("--cert-dir")
        .arg(registry.cert_dir())
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inspected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        inspected["Name"],
        format!("{}/test/tiny", registry.address())
    );
    assert_eq!(inspected["Layers"].as_array().map(Vec::len), Some(1));
}

/// A registry whose certificate is self-signed with CA:TRUE (what `openssl req -x509`
/// makes): --ca-cert with that certificate pins it, so the right password is accepted
/// and a wrong one is refused as unauthorized, not as a TLS failure.
#[test]
fn ca_cert_pins_a_self_signed_registry_certificate() {
    let registry = RegistryServer::start_self_signed();
    let ws = Workspace::new();
    let address = registry.address();
    let ca = registry.ca_pem();
    let add = |env: &str| {
        ws.run(
            &[
                "registry",
                "add",
                &address,
                registry.user(),
                "--password-env",
                env,
                "--ca-cert",
                ca.to_str().unwrap(),
            ],
            None,
        )
    };
    let wrong = add("BAD_PW");
    assert_eq!(status(&wrong), Some(1));
    let stderr = text(&wrong.stderr);
    assert!(stderr.contains("unauthorized"), "{stderr}");
    assert_no_secret(&wrong);
    let right = add("GOOD_PW");
    assert_eq!(status(&right), Some(0), "{}", text(&right.stderr));
    assert!(
        text(&right.stderr).contains("succeeded (basic auth)"),
        "{}",
        text(&right.stderr)
    );
    // Without the certificate, the registry is not trusted.
    let untrusted = ws.run(
        &["registry", "update", &address, "--password-env", "GOOD_PW"],
        None,
    );
    assert_eq!(status(&untrusted), Some(1));
    assert!(
        text(&untrusted.stderr).contains("TLS with https://"),
        "{}",
        text(&untrusted.stderr)
    );
}

/// The inventory's shape and place are kept: a flow-style (JSON) inventory, which a
/// line cannot be appended to, is refused before anything is written; an inventory
/// given as a link is written where it really is; an add killed between its two writes
/// (the managed file written, the include not yet) is completed by running it again.
#[test]
fn add_keeps_flow_style_and_linked_inventories_and_completes_an_interrupted_add() {
    let add = |dir: &Path, inventory: &str| {
        regforge_in(
            dir,
            &[
                "-i",
                inventory,
                "registry",
                "add",
                "quay.io",
                "robot",
                "--password-stdin",
                "--skip-validation",
            ],
            &[],
            Some(b"pw"),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let json = "{\"registries\": [], \"targets\": []}\n";
    std::fs::write(dir.path().join("regforge.yaml"), json).unwrap();
    let out = add(dir.path(), "regforge.yaml");
    assert_eq!(status(&out), Some(1));
    assert!(
        text(&out.stderr).contains("is not block-style YAML"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("regforge.yaml")).unwrap(),
        json
    );
    assert!(!dir.path().join("regforge.registries.yaml").exists());
    // The password file stored before the refusal is gone again, and nothing says otherwise.
    assert!(!dir.path().join("secrets/quay.io.password").exists());
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!said.contains("stored the password"), "{said}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::fs::write(dir.path().join("real/inv.yaml"), "registries: []\n").unwrap();
    std::os::unix::fs::symlink("real/inv.yaml", dir.path().join("link.yaml")).unwrap();
    let out = add(dir.path(), "link.yaml");
    assert_eq!(status(&out), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(dir.path().join("link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(dir.path().join("real/inv.yaml"))
            .unwrap()
            .contains("managed_registries:")
    );
    assert!(dir.path().join("real/regforge.registries.yaml").is_file());

    // Killed between the writes: the managed file holds the registry, the inventory
    // does not include it yet.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("regforge.yaml"), "registries: []\n").unwrap();
    std::fs::write(
        dir.path().join("regforge.registries.yaml"),
        "registries:\n- address: quay.io\n  username: robot\n  password:\n    file: secrets/quay.io.password\n  created: 2026-01-01T00:00:00Z\n  updated: 2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    let out = add(dir.path(), "regforge.yaml");
    assert_eq!(status(&out), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("completing an interrupted `registry add` of quay.io"));
    let list = regforge_in(dir.path(), &["registry", "list"], &[], None);
    assert!(
        text(&list.stdout).contains("quay.io"),
        "{}",
        text(&list.stdout)
    );
}
