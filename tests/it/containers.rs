//! podman, CRI-O, skopeo and buildah nodes: `registries-conf` and `certs-d` read by Debian's
//! skopeo and podman against the test registry on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::registry_server::{RegistryServer, self_signed};
use crate::support::{regforge, require_tool, text};

/// Renders every target of `inventory` (written to `dir/regforge.yaml`) into `dir/out`.
fn render_all(dir: &Path, inventory: &str, env: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("regforge.yaml");
    std::fs::write(&path, inventory).unwrap();
    let out = dir.join("out");
    let result = regforge(
        &[
            "-i",
            path.to_str().unwrap(),
            "render",
            "--out-dir",
            out.to_str().unwrap(),
        ],
        env,
        None,
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    out
}

/// `skopeo ARGS…` with `home` as HOME, so that `home/.config/containers/certs.d` is the
/// first certs.d folder containers/image looks in.
fn skopeo(home: &Path, args: &[&str]) -> Output {
    Command::new(require_tool("skopeo", "skopeo"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .args(args)
        .output()
        .unwrap()
}

/// Copies a rendered folder to `dest`.
fn install(from: &Path, dest: &Path) {
    crate::support::copy_tree(from, dest);
}

/// The rendered certs-d folder, installed as a user's `~/.config/containers/certs.d`,
/// lets skopeo reach a registry that demands TLS with its own CA and a client
/// certificate; a wrong CA, or a client certificate without its key, fails.
#[test]
fn skopeo_reaches_a_client_certificate_registry_through_the_certs_d_folder() {
    let registry = RegistryServer::start_with_client_certificates();
    let image = registry.push_tiny_image();
    let certs = registry.cert_dir();
    let dir = tempfile::tempdir().unwrap();
    let out = render_all(
        dir.path(),
        &format!(
            "registries:
  - address: {address}
    ca: {{file: {certs}/ca.crt}}
    client_cert: {{file: {certs}/client.cert}}
    client_key: {{file: {certs}/client.key}}
targets:
  - {{name: certs, format: certs-d}}
",
            address = registry.address(),
            certs = certs.display(),
        ),
        &[],
    );
    let home = dir.path().join("home");
    let certs_d = home.join(".config/containers/certs.d");
    install(&out.join("certs"), &certs_d);
    let host_dir = certs_d.join(registry.address());
    let creds = format!("{}:{}", registry.user(), registry.password());
    let inspect = || {
        skopeo(
            &home,
            &["inspect", "--creds", &creds, &format!("docker://{image}")],
        )
    };
    let done = inspect();
    assert!(
        done.status.success(),
        "skopeo inspect: {}\nregistry log:\n{}",
        text(&done.stderr),
        registry.log()
    );
    // The registry's folder named with --cert-dir, as podman, skopeo and buildah take it.
    let elsewhere = dir.path().join("elsewhere");
    let cert_dir = out.join("certs").join(registry.address());
    let by_flag = skopeo(
        &elsewhere,
        &[
            "inspect",
            "--cert-dir",
            cert_dir.to_str().unwrap(),
            "--creds",
            &creds,
            &format!("docker://{image}"),
        ],
    );
    assert!(
        by_flag.status.success(),
        "skopeo --cert-dir: {}",
        text(&by_flag.stderr)
    );
    let without = skopeo(
        &elsewhere,
        &["inspect", "--creds", &creds, &format!("docker://{image}")],
    );
    assert!(
        !without.status.success(),
        "pulled without the certs-d folder"
    );
    // A client certificate without its key is refused by containers/image itself.
    let key = std::fs::read(host_dir.join("client.key")).unwrap();
    std::fs::remove_file(host_dir.join("client.key")).unwrap();
    let refused = inspect();
    assert!(!refused.status.success(), "pulled without the client key");
    std::fs::write(host_dir.join("client.key"), key).unwrap();
    // Another CA: the registry's certificate is not trusted.
    self_signed(&host_dir, "/CN=someone else", "other.key", "ca.crt");
    std::fs::remove_file(host_dir.join("other.key")).unwrap();
    let refused = inspect();
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

/// The rendered registries-conf sends pulls of a registry that does not resolve to its
/// mirror, the test registry, whose login comes from a containers-auth under the
/// mirror's own host and whose CA from the certs-d folder.
#[test]
fn skopeo_pulls_through_the_mirror_registries_conf_names() {
    let registry = RegistryServer::start_htpasswd();
    let image = registry.push_tiny_image();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), registry.password()).unwrap();
    let out = render_all(
        dir.path(),
        &format!(
            "registries:
  - address: registry.invalid
    mirrors: ['https://{address}']
  - address: {address}
    username: {user}
    password: {{file: pw}}
    ca: {{file: {ca}}}
targets:
  - {{name: conf, format: registries-conf}}
  - {{name: auth, format: containers-auth}}
  - {{name: certs, format: certs-d}}
",
            address = registry.address(),
            user = registry.user(),
            ca = registry.ca_pem().display(),
        ),
        &[],
    );
    let home = dir.path().join("home");
    install(&out.join("certs"), &home.join(".config/containers/certs.d"));
    let conf = out.join("conf.conf");
    let auth = out.join("auth.json");
    let path = image.replacen(&registry.address(), "registry.invalid", 1);
    let inspect = |conf: Option<&Path>| {
        let mut args = Vec::new();
        if let Some(conf) = conf {
            args.extend(["--registries-conf", conf.to_str().unwrap()]);
        }
        // No tag list: containers/image asks the registry itself for tags, never a mirror.
        args.extend(["inspect", "--no-tags", "--authfile", auth.to_str().unwrap()]);
        let reference = format!("docker://{path}");
        args.push(&reference);
        skopeo(&home, &args)
    };
    let done = inspect(Some(&conf));
    assert!(
        done.status.success(),
        "skopeo inspect through the mirror: {}\n{}\nregistry log:\n{}",
        text(&done.stderr),
        std::fs::read_to_string(&conf).unwrap(),
        registry.log()
    );
    // Without the file, registry.invalid is tried itself, and does not resolve.
    assert!(!inspect(None).status.success());
    // podman reads the same drop-in (CONTAINERS_REGISTRIES_CONF) and pulls into a store
    // of the test's own.
    let store = dir.path().join("store");
    let pulled = Command::new(require_tool("podman", "podman"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("CONTAINERS_REGISTRIES_CONF", &conf)
        .arg("--root")
        .arg(store.join("root"))
        .arg("--runroot")
        .arg(store.join("run"))
        .args(["--storage-driver", "vfs", "pull", "--quiet", "--authfile"])
        .arg(&auth)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "podman pull through the mirror: {}",
        text(&pulled.stderr)
    );
}

/// The files a cloud-config places, by path.
fn write_files(cloud_config: &str) -> std::collections::BTreeMap<String, String> {
    let config: serde_yaml::Value = serde_yaml::from_str(cloud_config).unwrap();
    config["write_files"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A CRI-O node and a bootc image: crio-config points CRI-O at the auth file the same
/// target places (CRI-O has no Debian package: its TOML is read back against
/// crio.conf(5), `[crio.image] global_auth_file`), and podman's `login --get-login`
/// reads each placed auth file as containers/image does.
#[test]
fn crio_reads_the_auth_file_its_drop_in_names_and_podman_reads_every_auth_file() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    std::fs::write(
        &inventory,
        "registries:
  - {address: quay.io/myorg, username: myorg+deploy, password: {env: QUAY_PW}}
  - {address: docker.io, username: octocat, password: {env: HUB_PW}}
targets:
  - name: crio-node
    format: cloud-config
    files:
      - document: crio-config
        crio: {auth_file: /etc/crio/registries-auth.json}
      - {document: containers-auth, path: /etc/crio/registries-auth.json}
      - {document: containers-auth, path: /etc/ostree/auth.json}
  - name: lonely
    format: cloud-config
    files:
      - document: crio-config
",
    )
    .unwrap();
    let env = [("QUAY_PW", "quay-pw"), ("HUB_PW", "hub-pw")];
    let render = |target: &str| {
        let out = regforge(
            &[
                "-i",
                inventory.to_str().unwrap(),
                "render",
                target,
                "--stdout",
            ],
            &env,
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    let (config, warnings) = render("crio-node");
    // Its auth file is placed beside it: only the other target is warned about.
    assert_eq!(warnings.matches("places no").count(), 1, "{warnings}");
    assert!(
        !warnings.contains("targets[0].files[0].document: crio-config points"),
        "{warnings}"
    );
    let files = write_files(&config);
    let drop_in: toml_edit::DocumentMut = files["/etc/crio/crio.conf.d/50-regforge.conf"]
        .parse()
        .unwrap();
    let named = drop_in["crio"]["image"]["global_auth_file"]
        .as_str()
        .unwrap();
    assert_eq!(named, "/etc/crio/registries-auth.json");
    // podman, skopeo and buildah read each placed auth file: the namespace key, and Hub
    // as docker.io.
    let tools = [
        require_tool("podman", "podman"),
        require_tool("skopeo", "skopeo"),
        require_tool("buildah", "buildah"),
    ];
    for (path, tool) in [named, "/etc/ostree/auth.json"]
        .into_iter()
        .flat_map(|p| tools.iter().map(move |t| (p, t)))
    {
        let auth = dir.path().join("auth.json");
        std::fs::write(&auth, &files[path]).unwrap();
        for (registry, user) in [("quay.io/myorg", "myorg+deploy"), ("docker.io", "octocat")] {
            let out = Command::new(tool)
                .env("HOME", dir.path())
                .args(["login", "--get-login", "--authfile"])
                .arg(&auth)
                .arg(registry)
                .output()
                .unwrap();
            assert_eq!(
                (text(&out.stdout).trim(), out.status.success()),
                (user, true),
                "{} {path} {registry}: {}",
                tool.display(),
                text(&out.stderr)
            );
        }
    }
    // A drop-in whose auth file the target does not place: CRI-O would find no login.
    let (_, warnings) = render("lonely");
    assert!(
        warnings.contains("targets[1].files[0].document: crio-config points its consumer at /etc/crio/auth.json, where this target places no containers-auth or docker-config"),
        "{warnings}"
    );
}
