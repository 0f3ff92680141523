//! Bad inventories: exit status 1, a message with file:line:column and field, no secret, nothing written.

use crate::support::{regforge, regforge_in, text};

const SECRET: &str = "s3cr3t-VALUE-never-printed";

/// Renders `inventory` (with a secret file and an env var holding SECRET) and returns stderr.
pub fn render_bad(inventory: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    let out = dir.path().join("out");
    let result = regforge(
        &[
            "-i",
            dir.path().join("regforge.yaml").to_str().unwrap(),
            "render",
            "--out-dir",
            out.to_str().unwrap(),
        ],
        &[("PW", SECRET)],
        None,
    );
    let stderr = text(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(1),
        "expected exit 1 for:\n{inventory}\nstderr: {stderr}"
    );
    assert!(result.stdout.is_empty(), "stdout: {}", text(&result.stdout));
    assert!(!out.exists(), "output was written for:\n{inventory}");
    assert!(!stderr.contains(SECRET), "the secret leaked: {stderr}");
    stderr
}

pub fn assert_error(inventory: &str, location: &str, message: &str) {
    let stderr = render_bad(inventory);
    let want = format!("regforge.yaml:{location}");
    assert!(
        stderr.contains(&want),
        "missing location {want} in: {stderr}"
    );
    assert!(stderr.contains(message), "missing `{message}` in: {stderr}");
}

pub const GOOD_REGISTRY: &str =
    "registries:\n  - address: quay.io\n    username: robot\n    password: {file: pw}\n";

pub fn with_target(target: &str) -> String {
    format!("{GOOD_REGISTRY}targets:\n{target}")
}

#[test]
fn unknown_key() {
    assert_error(
        "registries:\n  - address: quay.io\n    username: robot\n    pasword: {file: pw}\n",
        "4:5",
        "registries[0]: unknown field `pasword`, expected one of",
    );
}

#[test]
fn missing_field() {
    assert_error(
        "registries:\n  - address: quay.io\n    password: {file: pw}\n",
        "2:5",
        "registries[0]: missing field `username`",
    );
    assert_error(
        &with_target("  - format: docker-config\n"),
        "6:5",
        "missing field `name`",
    );
}

#[test]
fn wrong_type() {
    assert_error(
        "registries:\n  - address: quay.io\n    username: robot\n    password: {file: pw}\n    insecure: maybe\n",
        "5:15",
        "registries[0].insecure: expected a boolean, found a string",
    );
}

#[test]
fn wrong_type_of_a_secret_does_not_echo_it() {
    let inventory = format!(
        "registries:\n  - address: quay.io\n    username: robot\n    password: [{SECRET}]\n"
    );
    let stderr = render_bad(&inventory);
    assert!(stderr.contains("regforge.yaml:4:15: registries[0].password: expected a string, {env: NAME}, {file: PATH}, {exec: [PROGRAM, ARG…]} or {age: FILE, identity: FILE}, found a list"), "{stderr}");
}

#[test]
fn duplicate_registry() {
    let inventory = format!(
        "{GOOD_REGISTRY}  - address: quay.io\n    username: other\n    password: {{env: PW}}\n"
    );
    assert_error(
        &inventory,
        "5:14",
        "registries[1].address: registry quay.io is already defined at registries[0]",
    );
    // Hub aliases are one registry.
    let hub = "registries:\n  - {address: docker.io, username: a, password: {env: PW}}\n  - {address: index.docker.io, username: b, password: {env: PW}}\n";
    assert_error(hub, "3:15", "registry index.docker.io is already defined");
}

#[test]
fn address_with_scheme_or_spaces() {
    assert_error(
        "registries:\n  - address: https://quay.io/\n    username: robot\n    password: {file: pw}\n",
        "2:14",
        "registries[0].address: the address has a scheme (https://); write the bare host, e.g. quay.io",
    );
    assert_error(
        "registries:\n  - address: quay .io\n    username: robot\n    password: {file: pw}\n",
        "2:14",
        "the address contains spaces",
    );
}

#[test]
fn relative_file_path() {
    let t = "  - name: n\n    format: cloud-config\n    files:\n      - {document: docker-config, path: .docker/config.json}\n";
    assert_error(
        &with_target(t),
        "9:41",
        "targets[0].files[0].path: `.docker/config.json` is relative",
    );
}

#[test]
fn unknown_document_format_variant_version() {
    let t =
        "  - name: n\n    format: cloud-config\n    files:\n      - {document: kube, path: /x}\n";
    assert_error(
        &with_target(t),
        "9:20",
        "targets[0].files[0].document: unknown document `kube`; accepted: docker-config, dockercfg",
    );
    assert_error(
        &with_target("  - name: n\n    format: ansible\n"),
        "7:13",
        "targets[0].format: unknown format `ansible`; accepted: butane, ignition, cloud-config, docker-config, dockercfg",
    );
    let butane = |variant: &str, version: &str| {
        with_target(&format!(
            "  - name: n\n    format: butane\n    variant: {variant}\n    version: {version}\n    files:\n      - {{document: docker-config, path: /x}}\n"
        ))
    };
    let supported = "supported: flatcar 1.0.0, flatcar 1.1.0, fcos 1.4.0, fcos 1.5.0";
    assert_error(
        &butane("rhcos", "1.0.0"),
        "8:14",
        &format!("targets[0].variant: butane rhcos 1.0.0 is not supported; {supported}"),
    );
    assert_error(
        &butane("fcos", "1.9.0"),
        "9:14",
        &format!("targets[0].version: butane fcos 1.9.0 is not supported; {supported}"),
    );
}

#[test]
fn target_naming_an_unknown_registry() {
    let t = "  - name: n\n    format: docker-config\n    registries: [quay.io, ghcr.io]\n";
    assert_error(
        &with_target(t),
        "8:27",
        "targets[0].registries[1]: no registry `ghcr.io` in the inventory; defined: quay.io",
    );
}

#[test]
fn remote_without_url() {
    let t = "  - name: n\n    format: butane\n    variant: fcos\n    version: 1.5.0\n    files:\n      - {document: docker-config, path: /x, delivery: remote}\n";
    assert_error(
        &with_target(t),
        "11:55",
        "targets[0].files[0].delivery: remote delivery needs the target's `remote.url`",
    );
}

#[test]
fn unset_environment_variable() {
    let inventory = "registries:\n  - address: quay.io\n    username: robot\n    password: {env: NOT_SET_ANYWHERE}\ntargets:\n  - {name: n, format: docker-config}\n";
    assert_error(
        inventory,
        "4:15",
        "registries[0].password: environment variable NOT_SET_ANYWHERE is not set",
    );
}

#[test]
fn unreadable_secret_file() {
    let inventory = "registries:\n  - address: quay.io\n    username: robot\n    password: {file: missing.token}\ntargets:\n  - {name: n, format: docker-config}\n";
    assert_error(inventory, "4:15", "cannot read secret file");
}

#[test]
fn decimal_mode_that_means_octal() {
    let t = "  - name: n\n    format: cloud-config\n    files:\n      - document: docker-config\n        path: /root/.docker/config.json\n        mode: 644\n";
    assert_error(
        &with_target(t),
        "11:15",
        "targets[0].files[0].mode: mode 644 is decimal (0o1204 in octal), which is surely not meant; write 0644",
    );
}

#[test]
fn syntax_error_is_located() {
    assert_error(
        "registries:\n  - address: quay.io\n   username: x\n",
        "3:",
        "",
    );
}

#[test]
fn literal_secret_warns_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = format!(
        "registries:\n  - {{address: quay.io, username: robot, password: '{SECRET}'}}\ntargets:\n  - {{name: n, format: docker-config}}\n"
    );
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let result = regforge(
        &[
            "-i",
            dir.path().join("regforge.yaml").to_str().unwrap(),
            "render",
            "--stdout",
        ],
        &[],
        None,
    );
    let stderr = text(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(stderr.contains("warning: ") && stderr.contains("regforge.yaml:2:51: registries[0].password: the password is written in the inventory"), "{stderr}");
    assert!(!stderr.contains(SECRET));
}

pub const BUTANE_FCOS: &str = "format: butane\n    variant: fcos\n    version: 1.5.0";

/// Renders a target (`head`: its format, variant and version lines) placing one
/// docker-config with a user template; returns (exit code, stderr). Either all is
/// written or nothing, and the secret never shows.
pub fn render_with_template(head: &str, template: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    std::fs::write(dir.path().join("t.j2"), template).unwrap();
    let inventory = format!(
        "{GOOD_REGISTRY}targets:\n  - name: custom\n    {head}\n    template: t.j2\n    files:\n      - {{document: docker-config, path: /root/.docker/config.json}}\n"
    );
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let out = dir.path().join("out");
    let result = regforge(
        &[
            "-i",
            dir.path().join("regforge.yaml").to_str().unwrap(),
            "render",
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(out.exists(), result.status.success(), "all or nothing");
    let stderr = text(&result.stderr);
    assert!(!stderr.contains(SECRET), "{stderr}");
    (result.status.code(), stderr)
}

#[test]
fn a_template_that_misplaces_a_file_is_refused() {
    let template = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n{% for f in files %}\n    - path: {{ f.path }}\n      mode: {{ f.mode.octal }}\n      overwrite: true\n      contents:\n        inline: {{ f.contents_base64 }}\n{% endfor %}\n";
    let (code, stderr) = render_with_template(BUTANE_FCOS, template);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("target custom: the rendered /root/.docker/config.json does not match what regforge computed: the placed content"), "{stderr}");
    assert!(stderr.contains("check the target's template"), "{stderr}");
}

#[test]
fn a_template_using_an_undefined_value_is_refused() {
    let (code, stderr) = render_with_template(
        BUTANE_FCOS,
        "variant: fcos\nversion: {{ target.versoin }}\n",
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("target custom: ") && stderr.contains("undefined"),
        "{stderr}"
    );
}

#[test]
fn a_template_that_forgets_a_file_is_refused() {
    let (code, stderr) = render_with_template(
        BUTANE_FCOS,
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files: []\n",
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("the file is placed 0 times, not once"),
        "{stderr}"
    );
}

#[test]
fn remote_outside_butane_and_empty_selections() {
    let t = "  - name: n\n    format: docker-config\n    remote: {url: http://h/}\n";
    assert_error(
        &with_target(t),
        "8:13",
        "targets[0].remote: `remote` is for butane and ignition targets",
    );
    let t = "  - name: n\n    format: docker-config\n    registries: []\n";
    assert_error(
        &with_target(t),
        "8:17",
        "targets[0].registries: the target selects no registries",
    );
    assert_error(
        "targets:\n  - {name: n, format: docker-config}\n",
        "2:5",
        "targets[0]: the inventory has no registries",
    );
}

#[test]
fn document_options_and_credentials_are_checked() {
    let t = "  - name: n\n    format: docker-config\n    secret: {name: x}\n";
    assert_error(
        &with_target(t),
        "8:13",
        "targets[0].secret: `secret` is for kubernetes-secret documents, not docker-config",
    );
    let t = "  - name: n\n    format: rkt-auth\n    rkt: {kind: oauth}\n";
    assert_error(
        &with_target(t),
        "8:17",
        "targets[0].rkt.kind: unknown rkt kind `oauth`; accepted: dockerAuth",
    );
    let t = "  - name: n\n    format: kubernetes-secret\n    secret: {name: Pull_Secret}\n";
    assert_error(
        &with_target(t),
        "8:20",
        "targets[0].secret.name: `Pull_Secret` is not a Kubernetes name",
    );
    let t = "  - name: n\n    format: cloud-config\n    files:\n      - {document: kubernetes-secret, path: /etc/s.yaml}\n";
    assert_error(
        &with_target(t),
        "9:9",
        "targets[0].files[0].secret: a kubernetes-secret placed on a node needs `secret: {name: …}`",
    );
    let t = "  - name: n\n    format: marathon-app\n    marathon: {image: x, secret_source: /s, legacy_uris: true}\n";
    assert_error(
        &with_target(t),
        "8:41",
        "targets[0].marathon.secret_source: use either the secret store",
    );
    assert_error(
        "registries:\n  - {address: gcr.io, helper: gcr, aws_access_key_id: {env: PW}, aws_secret_access_key: {env: PW}}\n",
        "2:55",
        "registries[0].aws_access_key_id: AWS keys are for ECR registries",
    );
    assert_error(
        "registries:\n  - {address: a.azurecr.io, username: u, password: {env: PW}, identity_token: {env: PW}}\n",
        "2:79",
        "registries[0].identity_token: give password or identity_token, not both",
    );
}

#[test]
fn a_registry_a_document_cannot_carry_is_refused_where_the_document_is_named() {
    // Refused at validation, before any secret is read: FORMATS.md §1 (.dockercfg holds
    // only `auth`), §4 (rkt: basic only), §6 (Drone: no helpers outside ECR).
    let registries = "registries:\n  - {address: quay.io, username: robot, password: {file: pw}}\n  - {address: gcr.io, helper: gcr}\n  - {address: acr.azurecr.io, username: u, identity_token: {env: PW}}\n";
    let inventory = |target: &str| format!("{registries}targets:\n{target}");
    assert_error(
        &inventory(
            "  - name: n\n    format: cloud-config\n    registries: [quay.io, gcr.io]\n    files:\n      - {document: docker-config, path: /a}\n      - {document: dockercfg, path: /b}\n",
        ),
        "11:20",
        "targets[0].files[1].document: dockercfg: registry gcr.io uses a credential helper, which .dockercfg cannot express; use docker-config",
    );
    assert_error(
        &inventory("  - {name: n, format: rkt-auth, registries: [acr.azurecr.io]}\n"),
        "6:23",
        "targets[0].format: rkt-auth: registry acr.azurecr.io has no username and password; rkt supports only basic credentials",
    );
    assert_error(
        &inventory("  - {name: n, format: drone-registry}\n"),
        "6:23",
        "targets[0].format: drone-registry: registry gcr.io has no username and password; Drone runs no credential helpers",
    );
}

/// A hosted artifact fetched over plain http or tftp cannot be changed on the way (its
/// sha512 is in the config) but can be read; `check --strict` fails on it, https passes.
#[test]
fn plain_http_artifact_urls_warn_and_https_does_not() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::copy_tree(&crate::support::fixtures().join("quickstart"), dir.path());
    let inventory = dir.path().join("regforge.yaml");
    let check = |path: &std::path::Path| {
        regforge(
            &["-i", path.to_str().unwrap(), "check", "--strict"],
            &[],
            None,
        )
    };
    let plain = check(&inventory);
    assert_eq!(plain.status.code(), Some(1), "{}", text(&plain.stderr));
    let findings = text(&plain.stdout);
    assert!(
        findings.contains(
            "regforge.yaml:32:12: targets[0].remote.url: nodes fetch the artifacts over plain http:"
        ),
        "{findings}"
    );
    let https = std::fs::read_to_string(&inventory)
        .unwrap()
        .replace("url: http://", "url: https://");
    std::fs::write(&inventory, https).unwrap();
    let tls = check(&inventory);
    assert!(
        !text(&tls.stdout).contains("plain-artifact-url"),
        "{}",
        text(&tls.stdout)
    );
}

/// A static ECR password dies after 12 hours (`aws ecr get-login-password`); the
/// warning points at the helper, and the password's value is not shown.
#[test]
fn a_static_ecr_password_warns() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    std::fs::write(
        &inventory,
        "registries:\n  - address: 012345678910.dkr.ecr.us-east-1.amazonaws.com\n    username: AWS\n    password: {env: ECR_PASSWORD}\ntargets:\n  - {name: n, format: docker-config}\n",
    )
    .unwrap();
    let result = regforge(
        &["-i", inventory.to_str().unwrap(), "check", "--strict"],
        &[("ECR_PASSWORD", SECRET)],
        None,
    );
    let findings = text(&result.stdout);
    assert_eq!(result.status.code(), Some(1), "{findings}");
    assert!(
        findings.contains(
            "regforge.yaml:4:15: registries[0].password: an ECR password expires 12 hours after"
        ),
        "{findings}"
    );
    assert!(!findings.contains(SECRET) && !text(&result.stderr).contains(SECRET));
}

/// Inline credentials in a provisioning config end up in the node's user data, which
/// metadata services serve to any process: `check` says so (and only `check`, inline
/// being the default); remote delivery, or a document without secrets, is quiet.
#[test]
fn inline_credentials_in_user_data_are_a_check_finding() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    let write = |delivery: &str| {
        std::fs::write(
            &inventory,
            format!(
                "registries:\n  - {{address: quay.io, username: u, password: {{env: PW}}}}\n  - {{address: m.internal, ca: {{file: ca.pem}}}}\ntargets:\n  - name: node\n    format: butane\n    variant: fcos\n    version: 1.5.0\n    registries: [quay.io]\n    files:\n      - {{document: docker-config, path: /root/.docker/config.json{delivery}}}\n    remote: {{url: \"https://artifacts.internal/a/\"}}\n  - name: certs\n    format: cloud-config\n    registries: [m.internal]\n    files:\n      - {{document: certs-d, path: /etc/containers/certs.d}}\n"
            ),
        )
        .unwrap()
    };
    std::fs::write(
        dir.path().join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let run = |command: &[&str]| regforge_in(dir.path(), command, &[("PW", SECRET)], None);
    write("");
    let check = run(&["check", "--strict"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert_eq!(
        text(&check.stdout),
        "warning: regforge.yaml:11:9: targets[0].files[0].delivery: docker-config goes inline into the node's user data, which cloud metadata services serve to every process on the node; `delivery: remote` from a URL only the nodes can reach keeps its secrets out of it [inline-user-data]\n"
    );
    let render = run(&["render", "--stdout", "node"]);
    assert!(render.status.success(), "{}", text(&render.stderr));
    assert_eq!(
        text(&render.stderr),
        "",
        "render repeats a check-only finding"
    );
    write(", delivery: remote");
    let check = run(&["check", "--strict"]);
    assert!(
        check.status.success(),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
}

/// A mirror that is no registry of the inventory gets no login: consumers send a mirror
/// the login of its own host. The warning names the mirror; listing it as a registry
/// quiets it.
#[test]
fn a_mirror_without_a_login_of_its_own_warns() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("regforge.yaml");
    let head = "registries:\n  - address: docker.io\n    username: u\n    password: {env: PW}\n    mirrors: [\"https://mirror.internal:5000\"]\n";
    let tail = "targets:\n  - {name: c, format: containerd-config}\n";
    let run = || {
        regforge_in(
            dir.path(),
            &["render", "--stdout"],
            &[("PW", SECRET), ("MPW", "m-pw")],
            None,
        )
    };
    std::fs::write(&inventory, format!("{head}{tail}")).unwrap();
    let warned = run();
    assert!(warned.status.success(), "{}", text(&warned.stderr));
    let stderr = text(&warned.stderr);
    assert!(
        stderr.contains("warning: regforge.yaml:5:15: registries[0].mirrors[0]: consumers pulling through the mirror send it the login of mirror.internal:5000, not this one of docker.io; if the mirror needs a login, add mirror.internal:5000 as a registry of its own"),
        "{stderr}"
    );
    std::fs::write(
        &inventory,
        format!("{head}  - {{address: \"mirror.internal:5000\", username: m, password: {{env: MPW}}}}\n{tail}"),
    )
    .unwrap();
    let quiet = run();
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert!(
        !text(&quiet.stderr).contains("pulling through"),
        "{}",
        text(&quiet.stderr)
    );
    assert!(!stderr.contains(SECRET));
}

/// `insecure: true` only concerns `regforge registry`'s own login check: `check` says
/// what it costs, render stays quiet.
#[test]
fn an_insecure_login_check_is_a_check_finding() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:\n  - {address: quay.io, username: u, password: {env: PW}, insecure: true}\ntargets:\n  - {name: c, format: docker-config}\n",
    )
    .unwrap();
    let check = regforge_in(
        dir.path(),
        &["check", "--format", "json"],
        &[("PW", SECRET)],
        None,
    );
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["findings"][0]["rule"], "insecure", "{report:#}");
    assert_eq!(report["findings"][0]["field"], "registries[0].insecure");
    let render = regforge_in(dir.path(), &["render", "--stdout"], &[("PW", SECRET)], None);
    assert!(render.status.success());
    assert_eq!(text(&render.stderr), "");
}
