//! A strict reading of rendered Butane, standing in for `butane --strict` (not packaged in
//! Debian): unknown keys fail, each file has exactly one content source, and the config is
//! translated to the Ignition JSON Butane would emit so that `ignition-validate` can judge it.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub variant: String,
    pub version: String,
    pub storage: Storage,
    pub systemd: Option<Systemd>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    #[serde(default)]
    pub directories: Vec<Node>,
    pub files: Vec<Node>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub path: String,
    pub mode: Option<serde_yaml::Value>,
    pub overwrite: Option<bool>,
    pub user: Option<Owner>,
    pub group: Option<Owner>,
    pub contents: Option<Resource>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub inline: Option<String>,
    pub source: Option<String>,
    pub local: Option<String>,
    pub verification: Option<Verification>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    pub hash: String,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Systemd {
    pub units: Vec<Unit>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub name: String,
    pub enabled: Option<bool>,
    pub contents: Option<String>,
}

/// Butane reads `0600` as octal; serde's YAML 1.2 hands it over as the string "0600".
fn mode(value: &Option<serde_yaml::Value>) -> Option<u32> {
    match value.as_ref()? {
        serde_yaml::Value::Number(n) => Some(n.as_u64().unwrap() as u32),
        serde_yaml::Value::String(s) => {
            assert!(
                s.len() == 4 && s.starts_with('0'),
                "mode {s:?} is not written as Butane octal"
            );
            Some(u32::from_str_radix(s, 8).unwrap())
        }
        other => panic!("mode {other:?} is not a number"),
    }
}

pub fn ignition_spec(variant: &str, version: &str) -> &'static str {
    match (variant, version) {
        ("flatcar", "1.0.0") | ("fcos", "1.4.0") => "3.3.0",
        ("flatcar", "1.1.0") | ("fcos", "1.5.0") => "3.4.0",
        other => panic!("unexpected butane spec {other:?}"),
    }
}

/// A placed file as the node would receive it.
pub struct Placed {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Translates like Butane does for the subset regforge writes (except that inline contents
/// always become base64 data URLs, where Butane may pick percent-escaping: compare decoded
/// bytes, see `ignition::decode_sources`); `out_dir` holds
/// `files/` (for `local`) and `artifacts/` (for remote sources, checked against their hash).
pub fn translate(text: &str, out_dir: &Path) -> (Value, Vec<Placed>) {
    let config: Config = serde_yaml::from_str(text)
        .unwrap_or_else(|e| panic!("strict Butane parse failed: {e}\n{text}"));
    let mut placed = Vec::new();
    let owner = |o: &Option<Owner>| o.as_ref().map(|o| json!({"name": o.name}));
    let directories: Vec<Value> = config
        .storage
        .directories
        .iter()
        .map(|d| json!({"path": d.path, "mode": mode(&d.mode), "user": owner(&d.user), "group": owner(&d.group)}))
        .collect();
    let files: Vec<Value> = config
        .storage
        .files
        .iter()
        .map(|f| {
            let contents = f.contents.as_ref().expect("every file has contents");
            let sources = [&contents.inline, &contents.source, &contents.local]
                .iter()
                .filter(|s| s.is_some())
                .count();
            assert_eq!(
                sources, 1,
                "{}: exactly one of inline, source, local",
                f.path
            );
            // Butane writes `"compression": ""` beside the data URLs it makes, so that a
            // merged parent config cannot lend them its compression.
            let (source, compression, verification, bytes) = if let Some(inline) = &contents.inline
            {
                (
                    data_url(inline.as_bytes()),
                    Some(""),
                    None,
                    inline.as_bytes().to_vec(),
                )
            } else if let Some(local) = &contents.local {
                let bytes = std::fs::read(out_dir.join("files").join(local))
                    .expect("local file exists in files/");
                (data_url(&bytes), Some(""), None, bytes)
            } else {
                let source = contents.source.clone().unwrap();
                let bytes = match source.strip_prefix("data:;base64,") {
                    Some(b64) => base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .unwrap(),
                    None => std::fs::read(
                        out_dir
                            .join("artifacts")
                            .join(source.rsplit('/').next().unwrap()),
                    )
                    .expect("remote source names an artifact"),
                };
                let hash = contents.verification.as_ref().map(|v| v.hash.clone());
                if let Some(hash) = &hash {
                    assert_eq!(
                        *hash,
                        format!("sha512-{}", hex::encode(Sha512::digest(&bytes))),
                        "{}: hash",
                        f.path
                    );
                } else {
                    assert!(
                        source.starts_with("data:"),
                        "{}: a fetched source needs verification.hash",
                        f.path
                    );
                }
                (source, None, hash.map(|h| json!({"hash": h})), bytes)
            };
            placed.push(Placed {
                path: f.path.clone(),
                bytes,
            });
            json!({
                "path": f.path, "overwrite": f.overwrite, "mode": mode(&f.mode),
                "user": owner(&f.user), "group": owner(&f.group),
                "contents": {"source": source, "compression": compression, "verification": verification},
            })
        })
        .collect();
    let mut ignition = json!({
        "ignition": {"version": ignition_spec(&config.variant, &config.version)},
        "storage": {"files": files},
    });
    // Butane leaves out empty lists (Go `omitempty`).
    if !directories.is_empty() {
        ignition["storage"]["directories"] = directories.into();
    }
    if let Some(systemd) = &config.systemd {
        ignition["systemd"] = serde_json::to_value(systemd).unwrap();
    }
    (strip_nulls(ignition), placed)
}

fn data_url(bytes: &[u8]) -> String {
    format!(
        "data:;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Every docker-style `auth` in a placed docker-config, containers-auth, dockercfg, or the
/// config.json inside a mesos-archive decodes to `user:password` with a user. Other
/// documents (rkt, Kubernetes, Drone, Marathon) have tests of their own.
pub fn check_auths(path: &str, bytes: &[u8]) {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        let mut config = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_str() == Some(".docker/config.json") {
                std::io::Read::read_to_end(&mut entry, &mut config).unwrap();
            }
        }
        assert!(
            !config.is_empty(),
            "{path}: no .docker/config.json in the archive"
        );
        return check_auths(&format!("{path}!.docker/config.json"), &config);
    }
    let docker_style = ["config.json", "auth.json", ".dockercfg"];
    if !docker_style.iter().any(|suffix| path.ends_with(suffix)) {
        return;
    }
    let doc: Value =
        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
    let entries: BTreeMap<String, Value> = match doc.get("auths") {
        Some(auths) => serde_json::from_value(auths.clone()).unwrap(),
        None => serde_json::from_value(doc.clone()).unwrap(),
    };
    for (key, entry) in entries {
        let auth = entry["auth"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {key} has no auth"));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap();
        let text = String::from_utf8(decoded).unwrap();
        let (user, _) = text
            .split_once(':')
            .unwrap_or_else(|| panic!("{path}: {key}: auth has no ':'"));
        assert!(!user.is_empty(), "{path}: {key}: empty user");
    }
}
