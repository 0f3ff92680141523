//! A real distribution registry (Debian's `docker-registry`) on 127.0.0.1 with TLS and htpasswd or token auth, for tests.
//!
//! `RegistryServer::start_htpasswd()` makes a CA and a server certificate for
//! 127.0.0.1/localhost with openssl, a bcrypt htpasswd file, and runs
//! `docker-registry serve` on a free loopback port; `start_token(realm)` runs one that
//! sends clients to a token server instead. The process is killed on drop, panics
//! included. `cert_dir()` is a folder with `ca.crt`, as skopeo's `--cert-dir` wants.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::require_tool;

pub const USER: &str = "regforge-test";
/// Test-only, but still checked never to appear in regforge's output.
pub const PASSWORD: &str = "s3cret-Pa55w0rd-for-the-test-registry";

/// How the registry authenticates clients.
pub enum Auth {
    Htpasswd,
    /// Bearer tokens from `realm`, for `service`, signed by the key of `cert` (issuer `issuer`).
    Token {
        realm: String,
        service: String,
        issuer: String,
        cert: PathBuf,
    },
}

pub struct RegistryServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl RegistryServer {
    pub fn start_htpasswd() -> RegistryServer {
        RegistryServer::start(Auth::Htpasswd)
    }

    /// An htpasswd registry that also demands a client certificate signed by its own
    /// client CA (`http.tls.clientcas`); `cert_dir()` then holds `client.cert` and
    /// `client.key` too, as docker's and containers' certs.d layout names them.
    pub fn start_with_client_certificates() -> RegistryServer {
        RegistryServer::start_as(Auth::Htpasswd, true)
    }

    pub fn start(auth: Auth) -> RegistryServer {
        RegistryServer::start_as(auth, false)
    }

    /// An htpasswd registry whose certificate is its own CA, as Docker's registry docs
    /// make one (`openssl req -x509`: self-signed, `CA:TRUE`); `ca_pem()` is that
    /// certificate.
    pub fn start_self_signed() -> RegistryServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                "server.key",
                "-out",
                "server.crt",
            ],
        );
        std::fs::copy(
            dir.path().join("server.crt"),
            dir.path().join("certs/ca.crt"),
        )
        .unwrap();
        RegistryServer::serve(dir, Auth::Htpasswd, false)
    }

    fn start_as(auth: Auth, client_certificates: bool) -> RegistryServer {
        let dir = tempfile::tempdir().unwrap();
        make_tls(dir.path());
        RegistryServer::serve(dir, auth, client_certificates)
    }

    fn serve(dir: tempfile::TempDir, auth: Auth, client_certificates: bool) -> RegistryServer {
        let registry = require_tool("docker-registry", "docker-registry");
        if client_certificates {
            make_client_certificate(dir.path());
        }
        make_htpasswd(dir.path());
        let mut last_error = String::new();
        // A port found free can be taken before the registry binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            let mut yaml = config_yaml(dir.path(), port, &auth);
            if client_certificates {
                let clientcas = format!(
                    "    clientcas:\n      - {}/client-ca.crt\n",
                    dir.path().display()
                );
                yaml = yaml.replace("\nauth:\n", &format!("\n{clientcas}auth:\n"));
            }
            std::fs::write(&config, yaml).unwrap();
            let log = dir.path().join("registry.log");
            let mut child = Command::new(&registry)
                .arg("serve")
                .arg(&config)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(dir.path().join("registry.out")).unwrap())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("docker-registry starts");
            if wait_for_port(port, &mut child) {
                return RegistryServer { dir, port, child };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_error = std::fs::read_to_string(&log).unwrap_or_default();
            if !last_error.contains("address already in use") {
                break;
            }
        }
        panic!("docker-registry did not start; its log:\n{last_error}");
    }

    /// `127.0.0.1:PORT`: the registry address for regforge, skopeo and docker.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A folder holding `ca.crt`, the CA that signed the server certificate (and, for a
    /// registry that demands one, the client certificate and key).
    pub fn cert_dir(&self) -> PathBuf {
        self.dir.path().join("certs")
    }

    /// The CA certificate as a PEM file.
    pub fn ca_pem(&self) -> PathBuf {
        self.cert_dir().join("ca.crt")
    }

    pub fn user(&self) -> &'static str {
        USER
    }

    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// Pushes a tiny one-layer image, built here as an OCI layout, to `test/tiny:1` with
    /// skopeo (htpasswd registries only: the test token server grants no push access);
    /// returns `127.0.0.1:PORT/test/tiny:1`. (skopeo compresses the layer on the way,
    /// so the pushed manifest digest is not the layout's.)
    pub fn push_tiny_image(&self) -> String {
        let skopeo = require_tool("skopeo", "skopeo");
        let layout = self.dir.path().join("oci-tiny");
        write_tiny_oci_layout(&layout);
        let image = format!("{}/test/tiny:1", self.address());
        let out = Command::new(skopeo)
            .env("HOME", self.dir.path())
            .args(["--insecure-policy", "copy", "--dest-creds"])
            .arg(format!("{USER}:{PASSWORD}"))
            .arg("--dest-cert-dir")
            .arg(self.cert_dir())
            .arg(format!("oci:{}:tiny", layout.display()))
            .arg(format!("docker://{image}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}\nregistry log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        image
    }

    /// What the registry logged so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let openssl = require_tool("openssl", "openssl");
    let out = Command::new(openssl)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate (2 days, RSA 2048) and its key, in `dir`.
pub fn self_signed(dir: &Path, subject: &str, key: &str, cert: &str) {
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject,
            "-keyout", key, "-out", cert,
        ],
    );
}

/// A CA, and a server certificate it signs for IP 127.0.0.1 and DNS localhost (rustls
/// refuses a CA certificate used as the server's own, so a self-signed leaf will not do).
fn make_tls(dir: &Path) {
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    self_signed(dir, "/CN=regforge test CA", "ca.key", "certs/ca.crt");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "certs/ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
}

/// A client CA the registry trusts, and a client certificate it signs, put in `certs/`
/// as `client.cert` and `client.key`.
fn make_client_certificate(dir: &Path) {
    self_signed(
        dir,
        "/CN=regforge test client CA",
        "client-ca.key",
        "client-ca.crt",
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=node",
            "-keyout",
            "certs/client.key",
            "-out",
            "client.csr",
        ],
    );
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "client-ca.crt",
            "-CAkey",
            "client-ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "client.ext",
            "-out",
            "certs/client.cert",
        ],
    );
}

fn make_htpasswd(dir: &Path) {
    let htpasswd = require_tool("htpasswd", "apache2-utils");
    let out = Command::new(htpasswd)
        .args(["-Bbn", USER, PASSWORD])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(dir.join("htpasswd"), out.stdout).unwrap();
}

fn config_yaml(dir: &Path, port: u16, auth: &Auth) -> String {
    let d = dir.display();
    let auth = match auth {
        Auth::Htpasswd => {
            format!("  htpasswd:\n    realm: regforge-test\n    path: {d}/htpasswd\n")
        }
        Auth::Token {
            realm,
            service,
            issuer,
            cert,
        } => format!(
            "  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            cert.display()
        ),
    };
    format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {d}/server.crt\n    key: {d}/server.key\nauth:\n{auth}"
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most about 15 s) until the port accepts connections; false if the
/// process exited or never listened.
fn wait_for_port(port: u16, child: &mut Child) -> bool {
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A Docker token server (distribution's token auth spec) on 127.0.0.1: it checks HTTP
/// Basic credentials and answers `{"token": JWT}` with one RS256 token, signed at start
/// by openssl with a key whose certificate the registry trusts (`rootcertbundle`).
pub struct TokenServer {
    dir: tempfile::TempDir,
    server: std::sync::Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    port: u16,
}

pub const TOKEN_SERVICE: &str = "regforge-test-registry";
pub const TOKEN_ISSUER: &str = "regforge-test-issuer";

impl TokenServer {
    pub fn start() -> TokenServer {
        use base64::Engine as _;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        self_signed(
            dir.path(),
            "/CN=regforge test token signer",
            "token.key",
            "token.crt",
        );
        openssl(
            dir.path(),
            &[
                "x509",
                "-in",
                "token.crt",
                "-outform",
                "DER",
                "-out",
                "token.der",
            ],
        );
        let der = std::fs::read(dir.path().join("token.der")).unwrap();
        let token = jwt(dir.path(), &der);
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        let thread = {
            let server = server.clone();
            let hits = hits.clone();
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    hits.fetch_add(1, Ordering::SeqCst);
                    let authorized = request
                        .headers()
                        .iter()
                        .any(|h| h.field.equiv("Authorization") && h.value.as_str() == expected);
                    let service_ok = request.url().contains(&format!("service={TOKEN_SERVICE}"));
                    let response = if authorized && service_ok {
                        tiny_http::Response::from_string(format!(r#"{{"token":"{token}"}}"#))
                            .with_status_code(200)
                    } else {
                        tiny_http::Response::from_string(r#"{"details":"unauthorized"}"#)
                            .with_status_code(401)
                    };
                    let _ = request.respond(response);
                }
            })
        };
        TokenServer {
            dir,
            server,
            thread: Some(thread),
            hits,
            port,
        }
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The registry configuration that sends clients here.
    pub fn auth(&self) -> Auth {
        Auth::Token {
            realm: self.realm(),
            service: TOKEN_SERVICE.into(),
            issuer: TOKEN_ISSUER.into(),
            cert: self.dir.path().join("token.crt"),
        }
    }

    /// How many token requests arrived.
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An RS256 JWT as distribution checks it: `x5c` holds the signing certificate, the
/// claims name issuer, audience (the service), validity, and no repository access
/// (which is all `GET /v2/` needs).
fn jwt(dir: &Path, cert_der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [b64.encode(cert_der)]});
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER,
        "sub": USER,
        "aud": TOKEN_SERVICE,
        "exp": now + 3600,
        "nbf": now - 60,
        "iat": now - 60,
        "jti": format!("regforge-test-{now}"),
        "access": [],
    });
    let signing_input = format!(
        "{}.{}",
        url.encode(header.to_string()),
        url.encode(claims.to_string())
    );
    std::fs::write(dir.join("jwt.input"), &signing_input).unwrap();
    openssl(
        dir,
        &[
            "dgst",
            "-sha256",
            "-sign",
            "token.key",
            "-out",
            "jwt.sig",
            "jwt.input",
        ],
    );
    let signature = std::fs::read(dir.join("jwt.sig")).unwrap();
    format!("{signing_input}.{}", url.encode(signature))
}

/// A minimal OCI image layout (oci-layout, index.json, manifest, config, one
/// uncompressed tar layer, all sha256-addressed), tagged `tiny`.
pub fn write_tiny_oci_layout(dir: &Path) {
    use sha2::{Digest, Sha256};
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| -> (String, usize) {
        let hex = hex::encode(Sha256::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let (layer, layer_size) = put(&tar_with_one_file("hello.txt", b"hello from regforge\n"));
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer]},
    });
    let (config, config_size) = put(config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layer_size}],
    });
    let (manifest, manifest_size) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "tiny"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A ustar archive holding one regular file.
fn tar_with_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let mut field =
        |at: usize, text: &str| header[at..at + text.len()].copy_from_slice(text.as_bytes());
    field(100, "0000644\0");
    field(108, "0000000\0");
    field(116, "0000000\0");
    field(124, &format!("{:011o}\0", content.len()));
    field(136, "00000000000\0");
    field(148, "        ");
    field(156, "0");
    field(257, "ustar\0");
    field(263, "00");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}
