//! containerd: `containerd-config` read by Debian's containerd 1.6 (`config dump`), and parsed
//! back against FORMATS.md §13 where 1.6 cannot read it (version 3).

use std::path::Path;
use std::process::Command;

use toml_edit::{DocumentMut, Item};

use crate::support::{regforge, require_tool, text};

const HUB_PASSWORD: &str = "hub-pw-0f9e";
const MIRROR_PASSWORD: &str = "mirror-pw-77ab";

/// An inventory with Docker Hub behind a mirror that logs in itself, an identity-token
/// registry, and `targets`.
fn inventory(dir: &Path, targets: &str) -> std::path::PathBuf {
    let path = dir.join("regforge.yaml");
    std::fs::write(
        &path,
        format!(
            "registries:
  - address: docker.io
    username: hubuser
    password: {{env: HUB_PW}}
    mirrors: ['https://mirror.internal:5000']
  - address: mirror.internal:5000
    username: node
    password: {{env: MIRROR_PW}}
  - address: example.azurecr.io
    username: 00000000-0000-0000-0000-000000000000
    identity_token: {{env: ACR_TOKEN}}
targets:
{targets}"
        ),
    )
    .unwrap();
    path
}

/// Renders the one target of the inventory in `dir` to stdout.
fn render(dir: &Path, target: &str) -> (String, String) {
    let inventory = dir.join("regforge.yaml");
    let out = regforge(
        &[
            "-i",
            inventory.to_str().unwrap(),
            "render",
            target,
            "--stdout",
        ],
        &[
            ("HUB_PW", HUB_PASSWORD),
            ("MIRROR_PW", MIRROR_PASSWORD),
            ("ACR_TOKEN", "acr-refresh-token"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

/// What `containerd --config FILE config dump` prints: the merged config as containerd
/// decoded it, every plugin with its defaults.
fn dump(config: &Path) -> DocumentMut {
    let containerd = require_tool("containerd", "containerd");
    let out = Command::new(containerd)
        .arg("--config")
        .arg(config)
        .args(["config", "dump"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).parse().unwrap()
}

fn at<'d>(doc: &'d DocumentMut, path: &[&str]) -> &'d Item {
    let mut item = doc.as_item();
    for key in path {
        item = item
            .get(key)
            .unwrap_or_else(|| panic!("no {} in:\n{doc}", path.join(".")));
    }
    item
}

fn str_at<'d>(doc: &'d DocumentMut, path: &[&str]) -> &'d str {
    at(doc, path).as_str().unwrap()
}

#[test]
fn containerd_1_6_reads_version_2_credentials_where_cri_looks_them_up() {
    let dir = tempfile::tempdir().unwrap();
    inventory(dir.path(), "  - {name: cri, format: containerd-config}\n");
    let (config, warnings) = render(dir.path(), "cri");
    assert!(
        warnings.contains("deprecated the CRI `configs` and `mirrors` tables"),
        "{warnings}"
    );
    assert!(
        warnings.contains("resets the node's other CRI settings"),
        "{warnings}"
    );
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &config).unwrap();
    let dumped = dump(&file);
    let registry = ["plugins", "io.containerd.grpc.v1.cri", "registry"];
    let auth = |host: &str, field: &str| {
        let mut path = registry.to_vec();
        path.extend(["configs", host, "auth", field]);
        str_at(&dumped, &path).to_string()
    };
    // Docker Hub under the host containerd contacts (core/remotes/docker/config/hosts.go).
    assert_eq!(auth("registry-1.docker.io", "username"), "hubuser");
    assert_eq!(auth("registry-1.docker.io", "password"), HUB_PASSWORD);
    // The mirror's own login, under the mirror's host:port.
    assert_eq!(auth("mirror.internal:5000", "password"), MIRROR_PASSWORD);
    // A token with no username beside it: ParseAuth would take the username first.
    assert_eq!(
        auth("example.azurecr.io", "identitytoken"),
        "acr-refresh-token"
    );
    assert_eq!(auth("example.azurecr.io", "username"), "");
    let mut mirrors = registry.to_vec();
    mirrors.extend(["mirrors", "docker.io", "endpoint"]);
    let endpoints: Vec<&str> = at(&dumped, &mirrors)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["https://mirror.internal:5000"]);
    assert!(
        at(&dumped, &registry)
            .get("configs")
            .unwrap()
            .get("docker.io")
            .is_none(),
        "a docker.io key is never found by containerd"
    );
}

/// The trap the version 2 warning names: containerd 1.x replaces the whole CRI table with
/// the drop-in's, so the node's own CRI settings are lost.
#[test]
fn a_version_2_drop_in_resets_containerd_1_6_cri_settings() {
    let dir = tempfile::tempdir().unwrap();
    inventory(dir.path(), "  - {name: cri, format: containerd-config}\n");
    let (config, _) = render(dir.path(), "cri");
    std::fs::write(dir.path().join("regforge.toml"), &config).unwrap();
    let main = dir.path().join("config.toml");
    let own = "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.example.com/pause:own\"\n";
    std::fs::write(&main, own).unwrap();
    let alone = dump(&main);
    let sandbox = ["plugins", "io.containerd.grpc.v1.cri", "sandbox_image"];
    assert_eq!(str_at(&alone, &sandbox), "registry.example.com/pause:own");
    let with_import = format!(
        "imports = [\"{}\"]\n{own}",
        dir.path().join("regforge.toml").display()
    );
    std::fs::write(&main, with_import).unwrap();
    let merged = dump(&main);
    assert_ne!(str_at(&merged, &sandbox), "registry.example.com/pause:own");
    assert_eq!(
        str_at(
            &merged,
            &[
                "plugins",
                "io.containerd.grpc.v1.cri",
                "registry",
                "configs",
                "registry-1.docker.io",
                "auth",
                "username"
            ]
        ),
        "hubuser"
    );
}

/// containerd 1.6 does not read version 3, so its structure is checked against FORMATS.md
/// §13 (containerd `internal/cri/config/config.go`, `plugins/cri/images/plugin.go`: the
/// `io.containerd.cri.v1.images` plugin's `registry` table).
#[test]
fn version_3_writes_the_images_plugin_with_config_path_and_no_mirrors() {
    let dir = tempfile::tempdir().unwrap();
    inventory(
        dir.path(),
        "  - name: cri\n    format: containerd-config\n    containerd: {version: 3, config_path: /etc/containerd/certs.d}\n",
    );
    let (config, warnings) = render(dir.path(), "cri");
    assert!(
        !warnings.contains("resets the node's other CRI settings"),
        "{warnings}"
    );
    let doc: DocumentMut = config.parse().unwrap();
    assert_eq!(at(&doc, &["version"]).as_integer(), Some(3));
    let registry = ["plugins", "io.containerd.cri.v1.images", "registry"];
    let mut path = registry.to_vec();
    path.push("config_path");
    assert_eq!(str_at(&doc, &path), "/etc/containerd/certs.d");
    assert!(at(&doc, &registry).get("mirrors").is_none(), "{config}");
    let mut path = registry.to_vec();
    path.extend(["configs", "registry-1.docker.io", "auth", "password"]);
    assert_eq!(str_at(&doc, &path), HUB_PASSWORD);
    assert!(
        doc.get("plugins")
            .unwrap()
            .get("io.containerd.grpc.v1.cri")
            .is_none()
    );
}

/// Writes each `write_files` entry of a cloud-config where it says, as cloud-init would
/// on a node: here the node's paths are under a test folder.
fn apply_write_files(cloud_config: &str) {
    use base64::Engine;
    let config: serde_yaml::Value = serde_yaml::from_str(cloud_config).unwrap();
    for file in config["write_files"].as_sequence().unwrap() {
        let path = Path::new(file["path"].as_str().unwrap());
        let content = file["content"].as_str().unwrap();
        let bytes = match file["encoding"].as_str() {
            Some("b64") => base64::engine::general_purpose::STANDARD
                .decode(content)
                .unwrap(),
            None => content.as_bytes().to_vec(),
            Some(other) => panic!("encoding {other}"),
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// A containerd daemon of its own (root, state and socket in a test folder; CRI off),
/// stopped on drop.
struct Containerd {
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Containerd {
    fn start() -> Containerd {
        let containerd = require_tool("containerd", "containerd");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\n[grpc]\n  address = \"{d}/containerd.sock\"\n\n\
                 [ttrpc]\n  address = \"{d}/containerd.sock.ttrpc\"\n"
            ),
        )
        .unwrap();
        let child = Command::new(containerd)
            .arg("--config")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("containerd.log")).unwrap())
            .spawn()
            .unwrap();
        let daemon = Containerd { dir, child };
        for _ in 0..200 {
            if daemon.ctr(&["version"]).status.success() {
                return daemon;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "containerd did not start (it needs root for its content store); log:\n{}",
            std::fs::read_to_string(daemon.dir.path().join("containerd.log")).unwrap_or_default()
        );
    }

    fn ctr(&self, args: &[&str]) -> std::process::Output {
        let ctr = require_tool("ctr", "containerd");
        Command::new(ctr)
            .arg("--address")
            .arg(self.dir.path().join("containerd.sock"))
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// containerd-hosts placed on a "node" (a test folder) by a cloud-config: Debian's
/// containerd 1.6 pulls through it from a registry that demands TLS with its own CA and a
/// client certificate; a wrong CA or a missing key fails.
#[test]
fn ctr_pulls_with_the_hosts_folder_from_a_registry_that_demands_a_client_certificate() {
    let registry = crate::registry_server::RegistryServer::start_with_client_certificates();
    let image = registry.push_tiny_image();
    let node = tempfile::tempdir().unwrap();
    let root = node.path().join("etc/containerd/certs.d");
    let certs = registry.cert_dir();
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    std::fs::write(
        &inventory,
        format!(
            "registries:
  - address: {address}
    ca: {{file: {certs}/ca.crt}}
    client_cert: {{file: {certs}/client.cert}}
    client_key: {{file: {certs}/client.key}}
targets:
  - name: node
    format: cloud-config
    files:
      - {{document: containerd-hosts, path: {root}}}
",
            address = registry.address(),
            certs = certs.display(),
            root = root.display(),
        ),
    )
    .unwrap();
    let out = regforge(
        &[
            "-i",
            inventory.to_str().unwrap(),
            "render",
            "node",
            "--stdout",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    apply_write_files(&text(&out.stdout));
    // The directory is named `host:port`, as written (FORMATS.md §14).
    let host_dir = root.join(registry.address());
    assert!(host_dir.join("hosts.toml").is_file());
    let daemon = Containerd::start();
    let creds = format!("{}:{}", registry.user(), registry.password());
    let fetch = || {
        daemon.ctr(&[
            "content",
            "fetch",
            "--user",
            &creds,
            "--hosts-dir",
            root.to_str().unwrap(),
            &image,
        ])
    };
    let done = fetch();
    assert!(
        done.status.success(),
        "ctr content fetch: {}{}\nregistry log:\n{}",
        text(&done.stdout),
        text(&done.stderr),
        registry.log()
    );
    // Without the client key, the registry refuses the TLS handshake.
    let key = std::fs::read(host_dir.join("client.key")).unwrap();
    std::fs::remove_file(host_dir.join("client.key")).unwrap();
    let refused = fetch();
    assert!(!refused.status.success(), "pulled without the client key");
    std::fs::write(host_dir.join("client.key"), key).unwrap();
    // With another CA, containerd does not trust the registry.
    crate::registry_server::self_signed(&host_dir, "/CN=someone else", "other.key", "ca.crt");
    let refused = fetch();
    assert!(
        !refused.status.success(),
        "pulled with a CA that did not sign the registry"
    );
    assert!(
        text(&refused.stderr).contains("certificate"),
        "{}",
        text(&refused.stderr)
    );
}

/// `containerd: {base: FILE}` writes a complete config: containerd 1.6 reads the node's
/// own CRI settings and the registry settings from it, where a drop-in would reset them.
#[test]
fn a_config_merged_into_the_nodes_own_keeps_its_cri_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("node-config.toml"),
        "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.example.com/pause:own\"\n\n\
         [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
    )
    .unwrap();
    inventory(
        dir.path(),
        "  - name: cri\n    format: containerd-config\n    containerd: {base: node-config.toml}\n",
    );
    let (config, warnings) = render(dir.path(), "cri");
    assert!(
        !warnings.contains("resets the node's other CRI settings"),
        "{warnings}"
    );
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &config).unwrap();
    let dumped = dump(&file);
    let cri = ["plugins", "io.containerd.grpc.v1.cri"];
    let mut sandbox = cri.to_vec();
    sandbox.push("sandbox_image");
    assert_eq!(str_at(&dumped, &sandbox), "registry.example.com/pause:own");
    let mut cgroup = cri.to_vec();
    cgroup.extend(["containerd", "runtimes", "runc", "options", "SystemdCgroup"]);
    assert_eq!(at(&dumped, &cgroup).as_bool(), Some(true));
    let mut auth = cri.to_vec();
    auth.extend([
        "registry",
        "configs",
        "registry-1.docker.io",
        "auth",
        "password",
    ]);
    assert_eq!(str_at(&dumped, &auth), HUB_PASSWORD);
}
