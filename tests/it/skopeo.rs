//! Generated auth files judged by skopeo against a real registry (distribution v2 with
//! htpasswd and TLS on 127.0.0.1): right credentials pull, wrong ones are refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::registry_server::{PASSWORD, RegistryServer, USER};
use crate::support::{regforge, require_tool, text};

/// The registry, with `test/tiny:1` pushed; its address; and the image reference.
fn registry() -> (RegistryServer, String, String) {
    let server = RegistryServer::start_htpasswd();
    let image = server.push_tiny_image();
    let address = server.address();
    (server, address, image)
}

/// `skopeo inspect` of `image` with only `authfile`: Ok, or Err with skopeo's message.
fn inspect_with(server: &RegistryServer, image: &str, authfile: &Path) -> Result<(), String> {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(require_tool("skopeo", "skopeo"))
        .env("HOME", home.path())
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("XDG_RUNTIME_DIR")
        .arg("inspect")
        .arg("--authfile")
        .arg(authfile)
        .arg("--cert-dir")
        .arg(server.cert_dir())
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out.stderr))
    }
}

/// Writes `inventory` beside the two passwords (right.pw, wrong.pw) and renders it.
fn render(dir: &Path, inventory: &str) -> PathBuf {
    std::fs::write(dir.join("right.pw"), PASSWORD).unwrap();
    std::fs::write(dir.join("wrong.pw"), "not-the-password").unwrap();
    std::fs::write(dir.join("regforge.yaml"), inventory).unwrap();
    let out = dir.join("out");
    let result = regforge(
        &[
            "-i",
            dir.join("regforge.yaml").to_str().unwrap(),
            "render",
            "--out-dir",
            out.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(result.status.success(), "{}", text(&result.stderr));
    out
}

fn entry(address: &str, password_file: &str) -> String {
    format!(
        "  - {{address: \"{address}\", username: {USER}, password: {{file: {password_file}}}}}\n"
    )
}

fn refused(err: &str) -> bool {
    err.contains("unauthorized") || err.contains("authentication required")
}

#[test]
fn generated_auth_files_authenticate_skopeo_against_a_real_registry() {
    let (server, host, image) = registry();
    let host = &host;
    let dir = tempfile::tempdir().unwrap();
    let inventory = format!(
        "registries:\n{}targets:\n  - {{name: docker, format: docker-config}}\n  - {{name: podman, format: containers-auth}}\n  - {{name: archive, format: mesos-archive}}\n",
        entry(host, "right.pw"),
    );
    let out = render(dir.path(), &inventory);

    // Without credentials the registry refuses, so the checks below mean something.
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "{\"auths\": {}}").unwrap();
    let err = inspect_with(&server, &image, &empty).unwrap_err();
    assert!(refused(&err), "{err}");

    inspect_with(&server, &image, &out.join("docker.json")).expect("docker-config authenticates");
    inspect_with(&server, &image, &out.join("podman.json")).expect("containers-auth authenticates");
    // The archive's config.json, unpacked as the Mesos fetcher unpacks it into a sandbox.
    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(out.join("archive.tar.gz"))
        .arg("-C")
        .arg(&sandbox)
        .status()
        .unwrap();
    assert!(status.success());
    inspect_with(&server, &image, &sandbox.join(".docker/config.json"))
        .expect("the mesos-archive's config.json authenticates");
}

#[test]
fn namespace_keys_decide_and_wrong_passwords_are_refused() {
    let (server, host, image) = registry();
    let host = &host;
    let team = format!("{host}/test");
    // containers/image uses the most specific key for the image's namespace.
    let dir = tempfile::tempdir().unwrap();
    let inventory = format!(
        "registries:\n{}{}targets:\n  - {{name: scoped-right, format: containers-auth}}\n  - {{name: docker-wrong, format: docker-config, registries: [\"{host}\"]}}\n",
        entry(host, "wrong.pw"),
        entry(&team, "right.pw"),
    );
    let out = render(dir.path(), &inventory);
    inspect_with(&server, &image, &out.join("scoped-right.json"))
        .expect("the namespace key's right password is used over the host key's wrong one");
    let err = inspect_with(&server, &image, &out.join("docker-wrong.json")).unwrap_err();
    assert!(refused(&err), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let inventory = format!(
        "registries:\n{}{}targets:\n  - {{name: scoped-wrong, format: containers-auth}}\n",
        entry(host, "right.pw"),
        entry(&team, "wrong.pw"),
    );
    let out = render(dir.path(), &inventory);
    let err = inspect_with(&server, &image, &out.join("scoped-wrong.json")).unwrap_err();
    assert!(
        refused(&err),
        "the host key's right password must not be used: {err}"
    );
}
