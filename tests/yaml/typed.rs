//! Typed deserialization as the CLI uses it: structs that deny unknown fields, options, defaults, lists of structs, untagged, externally and internally tagged enums, numbers. Checked against serde_norway for values, and for errors: the mark (1-based line and column of the offending node), the path and the message, which must never quote a scalar value.

use crate::common;

use std::collections::BTreeMap;

use common::{norway, ours};
use proptest::prelude::*;
use regforge::yaml::{DeError, from_node};
use regforge::yaml::{Limits, parse};
use serde::Deserialize;

#[derive(Deserialize, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
struct Inventory {
    #[serde(default)]
    registries: Vec<Registry>,
    #[serde(default)]
    targets: Vec<Target>,
    managed_registries: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Registry {
    address: String,
    username: Option<String>,
    password: Option<Secret>,
    #[serde(default)]
    insecure: bool,
    port: Option<u16>,
}

/// A secret as the inventory writes it: a string, `{env: NAME}` or
/// `{file: PATH}`.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Secret {
    Literal(String),
    Env { env: String },
    File { file: String },
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Target {
    name: String,
    format: Format,
    files: Option<Vec<File>>,
    remote: Option<Remote>,
    marathon: Option<Marathon>,
    delivery: Option<Delivery>,
    source: Option<Source>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Format {
    Butane,
    Ignition,
    CloudConfig,
}

/// Externally tagged: a bare name, or a mapping of the name to content.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Delivery {
    Inline,
    Remote { url: String },
    Local(String),
    Split(u8, u8),
}

/// Internally tagged: the variant is the value of `kind`.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum Source {
    Env { name: String },
    File { path: String },
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct File {
    document: String,
    path: String,
    mode: Option<u32>,
    user: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Remote {
    url: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Marathon {
    image: String,
    cpus: Option<f64>,
    mem: Option<f64>,
    instances: Option<u32>,
    #[serde(default)]
    legacy_uris: bool,
}

const GOOD: &str = "\
registries:
  - address: quay.io
    username: robot+deploy
    password: {file: secrets/quay.token}
  - address: docker.io
    username: octocat
    password: {env: HUB_TOKEN}
    insecure: true
    port: 5000
  - address: ghcr.io
    password: 'plain: text'
targets:
  - name: workers
    format: butane
    files:
      - document: docker-config
        path: /home/core/.docker/config.json
        mode: 0o600
        user: core
      - {document: dockercfg, path: /root/.dockercfg}
    remote:
      url: http://infra.example.com/
  - name: mesos
    format: cloud-config
    marathon: {image: 'nginx:1', cpus: 0.5, mem: 128, instances: 3}
    files:
    delivery: inline
    source: {kind: env, name: PW}
managed_registries: managed.yaml
";

fn ours_err<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> DeError {
    ours::<T>(text).expect_err("the tree read it").de()
}

/// The 1-based line and column (in chars) where `needle` first occurs in
/// `text` at or after line `from_line`.
fn at(text: &str, from_line: usize, needle: &str) -> (usize, usize) {
    for (index, line) in text.lines().enumerate().skip(from_line - 1) {
        if let Some(byte) = line.find(needle) {
            return (index + 1, line[..byte].chars().count() + 1);
        }
    }
    panic!("{needle:?} is not in {text:?}");
}

#[track_caller]
fn assert_error(error: &DeError, line_column: (usize, usize), path: &str, message: &str) {
    assert_eq!(
        (error.mark.line as usize, error.mark.column as usize),
        line_column,
        "mark of {error:?}"
    );
    assert_eq!(error.path, path, "path of {error:?}");
    assert_eq!(error.message, message, "message of {error:?}");
    assert_eq!(error.to_string(), message);
}

#[test]
fn a_good_inventory_reads_as_serde_norway_reads_it() {
    let got: Inventory = ours(GOOD).unwrap();
    assert_eq!(got, norway::<Inventory>(GOOD).unwrap());
    assert_eq!(
        got.registries[0].password,
        Some(Secret::File {
            file: "secrets/quay.token".into()
        })
    );
    assert_eq!(got.registries[1].port, Some(5000));
    assert!(got.registries[1].insecure && !got.registries[0].insecure);
    assert_eq!(
        got.registries[2].password,
        Some(Secret::Literal("plain: text".into()))
    );
    assert_eq!(got.targets[0].files.as_ref().unwrap()[0].mode, Some(0o600));
    assert_eq!(got.targets[1].files, None);
    let marathon = got.targets[1].marathon.as_ref().unwrap();
    assert_eq!(
        (marathon.cpus, marathon.mem, marathon.instances),
        (Some(0.5), Some(128.0), Some(3))
    );
    assert_eq!(
        got.targets[1].source,
        Some(Source::Env { name: "PW".into() })
    );
}

#[test]
fn empty_and_null_values() {
    // An empty inventory is an empty struct, as serde_norway reads it.
    for text in ["", "# nothing\n", "---\n"] {
        assert_eq!(ours::<Inventory>(text).unwrap(), Inventory::default());
        assert_eq!(norway::<Inventory>(text).unwrap(), Inventory::default());
    }
    // A key left empty: an empty list where one is wanted, `None` for an option.
    let text = "registries:\ntargets:\n";
    assert_eq!(
        ours::<Inventory>(text).unwrap(),
        norway::<Inventory>(text).unwrap()
    );
    for (value, want) in [
        ("~", None),
        ("null", None),
        ("", None),
        ("'null'", Some("null")),
        ("'~'", Some("~")),
        ("\"\"", Some("")),
    ] {
        let text = format!("registries:\n  - address: a\n    username: {value}\n");
        let got = ours::<Inventory>(&text).unwrap();
        assert_eq!(got.registries[0].username.as_deref(), want, "{text}");
        assert_eq!(got, norway::<Inventory>(&text).unwrap());
    }
    // An explicit null is not an empty list.
    let error = ours_err::<Inventory>("targets: ~\n");
    assert_error(
        &error,
        (1, 10),
        ".targets",
        "expected a sequence, found null",
    );
}

#[test]
fn unknown_field_is_named_with_the_fields_there_are() {
    let error = ours_err::<Inventory>(
        "registries:\n  - address: quay.io\n    username: robot\n    pasword: {file: pw}\n",
    );
    assert_error(
        &error,
        (4, 5),
        ".registries[0]",
        "unknown field `pasword`, expected one of `address`, `username`, `password`, `insecure`, `port`",
    );
    let text =
        "targets:\n- name: n\n  format: butane\n  files:\n  - {document: d, path: /p, owner: x}\n";
    let error = ours_err::<Inventory>(text);
    assert_error(
        &error,
        at(text, 5, "owner"),
        ".targets[0].files[0]",
        "unknown field `owner`, expected one of `document`, `path`, `mode`, `user`",
    );
}

#[test]
fn missing_field_points_at_the_mapping() {
    let error = ours_err::<Inventory>("registries:\n  - address: quay.io\n  - username: robot\n");
    assert_error(&error, (3, 5), ".registries[1]", "missing field `address`");
    let error = ours_err::<Inventory>("targets:\n  - {name: n}\n");
    assert_error(&error, (2, 5), ".targets[0]", "missing field `format`");
    // A struct left empty is missing its fields where its key is.
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Wrapper {
        name: String,
        remote: Remote,
    }
    let error = ours_err::<Wrapper>("name: n\nremote:\n");
    assert_error(&error, (2, 1), ".remote", "missing field `url`");
    assert!(norway::<Wrapper>("name: n\nremote:\n").is_err());
}

#[test]
fn wrong_kinds_are_described_not_quoted() {
    let cases: &[(&str, (usize, usize), &str, &str)] = &[
        (
            "registries:\n  - address: {a: 1}\n",
            (2, 14),
            ".registries[0].address",
            "expected a string, found a mapping",
        ),
        (
            "registries:\n  - address: [a]\n",
            (2, 14),
            ".registries[0].address",
            "expected a string, found a list",
        ),
        (
            "registries:\n  - address: a\n    insecure: maybe\n",
            (3, 15),
            ".registries[0].insecure",
            "expected a boolean, found a string",
        ),
        (
            "registries:\n  - address: a\n    insecure: 'true'\n",
            (3, 15),
            ".registries[0].insecure",
            "expected a boolean, found a string",
        ),
        (
            "registries:\n  - address: a\n    insecure: 1\n",
            (3, 15),
            ".registries[0].insecure",
            "expected a boolean, found a number",
        ),
        (
            "registries:\n  - address: a\n    insecure: ~\n",
            (3, 15),
            ".registries[0].insecure",
            "expected a boolean, found null",
        ),
        (
            "registries:\n  - address: a\n    insecure:\n",
            (3, 5),
            ".registries[0].insecure",
            "expected a boolean, found null",
        ),
        (
            "registries:\n  - address: a\n    port: http\n",
            (3, 11),
            ".registries[0].port",
            "expected u16, found a string",
        ),
        (
            "registries:\n  - address: a\n    port: 70000\n",
            (3, 11),
            ".registries[0].port",
            "expected u16, found a number out of range",
        ),
        (
            "registries:\n  - address: a\n    port: -1\n",
            (3, 11),
            ".registries[0].port",
            "expected u16, found a number out of range",
        ),
        (
            "registries:\n  - address: a\n    port: 1.5\n",
            (3, 11),
            ".registries[0].port",
            "expected u16, found a number",
        ),
        (
            "registries:\n  - address: a\n    port: '80'\n",
            (3, 11),
            ".registries[0].port",
            "expected u16, found a string",
        ),
        (
            "registries: {a: 1}\n",
            (1, 13),
            ".registries",
            "expected a sequence, found a mapping",
        ),
        (
            "registries: quay.io\n",
            (1, 13),
            ".registries",
            "expected a sequence, found a string",
        ),
        (
            "- a\n",
            (1, 1),
            "",
            "expected struct Inventory, found a list",
        ),
        (
            "just text\n",
            (1, 1),
            "",
            "expected struct Inventory, found a string",
        ),
        (
            "registries:\n  - quay.io\n",
            (2, 5),
            ".registries[0]",
            "expected struct Registry, found a string",
        ),
    ];
    for (text, mark, path, message) in cases {
        let error = ours_err::<Inventory>(text);
        assert_error(&error, *mark, path, message);
        assert!(
            norway::<Inventory>(text).is_err(),
            "serde_norway reads {text:?}"
        );
        // The path leads back to the node the mark is at.
        let root = parse(text, Limits::for_text(text)).unwrap().unwrap();
        let node = root.at(&error.path).map(|node| node.mark);
        assert_eq!(node, Some(error.mark), "{text}");
    }
}

#[test]
fn errors_deep_in_lists_of_structs_have_full_paths() {
    let text = "\
targets:
  - name: a
    format: butane
  - name: b
    format: ignition
    files:
      - document: docker-config
        path: /x
        mode: rw-r--r--
";
    let error = ours_err::<Inventory>(text);
    assert_error(
        &error,
        (9, 15),
        ".targets[1].files[0].mode",
        "expected u32, found a string",
    );
    let text = "targets:\n- name: m\n  format: butane\n  marathon:\n    image: i\n    cpus: lots\n";
    assert_error(
        &ours_err::<Inventory>(text),
        (6, 11),
        ".targets[0].marathon.cpus",
        "expected f64, found a string",
    );
    let text =
        "targets:\n- name: m\n  format: butane\n  marathon: {image: i, instances: 5000000000}\n";
    assert_error(
        &ours_err::<Inventory>(text),
        at(text, 4, "5000"),
        ".targets[0].marathon.instances",
        "expected u32, found a number out of range",
    );
}

/// Number fields take what serde_norway's per-width grammars take.
#[test]
fn numbers_in_typed_fields() {
    let marathon = |field: &str, value: &str| format!("image: i\n{field}: {value}\n");
    for (field, value) in [
        ("cpus", "2"),
        ("cpus", "0.25"),
        ("cpus", "1e1"),
        ("cpus", ".inf"),
        ("cpus", "0644"),
        ("cpus", "+1.5"),
        ("cpus", "-0"),
        ("instances", "0x10"),
        ("instances", "0o10"),
        ("instances", "0b10"),
        ("instances", "+7"),
        ("instances", "4294967295"),
    ] {
        let text = marathon(field, value);
        assert_eq!(
            ours::<Marathon>(&text).ok(),
            norway::<Marathon>(&text).ok(),
            "{text}"
        );
        assert!(ours::<Marathon>(&text).is_ok(), "{text}");
    }
    // Refused alike: a float field does not take hex, an integer field no
    // leading zeros, fraction or quotes.
    for (field, value) in [
        ("cpus", "0x10"),
        ("cpus", "'1'"),
        ("cpus", "nan"),
        ("instances", "0644"),
        ("instances", "1.0"),
        ("instances", "4294967296"),
        ("instances", "1e3"),
        ("instances", "'3'"),
    ] {
        let text = marathon(field, value);
        assert!(ours::<Marathon>(&text).is_err(), "{text}");
        assert!(norway::<Marathon>(&text).is_err(), "{text}");
    }
    assert_eq!(
        ours::<Marathon>(&marathon("cpus", "0644")).unwrap().cpus,
        Some(644.0)
    );
}

#[test]
fn untagged_enums() {
    let secret = |value: &str| format!("address: a\npassword: {value}\n");
    for value in [
        "hunter2",
        "'123'",
        "{env: PW}",
        "{file: /p}",
        "\"\"",
        "|\n  multi\n  line\n",
    ] {
        let text = secret(value);
        assert_eq!(
            ours::<Registry>(&text).unwrap(),
            norway::<Registry>(&text).unwrap(),
            "{text}"
        );
    }
    // A plain number is not a string, in both readers.
    assert!(ours::<Registry>(&secret("123")).is_err());
    assert!(norway::<Registry>(&secret("123")).is_err());
    let error = ours_err::<Registry>(&secret("{vault: x}"));
    assert_error(
        &error,
        (2, 11),
        ".password",
        "data did not match any variant of untagged enum Secret",
    );
    let error = ours_err::<Registry>(&secret("[s3cr3t]"));
    assert_error(
        &error,
        (2, 11),
        ".password",
        "data did not match any variant of untagged enum Secret",
    );
}

#[test]
fn externally_tagged_enums() {
    let target = |value: &str| format!("name: n\nformat: butane\ndelivery: {value}\n");
    let read = |value: &str| ours::<Target>(&target(value)).map(|t| t.delivery.unwrap());
    assert_eq!(read("inline").unwrap(), Delivery::Inline);
    assert_eq!(read("'inline'").unwrap(), Delivery::Inline);
    assert_eq!(
        read("{remote: {url: u}}").unwrap(),
        Delivery::Remote { url: "u".into() }
    );
    assert_eq!(
        read("{local: /dir}").unwrap(),
        Delivery::Local("/dir".into())
    );
    assert_eq!(read("{split: [1, 2]}").unwrap(), Delivery::Split(1, 2));
    assert_eq!(read("{inline: ~}").unwrap(), Delivery::Inline);
    // serde_norway agrees on a bare name; for the rest it wants a YAML tag
    // (`!remote {url: u}`), which the tree refuses: see differential.rs.
    assert_eq!(
        norway::<Target>(&target("inline")).unwrap().delivery,
        Some(Delivery::Inline)
    );
    assert!(norway::<Target>(&target("{remote: {url: u}}")).is_err());

    // A variant written as a key is named when unknown, like a field.
    let error = ours_err::<Target>(&target("{remot: {url: u}}"));
    assert_error(
        &error,
        (3, 12),
        ".delivery",
        "unknown variant `remot`, expected one of `inline`, `remote`, `local`, `split`",
    );
    // One written as a value is not: it may be a secret put in the wrong place.
    let error = ours_err::<Target>(&target("s3cr3t-value"));
    assert_error(
        &error,
        (3, 11),
        ".delivery",
        "unknown variant, expected one of `inline`, `remote`, `local`, `split`",
    );
    let error = ours_err::<Target>("name: n\nformat: kubernetes\n");
    assert_error(
        &error,
        (2, 9),
        ".format",
        "unknown variant, expected one of `butane`, `ignition`, `cloud-config`",
    );
    // Content of the wrong kind, and a variant that needs content.
    let error = ours_err::<Target>(&target("{remote: {url: [u]}}"));
    assert_error(
        &error,
        at(&target("{remote: {url: [u]}}"), 3, "[u]"),
        ".delivery.remote.url",
        "expected a string, found a list",
    );
    let error = ours_err::<Target>(&target("remote"));
    assert_error(
        &error,
        (3, 11),
        ".delivery",
        "expected struct variant Delivery::Remote, found a unit variant",
    );
    let error = ours_err::<Target>(&target("{inline: 1, local: x}"));
    assert_error(
        &error,
        (3, 11),
        ".delivery",
        "expected enum Delivery, found a mapping",
    );
    let error = ours_err::<Target>(&target("[inline]"));
    assert_error(
        &error,
        (3, 11),
        ".delivery",
        "expected enum Delivery, found a list",
    );
    let error = ours_err::<Target>(&target("{split: [1, 2, 3]}"));
    assert_eq!(error.path, ".delivery.split");
    assert!(error.message.starts_with("invalid length 3"), "{error:?}");
}

#[test]
fn internally_tagged_enums() {
    let target = |value: &str| format!("name: n\nformat: butane\nsource: {value}\n");
    let text = target("{kind: file, path: /p}");
    assert_eq!(
        ours::<Target>(&text).unwrap(),
        norway::<Target>(&text).unwrap()
    );
    // The tag is a value: an unknown one is not quoted.
    let error = ours_err::<Target>(&target("{kind: s3cr3t-value, path: /p}"));
    assert_error(
        &error,
        (3, 16),
        ".source.kind",
        "unknown variant, expected one of `env`, `file`",
    );
    let error = ours_err::<Target>(&target("{path: /p}"));
    assert_error(&error, (3, 9), ".source", "missing field `kind`");
}

#[test]
fn aliases_are_marked_where_they_are_used() {
    let text = "anchors:\n  - &port not-a-port\nregistry:\n  address: a\n  port: *port\n";
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        anchors: Vec<String>,
        registry: Registry,
    }
    let error = ours_err::<Doc>(text);
    assert_error(
        &error,
        (5, 9),
        ".registry.port",
        "expected u16, found a string",
    );
    // What an aliased collection holds is marked where it is written.
    let text = "base: &b {address: a, port: x}\nregistry: *b\n";
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc2 {
        base: BTreeMap<String, String>,
        registry: Registry,
    }
    let error = ours_err::<Doc2>(text);
    assert_error(
        &error,
        (1, 29),
        ".registry.port",
        "expected u16, found a string",
    );
    let error = ours_err::<Doc2>("base: &b {port: '1'}\nregistry: *b\n");
    assert_error(
        &error,
        (1, 17),
        ".registry.port",
        "expected u16, found a string",
    );
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc3 {
        base: BTreeMap<String, u16>,
        registry: Registry,
    }
    let error = ours_err::<Doc3>("base: &b {port: 1}\nregistry: *b\n");
    assert_error(&error, (2, 11), ".registry", "missing field `address`");
}

#[test]
fn other_shapes() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Shapes {
        pair: (u8, String),
        map: BTreeMap<String, u32>,
        numbered: BTreeMap<u8, bool>,
        letter: char,
        nothing: (),
        port: Port,
        list: Vec<Option<i64>>,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct Port(u16);
    let text = "pair: [1, one]\nmap: {a: 1, b: 2}\nnumbered: {1: true, 0x2: false}\nletter: x\nnothing: ~\nport: 443\nlist: [1, ~, -2, ]\n";
    assert_eq!(
        ours::<Shapes>(text).unwrap(),
        norway::<Shapes>(text).unwrap()
    );
    let error = ours_err::<Shapes>(&text.replace("[1, one]", "[1, one, two]"));
    assert_eq!((error.path.as_str(), error.mark.line), (".pair", 1));
    assert_eq!(error.message, "invalid length 3, expected 2 items");
    let error = ours_err::<Shapes>(&text.replace("letter: x", "letter: xy"));
    assert_error(
        &error,
        (4, 9),
        ".letter",
        "expected a character, found a string",
    );
    let error = ours_err::<Shapes>(&text.replace("nothing: ~", "nothing: s3cr3t"));
    assert_error(&error, (5, 10), ".nothing", "expected unit, found a string");
    let bad = text.replace("{a: 1, b: 2}", "{a: 1, b: x}");
    assert_error(
        &ours_err::<Shapes>(&bad),
        at(&bad, 2, "x}"),
        ".map.b",
        "expected u32, found a string",
    );
    let error = ours_err::<Shapes>(&text.replace("{1: true", "{one: true"));
    assert_error(&error, (3, 12), ".numbered", "expected u8, found a string");
}

#[test]
fn from_node_paths_are_relative_to_the_node_given() {
    let tree = parse(GOOD, Limits::for_text(GOOD)).unwrap().unwrap();
    let target = tree.at(".targets[1]").unwrap();
    let marathon: Marathon = from_node(target.get("marathon").unwrap()).unwrap();
    assert_eq!(marathon.instances, Some(3));
    let error = from_node::<Registry>(target).unwrap_err();
    assert_error(
        &error,
        at(GOOD, 1, "name: mesos"),
        "",
        "unknown field `name`, expected one of `address`, `username`, `password`, `insecure`, `port`",
    );
}

/// Text that looks like a password: long, with an upper-case letter and a
/// digit, so no message word or field name can contain it by chance.
fn secret() -> impl Strategy<Value = String> {
    "[A-Z][a-z0-9]{2}[0-9][A-Za-z0-9!#%&*+=?@^_~.-]{4,20}"
}

fn written(secret: &str, style: u8) -> String {
    match style {
        0 if !secret.starts_with(['!', '#', '%', '&', '*', '?', '@', '-'])
            && !secret.contains(" #") =>
        {
            secret.to_string()
        }
        1 => format!("'{secret}'"),
        2 => serde_json::to_string(secret).unwrap(),
        _ => format!("|\n          {secret}"),
    }
}

/// Places where a value of the wrong kind is an error, `{}` for the value.
const PLACES: &[&str] = &[
    "registries:\n- address: a\n  insecure: {}\n",
    "registries:\n- address: a\n  port: {}\n",
    "registries:\n- {}\n",
    "registries: {}\n",
    "targets:\n- name: n\n  format: {}\n",
    "targets:\n- name: n\n  format: butane\n  delivery: {}\n",
    "targets:\n- name: n\n  format: butane\n  source:\n    kind: {}\n",
    "targets:\n- name: n\n  format: butane\n  files: {}\n",
    "targets:\n- name: n\n  format: butane\n  remote: {}\n",
    "targets:\n- name: n\n  format: butane\n  marathon:\n    image: i\n    cpus: {}\n",
    "targets:\n- name: n\n  format: butane\n  marathon:\n    image: i\n    instances: {}\n",
    "targets:\n- name: n\n  format: butane\n  marathon:\n    image: i\n    legacy_uris: {}\n",
    "targets:\n- name: n\n  format: butane\n  files:\n  - document: d\n    path: /p\n    mode: {}\n",
    "{}\n",
];

proptest! {
    #![proptest_config(common::cases(1000))]

    #[test]
    fn errors_never_quote_a_value(secret in secret(), style in 0u8..4, place in 0..PLACES.len()) {
        let text = PLACES[place].replace("{}", &written(&secret, style));
        let error = ours::<Inventory>(&text).expect_err("a wrong kind of value was read");
        let shown = format!("{} {} {error:?}", error.message(), match &error {
            common::Refusal::De(e) => e.path.clone(),
            common::Refusal::Parse(_) => String::new(),
        });
        prop_assert!(!shown.contains(&secret), "{:?} shows the secret: {}", text, shown);
        prop_assert!(matches!(error, common::Refusal::De(_)), "{:?}: {:?}", text, error);
    }

    /// A value written unquoted that YAML takes for something else (a tag,
    /// an anchor, an alias, a block header, an open quote or bracket) may
    /// not parse at all; the parse error must not show it either.
    #[test]
    fn parse_errors_never_quote_a_value(
        // Not `? `: that makes the value a key, which messages may name.
        prefix in prop::sample::select(vec!["!", "!!", "!<", "&", "*", "|", ">", "%", "@", "`", "\"", "'", "[", "{", "- ", ": "]),
        secret in secret(),
        place in 0..PLACES.len(),
    ) {
        let text = PLACES[place].replace("{}", &format!("{prefix}{secret}"));
        if let Err(error) = ours::<Inventory>(&text) {
            let shown = format!("{error:?}");
            prop_assert!(!shown.contains(&secret[1..]), "{:?} shows the secret: {}", text, shown);
        }
    }

    /// Numbers and booleans that are secrets too (PINs, all-digit tokens):
    /// too wide, negative or of the wrong kind, they are still not quoted.
    #[test]
    fn errors_never_quote_a_number(digits in "[1-9][0-9]{5,40}", negative in any::<bool>(), place in 0..PLACES.len() - 1) {
        let value = if negative { format!("-{digits}") } else { digits.clone() };
        let text = PLACES[place].replace("{}", &value);
        if let Err(error) = ours::<Inventory>(&text) {
            prop_assert!(!error.message().contains(&digits), "{:?}: {}", text, error.message());
        }
    }
}
