//! `regforge schema`: the committed regforge.schema.json is what the binary prints, every
//! example inventory names it and passes it, and known-bad inventories fail it.

use serde_json::Value;

use crate::docs::{SCHEMA_LINE, inventories, pages};
use crate::support::{fixtures, regforge, root, text};

fn printed_schema() -> Value {
    let out = regforge(&["schema"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A real JSON Schema validator (the jsonschema crate, draft 7) over the printed schema.
fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&printed_schema()).expect("regforge schema is a valid draft 7 schema")
}

/// What a YAML inventory is as JSON, the way editors' YAML language servers see it.
fn as_json(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).unwrap()
}

fn problems(validator: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    validator
        .iter_errors(&as_json(yaml))
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every fixture inventory, with its name.
fn fixture_inventories() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path().join("regforge.yaml");
        if path.is_file() {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    assert!(out.len() >= 9, "{out:?}");
    out
}

/// Every inventory shown in the README and docs/, with where it is.
fn docs_inventories() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for page in pages() {
        let blocks = inventories(&std::fs::read_to_string(&page).unwrap());
        for (i, block) in blocks.into_iter().enumerate() {
            out.push((format!("{} block {}", page.display(), i + 1), block));
        }
    }
    assert!(out.len() >= 25, "only {} docs inventories", out.len());
    out
}

#[test]
fn the_committed_schema_is_what_regforge_prints() {
    let committed = std::fs::read_to_string(root().join("regforge.schema.json")).unwrap();
    let printed = regforge(&["schema"], &[], None);
    assert_eq!(
        text(&printed.stdout),
        committed,
        "regforge.schema.json is stale: run `cargo run -- schema > regforge.schema.json` and review the diff"
    );
}

/// The schema lists every format and document by name, and each options block, from
/// the same lists the pipeline uses.
#[test]
fn the_schema_names_every_format_document_and_options_block() {
    let schema = printed_schema();
    let formats = schema["definitions"]["Target"]["properties"]["format"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    for name in [
        "butane",
        "ignition",
        "cloud-config",
        "docker-config",
        "containerd-hosts",
        "talos",
    ] {
        assert!(
            formats.contains(&Value::from(name)),
            "{name} in {formats:?}"
        );
    }
    let documents = &schema["definitions"]["File"]["properties"]["document"]["enum"];
    assert!(
        !documents
            .as_array()
            .unwrap()
            .contains(&Value::from("talos")),
        "talos is not placed on nodes"
    );
    for block in [
        "secret",
        "rkt",
        "marathon",
        "containerd",
        "crio",
        "credential_provider",
        "nomad",
        "talos",
    ] {
        let reference = &schema["definitions"]["Target"]["properties"][block]["$ref"];
        let name = reference
            .as_str()
            .unwrap_or_else(|| panic!("no `{block}` block"))
            .rsplit('/')
            .next()
            .unwrap();
        assert!(
            schema["definitions"][name].is_object(),
            "{block}: {name} is not defined"
        );
    }
}

#[test]
fn every_example_inventory_names_the_schema_and_passes_it() {
    let validator = validator();
    let mut failures = Vec::new();
    let all = fixture_inventories().into_iter().chain(docs_inventories());
    let mut checked = 0;
    for (place, yaml) in all {
        if !yaml.starts_with(SCHEMA_LINE) {
            failures.push(format!("{place}: does not start with `{SCHEMA_LINE}…`"));
        }
        for problem in problems(&validator, &yaml) {
            failures.push(format!("{place}: {problem}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("schema: {checked} example inventories validated");
}

/// Bad inventories that regforge refuses, the schema refuses too: editors flag them
/// before anything runs.
#[test]
fn known_bad_inventories_fail_the_schema() {
    let validator = validator();
    for case in [
        "unknown-key",
        "unknown-format",
        "unknown-butane-variant",
        "unknown-rkt-kind",
        "wrong-type",
        "containerd-version-1",
        "password-in-braces",
        "secret-of-wrong-type",
    ] {
        let path = root()
            .join("tests/bad_inputs")
            .join(case)
            .join("regforge.yaml");
        let yaml = std::fs::read_to_string(&path).unwrap();
        assert!(
            !problems(&validator, &yaml).is_empty(),
            "{case} passes the schema"
        );
    }
    let wrong_mode = "registries:\n  - {address: quay.io, username: u, password: {env: P}}\ntargets:\n  - {name: n, format: cloud-config, files: [{document: docker-config, path: /a, mode: rw-------}]}\n";
    assert_eq!(
        problems(&validator, wrong_mode).len(),
        1,
        "a mode in letters"
    );
}
