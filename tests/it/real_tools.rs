//! Rendered configs judged by the real programs that consume them.

use std::process::Command;

use crate::support::{cases, render_case, require_tool, text};
use crate::{butane, ignition};

#[test]
fn every_cloud_config_passes_cloud_init_schema() {
    let cloud_init = require_tool("cloud-init", "cloud-init");
    let mut checked = 0;
    for case in cases() {
        let out = render_case(&case);
        for name in targets_of_format(&case, "cloud-config") {
            let path = out.path().join(format!("{name}.yaml"));
            cloud_init_schema(&cloud_init, &path);
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} cloud-configs checked");
}

/// `cloud-init schema` accepts the cloud-config at `path`.
pub fn cloud_init_schema(cloud_init: &std::path::Path, path: &std::path::Path) {
    let result = Command::new(cloud_init)
        .args(["schema", "--config-file"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        result.status.success() && text(&result.stdout).contains("Valid cloud-config"),
        "{}: {}{}",
        path.display(),
        text(&result.stdout),
        text(&result.stderr)
    );
}

/// The names of the case's targets with the given `format`, read from its inventory.
fn targets_of_format(case: &std::path::Path, format: &str) -> Vec<String> {
    let inventory: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(case.join("regforge.yaml")).unwrap())
            .unwrap();
    inventory["targets"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|t| t["format"].as_str() == Some(format))
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_butane_is_strict_and_its_ignition_validates() {
    let validate = require_tool("ignition-validate", "ignition");
    let (mut strict, mut validated) = (0, 0);
    for case in cases() {
        let out = render_case(&case);
        for entry in std::fs::read_dir(out.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "bu") {
                continue;
            }
            let (ignition, placed) =
                butane::translate(&std::fs::read_to_string(&path).unwrap(), out.path());
            for file in &placed {
                butane::check_auths(&file.path, &file.bytes);
            }
            strict += 1;
            // Debian's ignition 2.14 knows specs up to 3.3.0.
            if ignition["ignition"]["version"] == "3.3.0" {
                let json_path = path.with_extension("ign");
                std::fs::write(&json_path, serde_json::to_vec(&ignition).unwrap()).unwrap();
                ignition_validate(&validate, &json_path);
                validated += 1;
            }
        }
    }
    assert!(
        strict >= 6 && validated >= 3,
        "strict {strict}, validated {validated}"
    );
    eprintln!("butane: {strict} strict, {validated} accepted by ignition-validate");
}

#[test]
fn every_ignition_target_validates() {
    let validate = require_tool("ignition-validate", "ignition");
    let (mut read, mut validated) = (0, 0);
    for case in cases() {
        let out = render_case(&case);
        for entry in std::fs::read_dir(out.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "ign") {
                continue;
            }
            let config: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for file in ignition::placed(&config, out.path()) {
                butane::check_auths(&file.path, &file.bytes);
            }
            read += 1;
            // Debian's ignition 2.14 knows specs up to 3.3.0.
            if config["ignition"]["version"] != "3.3.0" {
                continue;
            }
            ignition_validate(&validate, &path);
            validated += 1;
        }
    }
    assert!(
        read >= 5 && validated >= 3,
        "read {read}, validated {validated}"
    );
    eprintln!("ignition: {read} read, {validated} accepted by ignition-validate");
}

/// `ignition-validate` accepts the config silently (Debian's ignition 2.14 knows specs up to 3.3.0).
pub fn ignition_validate(validate: &std::path::Path, config: &std::path::Path) {
    let result = Command::new(validate).arg(config).output().unwrap();
    assert!(
        result.status.success() && result.stdout.is_empty() && result.stderr.is_empty(),
        "{}: ignition-validate: {}{}",
        config.display(),
        text(&result.stdout),
        text(&result.stderr)
    );
}

#[test]
fn ignition_validate_rejects_a_wrong_hash() {
    // The oracle above is only worth something if the validator really looks.
    let validate = require_tool("ignition-validate", "ignition");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.ign");
    let bad = r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/x","contents":{"source":"https://h/x","verification":{"hash":"sha512-00"}}}]}}"#;
    std::fs::write(&path, bad).unwrap();
    let result = Command::new(&validate).arg(&path).output().unwrap();
    assert!(
        !result.status.success(),
        "ignition-validate accepted a bad hash"
    );
}
