//! A real registry for tests: Debian's distribution v2 (`docker-registry`) on 127.0.0.1 with
//! htpasswd (bcrypt) and a self-signed TLS certificate, holding one tiny image pushed by skopeo.
//! It stops when dropped, also when the test fails.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::support::{require_tool, text};

pub const USER: &str = "regforge-test";
pub const PASSWORD: &str = "Correct-Horse:battery<&>staple";
/// The repository pushed at start, tagged `1`.
pub const REPOSITORY: &str = "team/tiny";

pub struct RegistryServer {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`
    pub address: String,
}

impl RegistryServer {
    /// Starts the server and pushes `team/tiny:1`.
    pub fn start() -> RegistryServer {
        let registry = require_tool("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let root = &dir.path().to_path_buf();
        run(Command::new(require_tool("openssl", "openssl"))
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ])
            .arg("-keyout")
            .arg(root.join("key.pem"))
            .arg("-out")
            .arg(root.join("cert.pem")));
        std::fs::create_dir(root.join("certs")).unwrap();
        std::fs::copy(root.join("cert.pem"), root.join("certs/ca.crt")).unwrap();
        let htpasswd =
            run(Command::new(require_tool("htpasswd", "apache2-utils"))
                .args(["-Bbn", USER, PASSWORD]));
        std::fs::write(root.join("htpasswd"), htpasswd).unwrap();

        // A free port: bind, note it, release. Another process could take it in between;
        // the start is retried on a new port then.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let address = format!("127.0.0.1:{port}");
            let config = root.join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {data}\nhttp:\n  addr: {address}\n  tls:\n    certificate: {cert}\n    key: {key}\nauth:\n  htpasswd:\n    realm: regforge-test\n    path: {htpasswd}\n",
                    data = root.join("data").display(),
                    cert = root.join("cert.pem").display(),
                    key = root.join("key.pem").display(),
                    htpasswd = root.join("htpasswd").display(),
                ),
            )
            .unwrap();
            let mut child = Command::new(&registry)
                .arg("serve")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(root.join("server.log")).unwrap())
                .spawn()
                .unwrap();
            if wait_until_listening(&mut child, &address, root) {
                let server = RegistryServer {
                    child,
                    dir,
                    address,
                };
                server.push_tiny_image();
                return server;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the registry did not start on a free port after 5 tries");
    }

    pub fn cert_dir(&self) -> PathBuf {
        self.dir.path().join("certs")
    }

    pub fn image(&self) -> String {
        format!("docker://{}/{REPOSITORY}:1", self.address)
    }

    /// Pushes a one-layer OCI image built here by hand, so nothing is downloaded.
    fn push_tiny_image(&self) {
        let layout = self.dir.path().join("oci");
        write_oci_layout(&layout);
        let creds = format!("{USER}:{PASSWORD}");
        run(Command::new(require_tool("skopeo", "skopeo"))
            .args([
                "--insecure-policy",
                "copy",
                "--dest-creds",
                &creds,
                "--dest-cert-dir",
            ])
            .arg(self.cert_dir())
            .arg(format!("oci:{}:1", layout.display()))
            .arg(self.image()));
    }

    /// `skopeo inspect` of the pushed image with `authfile`: Ok, or Err with skopeo's message.
    pub fn inspect_with(&self, authfile: &Path) -> Result<(), String> {
        let out = Command::new(require_tool("skopeo", "skopeo"))
            .arg("inspect")
            .arg("--authfile")
            .arg(authfile)
            .arg("--cert-dir")
            .arg(self.cert_dir())
            .arg(self.image())
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(text(&out.stderr))
        }
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until_listening(child: &mut Child, address: &str, root: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
            eprintln!("registry exited ({status}): {log}");
            return false;
        }
        if TcpStream::connect(address).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
    out.stdout
}

/// An OCI image layout holding one image: a config and one gzip layer with one file.
fn write_oci_layout(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let blob = |bytes: &[u8]| -> (String, usize) {
        let hex = hex::encode(Sha256::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_path("hello.txt").unwrap();
    header.set_size(6);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append(&header, &b"hello\n"[..]).unwrap();
    let layer_tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &layer_tar).unwrap();
    let (layer, layer_size) = blob(&gz.finish().unwrap());
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&layer_tar)));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "config": {}
    });
    let (config, config_size) = blob(&serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size}]
    });
    let (manifest, manifest_size) = blob(&serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "1"}
        }]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}
