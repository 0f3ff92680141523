//! A user template that places a file differently than regforge computed is caught by
//! reading the rendered config back: the message names the target and the path.

use crate::support::{regforge_in, root, text};

const SECRET: &str = "tamper-Secret-never-printed";

/// The built-in template of `format` with `from` replaced by `to` (which must occur).
fn tampered(template: &str, from: &str, to: &str) -> String {
    let source = std::fs::read_to_string(root().join("templates").join(template)).unwrap();
    assert!(source.contains(from), "{template} has no `{from}`");
    source.replacen(from, to, 1)
}

/// Renders one target `head` (its format lines) placing a docker-config for user core
/// with `template`; returns stderr after checking exit 1, no output and no secret.
fn render(head: &str, template: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    std::fs::write(dir.path().join("t.j2"), template).unwrap();
    let inventory = format!(
        "registries:\n  - {{address: quay.io, username: robot, password: {{file: pw}}}}\ntargets:\n  - name: tampered\n{head}    template: t.j2\n    files:\n      - {{document: docker-config, path: /home/core/.docker/config.json, user: core, group: core}}\n"
    );
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let out = regforge_in(dir.path(), &["render"], &[], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!dir.path().join("out").exists(), "output was written");
    assert!(!stderr.contains(SECRET), "{stderr}");
    stderr
}

fn caught(path: &str, problem: &str) -> String {
    format!(
        "error: target tampered: the rendered {path} does not match what regforge computed: {problem}\n  check the target's template: it must place every file with the values it is given\n"
    )
}

const FILE: &str = "/home/core/.docker/config.json";

const CLOUD_CONFIG: &str = "    format: cloud-config\n";

#[test]
fn cloud_config_content_one_byte_off() {
    let template = tampered(
        "cloud-config.yaml.j2",
        "{{ file.contents | yaml_string(6) }}",
        "{{ file.contents | replace('auths', 'authz') | yaml_string(6) }}",
    );
    assert_eq!(
        render(CLOUD_CONFIG, &template),
        caught(
            FILE,
            "the placed content (96 bytes) differs from the document (96 bytes)"
        )
    );
}

#[test]
fn cloud_config_file_dropped() {
    let template = tampered(
        "cloud-config.yaml.j2",
        "{% for file in files %}",
        "{% for file in files if file.path != '/home/core/.docker/config.json' %}",
    );
    assert_eq!(
        render(CLOUD_CONFIG, &template),
        caught(FILE, "the file is placed 0 times, not once")
    );
}

#[test]
fn cloud_config_mode_or_owner_changed() {
    let template = tampered("cloud-config.yaml.j2", "'{{ file.mode.octal }}'", "'0644'");
    assert_eq!(
        render(CLOUD_CONFIG, &template),
        caught(FILE, "mode is not 0600")
    );
    let template = tampered(
        "cloud-config.yaml.j2",
        "{{ file.owner | yaml_string }}",
        "root:core",
    );
    assert_eq!(
        render(CLOUD_CONFIG, &template),
        caught(FILE, "user is not core")
    );
}

#[test]
fn cloud_config_field_that_changes_the_write() {
    let template = tampered(
        "cloud-config.yaml.j2",
        "    permissions:",
        "    append: true\n    permissions:",
    );
    let stderr = render(CLOUD_CONFIG, &template);
    assert!(
        stderr.starts_with(&format!(
            "error: target tampered: the rendered {FILE} does not match what regforge computed: unknown field `append`"
        )),
        "{stderr}"
    );
}

const BUTANE: &str = "    format: butane\n    variant: fcos\n    version: 1.5.0\n";
const HOME: &str = "/home/core/.docker";

#[test]
fn butane_content_one_byte_off() {
    let template = tampered(
        "butane.bu.j2",
        "{{ file.contents | yaml_string(10) }}",
        "{{ file.contents | replace('auths', 'authz') | yaml_string(10) }}",
    );
    assert_eq!(
        render(BUTANE, &template),
        caught(
            FILE,
            "the placed content (96 bytes) differs from the document (96 bytes)"
        )
    );
}

#[test]
fn butane_file_dropped() {
    let template = tampered(
        "butane.bu.j2",
        "{% for file in files %}",
        "{% for file in files if file.path != '/home/core/.docker/config.json' %}",
    );
    assert_eq!(
        render(BUTANE, &template),
        caught(FILE, "the file is placed 0 times, not once")
    );
}

#[test]
fn butane_directory_mode_changed_or_dropped() {
    // Ignition would create /home/core/.docker root-owned or world-readable.
    let template = tampered(
        "butane.bu.j2",
        "      mode: {{ dir.mode.octal }}",
        "      mode: 0755",
    );
    assert_eq!(render(BUTANE, &template), caught(HOME, "mode is not 0700"));
    let template = tampered("butane.bu.j2", "{% if directories %}", "{% if false %}");
    assert_eq!(
        render(BUTANE, &template),
        caught(HOME, "the directory is declared 0 times, not once")
    );
}

#[test]
fn butane_overwrite_or_owner_changed() {
    let template = tampered(
        "butane.bu.j2",
        "      overwrite: {{ file.overwrite | tojson }}",
        "      overwrite: false",
    );
    assert_eq!(
        render(BUTANE, &template),
        caught(FILE, "overwrite is not true")
    );
    let template = tampered(
        "butane.bu.j2",
        "        name: {{ file.group | yaml_string }}",
        "        name: wheel",
    );
    assert_eq!(render(BUTANE, &template), caught(FILE, "group is not core"));
}

const IGNITION: &str = "    format: ignition\n    variant: flatcar\n    version: 1.0.0\n";

#[test]
fn ignition_content_one_byte_off() {
    let template = tampered(
        "ignition.json.j2",
        "{{ file.data_url | tojson }}",
        "{{ file.contents | replace('auths', 'authz') | data_url | tojson }}",
    );
    assert_eq!(
        render(IGNITION, &template),
        caught(
            FILE,
            "the placed content (96 bytes) differs from the document (96 bytes)"
        )
    );
}

#[test]
fn ignition_file_dropped() {
    let template = tampered(
        "ignition.json.j2",
        "{% for file in files %}",
        "{% for file in files if file.path != '/home/core/.docker/config.json' %}",
    );
    assert_eq!(
        render(IGNITION, &template),
        caught(FILE, "the file is placed 0 times, not once")
    );
}

#[test]
fn ignition_directory_mode_changed() {
    let template = tampered(
        "ignition.json.j2",
        "\"mode\": {{ dir.mode.decimal | tojson }}",
        "\"mode\": 493",
    );
    assert_eq!(
        render(IGNITION, &template),
        caught(HOME, "mode is not 0700")
    );
}

/// Renders a target placing rkt-auth (one file per registry) at a folder with `template`.
fn render_rkt(head: &str, template: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    std::fs::write(dir.path().join("t.j2"), template).unwrap();
    let inventory = format!(
        "registries:\n  - {{address: quay.io, username: robot, password: {{file: pw}}}}\n  - {{address: ghcr.io, username: octocat, password: {{file: pw}}}}\ntargets:\n  - name: tampered\n{head}    template: t.j2\n    files:\n      - {{document: rkt-auth, path: /etc/rkt/auth.d}}\n"
    );
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    regforge_in(dir.path(), &["render", "--stdout"], &[], None)
}

#[test]
fn every_file_of_a_multi_file_document_is_read_back() {
    for (head, template, loop_head) in [
        (
            CLOUD_CONFIG,
            "cloud-config.yaml.j2",
            "{% for file in files %}",
        ),
        (BUTANE, "butane.bu.j2", "{% for file in files %}"),
    ] {
        let source = std::fs::read_to_string(root().join("templates").join(template)).unwrap();
        // Both files are placed and verified as the built-in template writes them.
        let out = render_rkt(head, &source);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let config = text(&out.stdout);
        for path in [
            "/etc/rkt/auth.d/ghcr.io.json",
            "/etc/rkt/auth.d/quay.io.json",
        ] {
            assert!(config.contains(path), "{template}: {config}");
        }
        // Dropping one of them is caught, by its path.
        let dropped = tampered(
            template,
            loop_head,
            "{% for file in files if file.path != '/etc/rkt/auth.d/quay.io.json' %}",
        );
        let out = render_rkt(head, &dropped);
        assert_eq!(out.status.code(), Some(1), "{template}");
        assert_eq!(
            text(&out.stderr),
            caught(
                "/etc/rkt/auth.d/quay.io.json",
                "the file is placed 0 times, not once"
            ),
            "{template}"
        );
    }
}

/// Identical configs are read back once (verify::Verified), but a config that differs
/// is read back on its own: one node of a hundred tampered with is still caught.
#[test]
fn one_tampered_node_in_a_fleet_of_identical_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    let template = tampered(
        "cloud-config.yaml.j2",
        "{{ file.contents | yaml_string(6) }}",
        "{{ (file.contents | replace('auths', 'authz') if target.name == 'n99' else file.contents) | yaml_string(6) }}",
    );
    std::fs::write(dir.path().join("t.j2"), template).unwrap();
    let mut inventory = String::from(
        "registries:\n  - {address: quay.io, username: robot, password: {file: pw}}\ntargets:\n",
    );
    for i in 0..100 {
        inventory.push_str(&format!(
            "  - name: n{i}\n    format: cloud-config\n    template: t.j2\n    files:\n      - {{document: docker-config, path: /root/.docker/config.json}}\n"
        ));
    }
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let out = regforge_in(dir.path(), &["render"], &[], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: target n99: the rendered /root/.docker/config.json does not match what regforge computed: the placed content"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}
