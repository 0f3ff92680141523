//! `regforge terraform`, driven exactly as Terraform's `external` data source drives it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use base64::Engine;
use sha2::{Digest, Sha512};

use crate::support::{copy_tree, fixtures, read_tree, regforge_in, text};

/// The query as Terraform writes it: Go's `json.Marshal` of a `map[string]string`, i.e.
/// compact, keys sorted, `<` `>` `&` escaped, no trailing newline.
fn go_json(query: &[(&str, &str)]) -> Vec<u8> {
    let map: BTreeMap<&str, &str> = query.iter().copied().collect();
    serde_json::to_string(&map)
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .into_bytes()
}

/// Runs `regforge terraform` in `cwd` with the query on stdin, and checks the call wrote nothing.
fn call(cwd: &Path, query: &[u8], env: &[(&str, &str)]) -> Output {
    let before = read_tree(cwd);
    let output = regforge_in(cwd, &["terraform"], env, Some(query));
    assert_eq!(read_tree(cwd), before, "regforge terraform wrote files");
    output
}

/// The result object; every value must be a string, or Terraform refuses it.
fn result(output: &Output) -> BTreeMap<String, String> {
    assert!(output.status.success(), "{}", text(&output.stderr));
    let parsed: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    parsed
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => panic!("result key {k} is not a string: {other}"),
        })
        .collect()
}

fn sha512(bytes: &[u8]) -> String {
    format!("sha512-{}", hex::encode(Sha512::digest(bytes)))
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// A copy of a fixture case to run in, as Terraform runs the program in its working directory.
fn workdir(case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(case), dir.path());
    dir
}

#[test]
fn rendered_is_what_render_stdout_prints_for_every_quickstart_target() {
    let dir = workdir("quickstart");
    for target in [
        "flatcar-workers",
        "fcos-builders",
        "legacy-coreos",
        "docker-config",
    ] {
        let got = result(&call(
            dir.path(),
            &go_json(&[("inventory", "regforge.yaml"), ("target", target)]),
            &[],
        ));
        let stdout = regforge_in(
            dir.path(),
            &["-i", "regforge.yaml", "render", target, "--stdout"],
            &[],
            None,
        );
        assert!(stdout.status.success());
        assert_eq!(got["rendered"].as_bytes(), stdout.stdout, "{target}");
        assert_eq!(got["sha512"], sha512(&stdout.stdout), "{target}");
        assert!(!got.contains_key("rendered_base64"));
    }
}

#[test]
fn remote_artifacts_come_with_content_hash_and_url() {
    let dir = workdir("quickstart");
    let got = result(&call(
        dir.path(),
        &go_json(&[
            ("inventory", "regforge.yaml"),
            ("target", "flatcar-workers"),
        ]),
        &[],
    ));
    let name = "docker-config-dc0bda7bfcf1a27e.json";
    let want = std::fs::read(fixtures().join("quickstart/expected/artifacts").join(name)).unwrap();
    assert_eq!(got["artifacts"], format!("[\"{name}\"]"));
    assert_eq!(got["files"], "[]");
    assert_eq!(b64(&got[&format!("artifact.{name}.content_base64")]), want);
    let hash = &got[&format!("artifact.{name}.sha512")];
    assert_eq!(*hash, sha512(&want));
    let url = &got[&format!("artifact.{name}.url")];
    assert_eq!(
        *url,
        format!("http://internal.infra.example.com/regforge/{name}")
    );
    // The rendered config points the node at exactly that URL and hash.
    assert!(got["rendered"].contains(&format!("source: {url}")));
    assert!(got["rendered"].contains(&format!("hash: {hash}")));
    assert_eq!(got.len(), 7, "{:?}", got.keys().collect::<Vec<_>>());
}

#[test]
fn local_files_are_exposed_under_file_keys() {
    let dir = workdir("tricky-secrets");
    let got = result(&call(
        dir.path(),
        &go_json(&[("inventory", "regforge.yaml"), ("target", "flatcar-local")]),
        &[],
    ));
    let expected = read_tree(&fixtures().join("tricky-secrets/expected/files"));
    let names: Vec<String> = serde_json::from_str(&got["files"]).unwrap();
    assert_eq!(names.len(), 2);
    for name in names {
        let want = &expected[Path::new(&name)];
        assert_eq!(b64(&got[&format!("file.{name}.content_base64")]), *want);
        assert_eq!(got[&format!("file.{name}.sha512")], sha512(want));
        assert!(!got.contains_key(&format!("file.{name}.url")));
    }
    assert_eq!(got["artifacts"], "[]");
}

#[test]
fn inventory_falls_back_as_the_cli_does() {
    let dir = workdir("quickstart");
    let query = go_json(&[("target", "docker-config")]);
    let want = std::fs::read(fixtures().join("quickstart/expected/docker-config.json")).unwrap();
    // ./regforge.yaml in the working directory…
    let got = result(&call(dir.path(), &query, &[]));
    assert_eq!(got["rendered"].as_bytes(), want);
    // …or $REGFORGE_INVENTORY.
    let elsewhere = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    let got = result(&call(
        elsewhere.path(),
        &query,
        &[("REGFORGE_INVENTORY", inventory.to_str().unwrap())],
    ));
    assert_eq!(got["rendered"].as_bytes(), want);
}

const TEMPLATED: &str = "\
registries:
  - address: quay.io
    username: robot
    password: {env: QUAY_TOKEN}
targets:
  - name: node
    format: butane
    variant: flatcar
    version: 1.0.0
    template: node.bu.j2
    files:
      - {document: docker-config, path: /etc/docker-config.json}
";

const TEMPLATE: &str = "\
# cluster {{ variables.cluster }}, {{ variables.workers | default(1) }} worker(s), team {{ variables.team | default(\"none\") }}
{% include \"butane\" %}";

#[test]
fn user_templates_read_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("regforge.yaml"), TEMPLATED).unwrap();
    std::fs::write(dir.path().join("node.bu.j2"), TEMPLATE).unwrap();
    let env = [("QUAY_TOKEN", "s3cr3t-t0ken")];
    let got = result(&call(
        dir.path(),
        &go_json(&[
            ("target", "node"),
            ("variables", r#"{"cluster":"<blue & green>","workers":3}"#),
        ]),
        &env,
    ));
    assert!(
        got["rendered"]
            .starts_with("# cluster <blue & green>, 3 worker(s), team none\nvariant: flatcar\n"),
        "{}",
        got["rendered"]
    );
    // Without variables the template sees `{}`: a name it requires is an error, one line.
    let output = call(dir.path(), &go_json(&[("target", "node")]), &env);
    let stderr = assert_one_line_failure(&output);
    assert!(stderr.contains("undefined"), "{stderr}");
}

/// Exit ≠ 0, nothing on stdout, exactly one line on stderr, which is returned.
fn assert_one_line_failure(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout: {}", text(&output.stdout));
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.ends_with('\n'));
    stderr
}

#[test]
fn failures_are_one_line_on_stderr_and_nothing_on_stdout() {
    let dir = workdir("quickstart");
    let secrets: Vec<String> = read_tree(&dir.path().join("secrets"))
        .into_values()
        .map(|b| text(&b).trim().to_string())
        .collect();
    let cases: [(&[u8], &str); 7] = [
        (b"{\"target\":", "stdin is not a JSON object of strings"),
        (b"", "stdin is not a JSON object of strings"),
        (
            br#"{"inventory":"regforge.yaml","target":1}"#,
            "`target` must be a string, found a number",
        ),
        (
            &br#"{"inventory":"regforge.yaml","target":"flatcar-workers","token":"x"}"#[..],
            "unknown key `token`; accepted: inventory, target, variables",
        ),
        (
            br#"{"inventory":"regforge.yaml","target":"nope"}"#,
            "no target `nope` in regforge.yaml; defined: flatcar-workers,",
        ),
        (
            br#"{"inventory":"missing.yaml","target":"flatcar-workers"}"#,
            "cannot read inventory missing.yaml: No such file or directory",
        ),
        (
            br#"{"inventory":"regforge.yaml","target":"docker-config","variables":"{"}"#,
            "`variables` must be a JSON object encoded as a string",
        ),
    ];
    for (query, want) in cases {
        let stderr = assert_one_line_failure(&call(dir.path(), query, &[]));
        assert!(stderr.contains(want), "{}: {stderr}", text(query));
        for secret in &secrets {
            assert!(!stderr.contains(secret.as_str()));
        }
    }
}

#[test]
fn a_secret_that_cannot_be_resolved_is_a_located_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("regforge.yaml"), TEMPLATED).unwrap();
    std::fs::write(dir.path().join("node.bu.j2"), TEMPLATE).unwrap();
    let stderr = assert_one_line_failure(&call(dir.path(), &go_json(&[("target", "node")]), &[]));
    assert_eq!(
        stderr,
        "error: regforge.yaml:4:15: registries[0].password: environment variable QUAY_TOKEN is not set; set it, or write {file: PATH}\n"
    );
}

/// A runaway query is bounded: a huge stdin is refused without being read whole, and a
/// huge value is quoted by its first characters only, so neither floods a plan's log.
#[test]
fn a_huge_query_gives_a_short_error() {
    let dir = fixtures().join("quickstart");
    let inventory = dir.join("regforge.yaml");
    let huge = format!("{{\"target\": \"{}\"}}", "x".repeat(2 << 20));
    let out = crate::support::regforge(
        &["-i", inventory.to_str().unwrap(), "terraform"],
        &[],
        Some(huge.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("stdin holds more than 1 MiB"), "{stderr}");
    assert!(stderr.len() < 300, "{} bytes of stderr", stderr.len());
    let long = format!("{{\"target\": \"{}\"}}", "y".repeat(200_000));
    let out = crate::support::regforge(
        &["-i", inventory.to_str().unwrap(), "terraform"],
        &[],
        Some(long.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("… (200000 bytes)"), "{stderr}");
    assert!(stderr.len() < 1000, "{} bytes of stderr", stderr.len());
}
