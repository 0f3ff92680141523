//! Ignition targets: the same meaning as Butane's translation of the twin butane target,
//! one config whether compact or `--pretty`, and located refusals.

use std::path::Path;

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha512};

use crate::butane::{self, Placed};
use crate::errors::{assert_error, with_target};
use crate::support::{cases, fixtures, read_tree, render_case, render_case_with, text};

/// The bytes of a data URL, decoded here independently of regforge's decoder.
fn decode_data_url(url: &str) -> Vec<u8> {
    let (header, payload) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .unwrap_or_else(|| panic!("not a data URL: {url}"));
    if header.ends_with(";base64") {
        return base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap();
    }
    let mut out = Vec::new();
    let mut bytes = payload.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next().unwrap(), bytes.next().unwrap()];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap());
        } else {
            out.push(b);
        }
    }
    out
}

/// Every data URL `source` replaced by the hex of its bytes (Butane and regforge may
/// choose different encodings of the same bytes), and empty compressions dropped.
pub fn decode_sources(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                // `"compression": ""` means none: Butane writes it beside data URLs it makes
                // from `inline`, not beside a `source: data:` it passes through.
                .filter(|(k, v)| !(k.as_str() == "compression" && v.as_str() == Some("")))
                .map(|(k, v)| match v.as_str() {
                    Some(url) if k == "source" && url.starts_with("data:") => (
                        k.clone(),
                        Value::from(format!("bytes:{}", hex::encode(decode_data_url(url)))),
                    ),
                    _ => (k.clone(), decode_sources(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(decode_sources).collect()),
        other => other.clone(),
    }
}

/// The files an Ignition config places, as the node would receive them; a remote source is
/// read from `out_dir/artifacts/` and must match its verification hash.
pub fn placed(config: &Value, out_dir: &Path) -> Vec<Placed> {
    let files = config["storage"]["files"].as_array().unwrap();
    files
        .iter()
        .map(|file| {
            let path = file["path"].as_str().unwrap().to_string();
            let source = file["contents"]["source"].as_str().unwrap();
            let bytes = if source.starts_with("data:") {
                decode_data_url(source)
            } else {
                let name = source.rsplit('/').next().unwrap();
                let bytes = std::fs::read(out_dir.join("artifacts").join(name)).unwrap();
                assert_eq!(
                    file["contents"]["verification"]["hash"],
                    format!("sha512-{}", hex::encode(Sha512::digest(&bytes))),
                    "{path}: hash"
                );
                bytes
            };
            Placed { path, bytes }
        })
        .collect()
}

/// A target's inventory entry without what may differ between the butane and ignition twin.
fn twin_key(target: &serde_yaml::Value) -> serde_yaml::Value {
    let mut key = target.clone();
    let map = key.as_mapping_mut().unwrap();
    for field in ["name", "format", "template"] {
        map.remove(field);
    }
    key
}

#[test]
fn every_ignition_target_means_what_butane_makes_of_its_butane_twin() {
    let mut pairs = 0;
    for case in cases() {
        let inventory: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(case.join("regforge.yaml")).unwrap())
                .unwrap();
        let targets = inventory["targets"].as_sequence().unwrap();
        let of_format = |format: &'static str| {
            targets
                .iter()
                .filter(move |t| t["format"].as_str() == Some(format))
        };
        let out = render_case(&case);
        for ignition in of_format("ignition") {
            let name = ignition["name"].as_str().unwrap();
            let rendered = std::fs::read_to_string(out.path().join(format!("{name}.ign"))).unwrap();
            let ours: Value = serde_json::from_str(&rendered).unwrap();
            for twin in of_format("butane").filter(|b| twin_key(b) == twin_key(ignition)) {
                let twin_name = twin["name"].as_str().unwrap();
                let butane_text =
                    std::fs::read_to_string(out.path().join(format!("{twin_name}.bu"))).unwrap();
                let (translated, _) = butane::translate(&butane_text, out.path());
                assert_eq!(
                    decode_sources(&ours),
                    decode_sources(&translated),
                    "{}: {name}.ign differs from Butane's translation of {twin_name}.bu",
                    case.display()
                );
                pairs += 1;
            }
        }
    }
    assert!(pairs >= 5, "only {pairs} butane/ignition twins compared");
    eprintln!("ignition: {pairs} twins equal to Butane's translation");
}

#[test]
fn pretty_and_compact_hold_the_same_config() {
    let case = fixtures().join("ignition");
    let compact = read_tree(render_case(&case).path());
    let pretty = read_tree(render_case_with(&case, &["--pretty"]).path());
    assert_eq!(
        compact.keys().collect::<Vec<_>>(),
        pretty.keys().collect::<Vec<_>>()
    );
    let mut ignition = 0;
    for (path, bytes) in &compact {
        if path.extension().is_none_or(|e| e != "ign") {
            assert_eq!(
                *bytes,
                pretty[path],
                "{}: --pretty changed it",
                path.display()
            );
            continue;
        }
        let (compact_text, pretty_text) = (text(bytes), text(&pretty[path]));
        assert!(compact_text.ends_with("}\n") && compact_text.lines().count() == 1);
        assert!(pretty_text.ends_with("}\n") && pretty_text.contains("\n  \"storage\": {\n"));
        let value = |t: &str| serde_json::from_str::<Value>(t).unwrap();
        assert_eq!(
            value(&compact_text),
            value(&pretty_text),
            "{}",
            path.display()
        );
        ignition += 1;
    }
    assert!(ignition >= 4, "only {ignition} ignition files");
}

#[test]
fn local_delivery_and_missing_variant_are_refused_on_ignition_targets() {
    let t = "  - name: n\n    format: ignition\n    variant: fcos\n    version: 1.4.0\n    files:\n      - {document: docker-config, path: /x, delivery: local}\n";
    assert_error(
        &with_target(t),
        "11:55",
        "targets[0].files[0].delivery: `local` delivery is for butane targets (`butane --files-dir` inlines the file); an ignition target places it `inline` (a data: URL in the config) or `remote` (with the target's `remote.url`)",
    );
    let t = "  - name: n\n    format: ignition\n    files:\n      - {document: docker-config, path: /x}\n";
    assert_error(
        &with_target(t),
        "6:5",
        "targets[0]: `format: ignition` needs `variant` and `version`; supported: flatcar 1.0.0",
    );
    let t = "  - name: n\n    format: ignition\n    variant: fcos\n    version: 1.3.0\n    files:\n      - {document: docker-config, path: /x}\n";
    assert_error(
        &with_target(t),
        "9:14",
        "targets[0].version: ignition fcos 1.3.0 is not supported",
    );
}

/// Renders an ignition target of one inline file with `template`; returns (exit code, stderr).
fn render_with_template(template: &str) -> (Option<i32>, String) {
    crate::errors::render_with_template(
        "format: ignition\n    variant: flatcar\n    version: 1.0.0",
        template,
    )
}

#[test]
fn a_user_ignition_template_must_write_json_that_places_the_right_bytes() {
    let file = |source: &str| {
        format!(
            "{{\"ignition\": {{\"version\": \"3.3.0\"}}, \"storage\": {{\"files\": [{{% for f in files %}}{{\"path\": {{{{ f.path | tojson }}}}, \"mode\": 384, \"overwrite\": true, \"contents\": {{\"source\": {source}}}}}{{% endfor %}}]}}}}"
        )
    };
    let (code, stderr) = render_with_template(&file("{{ f.data_url | tojson }}"));
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stderr) = render_with_template(&file("{{ \"x\" | data_url | tojson }}"));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("target custom: the rendered /root/.docker/config.json does not match what regforge computed: the placed content (1 bytes) differs from the document (96 bytes)"),
        "{stderr}"
    );
    assert!(stderr.contains("check the target's template"), "{stderr}");

    let (code, stderr) = render_with_template(&file("{{ f.data_url | tojson }},"));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("target custom: the template did not produce JSON: "),
        "{stderr}"
    );

    let (code, stderr) =
        render_with_template(&file("{{ f.data_url | tojson }}").replace("3.3.0", "3.4.0"));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("ignition.version is not 3.3.0"), "{stderr}");
}
