//! The platform documents decode to exactly the inventory's credentials, and the archive is
//! reproducible and laid out as Mesos expects.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha512};

use crate::support::{copy_tree, fixtures, read_tree, regforge, regforge_in, render_case, text};

/// The fixture's secret file, as regforge reads it (one trailing line break dropped).
fn secret(name: &str) -> String {
    let raw = std::fs::read_to_string(fixtures().join("platforms/secrets").join(name)).unwrap();
    raw.strip_suffix('\n').unwrap_or(&raw).to_string()
}

#[test]
fn mesos_archive_is_reproducible_and_lists_two_private_entries() {
    let mut hashes = Vec::new();
    for mtime in ["2001-02-03 04:05", "2030-12-31 23:59"] {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixtures().join("platforms"), dir.path());
        for entry in std::fs::read_dir(dir.path().join("secrets")).unwrap() {
            let status = Command::new("touch")
                .args(["-d", mtime])
                .arg(entry.unwrap().path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let out = regforge_in(
            dir.path(),
            &["render", "docker", "--out-dir", "out"],
            &[],
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let archive = std::fs::read(dir.path().join("out/docker.tar.gz")).unwrap();
        hashes.push(hex::encode(Sha512::digest(&archive)));

        let listing = Command::new("tar")
            .args(["-tvzf"])
            .arg(dir.path().join("out/docker.tar.gz"))
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(listing.status.success());
        let lines: Vec<Vec<String>> = text(&listing.stdout)
            .lines()
            .map(|l| l.split_whitespace().map(String::from).collect())
            .collect();
        assert_eq!(lines.len(), 2, "{}", text(&listing.stdout));
        assert_eq!(
            (
                lines[0][0].as_str(),
                lines[0][1].as_str(),
                lines[0][5].as_str()
            ),
            ("drwx------", "0/0", ".docker/")
        );
        assert_eq!(
            (
                lines[1][0].as_str(),
                lines[1][1].as_str(),
                lines[1][5].as_str()
            ),
            ("-rw-------", "0/0", ".docker/config.json")
        );

        // What Mesos' docker reads is the docker-config of the same registries.
        let extract = dir.path().join("x");
        std::fs::create_dir(&extract).unwrap();
        let untar = Command::new("tar")
            .arg("-xzf")
            .arg(dir.path().join("out/docker.tar.gz"))
            .arg("-C")
            .arg(&extract)
            .status()
            .unwrap();
        assert!(untar.success());
        let document = regforge_in(
            dir.path(),
            &[
                "document",
                "docker-config",
                "--registry",
                "registry.example.com:5000",
                "--registry",
                "docker.io",
            ],
            &[],
            None,
        );
        assert_eq!(
            std::fs::read(extract.join(".docker/config.json")).unwrap(),
            document.stdout
        );
    }
    assert_eq!(
        hashes[0], hashes[1],
        "the archive changed with its inputs' mtimes"
    );
}

#[test]
fn rkt_files_carry_the_exact_credentials() {
    let out = render_case(&fixtures().join("platforms"));
    let tree = read_tree(out.path());
    let json = |path: &str| -> Value {
        serde_json::from_slice(&tree[std::path::Path::new(path)]).unwrap()
    };
    let hub = json("rkt-docker/registry-1.docker.io.json");
    assert_eq!(
        hub["registries"],
        serde_json::json!(["registry-1.docker.io", "docker.io"])
    );
    assert_eq!(hub["credentials"]["user"], "octocat");
    assert_eq!(hub["credentials"]["password"], secret("hub.token"));
    let quay = json("rkt-docker/quay.io.json");
    assert_eq!(quay["credentials"]["password"], secret("quay.token"));
    let aci = json("rkt-aci/registry.example.com:5000.json");
    assert_eq!(aci["rktKind"], "auth");
    assert_eq!(
        aci["domains"],
        serde_json::json!(["registry.example.com:5000"])
    );
    assert_eq!(aci["type"], "basic");
    assert_eq!(aci["credentials"]["password"], secret("example.pw"));
}

#[test]
fn drone_file_parses_back_to_the_exact_credentials() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        address: String,
        username: Option<String>,
        password: Option<String>,
        aws_access_key_id: Option<String>,
        aws_secret_access_key: Option<String>,
    }
    let out = render_case(&fixtures().join("platforms"));
    let entries: Vec<Entry> =
        serde_yaml::from_slice(&std::fs::read(out.path().join("drone-registry.yaml")).unwrap())
            .unwrap();
    let by_address: BTreeMap<&str, &Entry> =
        entries.iter().map(|e| (e.address.as_str(), e)).collect();
    assert_eq!(by_address.len(), 3);
    assert_eq!(
        by_address["docker.io"].password.as_deref(),
        Some(secret("hub.token").as_str())
    );
    let gcr = by_address["gcr.io"];
    assert_eq!(gcr.username.as_deref(), Some("_json_key"));
    assert_eq!(gcr.password.as_deref(), Some(secret("gcr.json").as_str()));
    assert!(
        secret("gcr.json").contains('\n'),
        "the GCR key is the multi-line case"
    );
    let ecr = by_address["012345678910.dkr.ecr.us-east-1.amazonaws.com"];
    assert_eq!(
        ecr.aws_access_key_id.as_deref(),
        Some(secret("aws.id").as_str())
    );
    assert_eq!(
        ecr.aws_secret_access_key.as_deref(),
        Some(secret("aws.key").as_str())
    );
    assert!(ecr.username.is_none() && ecr.password.is_none());
}

#[test]
fn document_command_takes_options_folders_and_archives() {
    let inv = fixtures().join("platforms/regforge.yaml");
    let inv = inv.to_str().unwrap();
    let secret = regforge(
        &[
            "-i",
            inv,
            "document",
            "kubernetes-secret",
            "--registry",
            "registry.example.com:5000",
            "--registry",
            "docker.io",
            "--set",
            "name=pull-secret",
            "--set",
            "namespace=apps",
            "--set",
            "service_account=builder",
        ],
        &[],
        None,
    );
    assert!(secret.status.success(), "{}", text(&secret.stderr));
    let want = std::fs::read(fixtures().join("platforms/expected/pull-secret.yaml")).unwrap();
    assert_eq!(secret.stdout, want);

    let dir = tempfile::tempdir().unwrap();
    let rkt = regforge(
        &[
            "-i",
            inv,
            "document",
            "rkt-auth",
            "--registry",
            "quay.io/myorg",
            "--registry",
            "docker.io",
            "-o",
            dir.path().to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(rkt.status.success(), "{}", text(&rkt.stderr));
    assert_eq!(
        read_tree(dir.path()),
        read_tree(&fixtures().join("platforms/expected/rkt-docker"))
    );

    for (args, message) in [
        (
            vec!["document", "mesos-archive", "--registry", "docker.io"],
            "mesos-archive is binary; write it with -o FILE",
        ),
        (
            vec![
                "document",
                "rkt-auth",
                "--registry",
                "docker.io",
                "--registry",
                "gcr.io",
            ],
            "rkt-auth is a folder of 2 files: give -o DIR",
        ),
        (
            vec!["document", "kubernetes-secret"],
            "--set: secret: a kubernetes-secret placed on a node needs `secret: {name: …}`",
        ),
        (
            vec!["document", "kubernetes-secret", "--set", "name=Bad_Name"],
            "--set: secret.name: `Bad_Name` is not a Kubernetes name",
        ),
        (
            vec!["document", "kubernetes-secret", "--set", "nmae=x"],
            "unknown field `nmae`",
        ),
        (
            vec!["document", "docker-config", "--set", "name=x"],
            "docker-config takes no options",
        ),
        (
            vec![
                "document",
                "marathon-pod",
                "--set",
                "image=x",
                "--set",
                "id=/p",
            ],
            "a pod pulls private images only through the DC/OS secret store",
        ),
    ] {
        let mut full = vec!["-i", inv];
        full.extend(&args);
        let out = regforge(&full, &[], None);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    let archive = dir.path().join("docker.tar.gz");
    let out = regforge(
        &[
            "-i",
            inv,
            "document",
            "mesos-archive",
            "--registry",
            "registry.example.com:5000",
            "--registry",
            "docker.io",
            "-o",
            archive.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        std::fs::read(fixtures().join("platforms/expected/docker.tar.gz")).unwrap()
    );
}

/// Outputs never replace what regforge reads: a target named after the inventory in
/// `--out-dir .`, or `-o` naming a secret file, is refused and nothing is written;
/// `-o` into missing folders makes them 0700, as render does.
#[test]
fn outputs_never_replace_inputs_and_make_their_folders_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let inventory = "registries:\n  - {address: quay.io, username: u, password: {file: pw}}\ntargets:\n  - {name: regforge, format: kubernetes-secret}\n";
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
    let out = regforge_in(dir.path(), &["render", "--out-dir", "."], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("./regforge.yaml would replace regforge.yaml, which this render reads"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("regforge.yaml")).unwrap(),
        inventory
    );
    let out = regforge_in(
        dir.path(),
        &["document", "docker-config", "-o", "pw"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pw")).unwrap(),
        "secret\n"
    );
    let out = regforge_in(
        dir.path(),
        &["document", "docker-config", "-o", "d1/sub/config.json"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for folder in ["d1", "d1/sub"] {
        let mode = std::fs::metadata(dir.path().join(folder))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{folder}");
    }
}
