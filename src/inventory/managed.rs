//! The managed registries file: what `regforge registry` writes beside the inventory, read back into it.
//!
//! No YAML crate edits a file in place while keeping its comments, so regforge never
//! rewrites the hand-written inventory: CLI-managed registries live in a file wholly
//! written by regforge, which the inventory includes with `managed_registries: PATH`.
//! Every write happens under an exclusive lock (`fsio::Lock`) and is atomic
//! (`fsio::write_file`), so concurrent writers lose nothing and a killed writer leaves the
//! old or the new file.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};

use super::raw::{RawRegistry, RawTarget, RawTop};
use super::{Advice, InventoryError, Registry, SourceMap, Validator, Warning};
use crate::credentials::SecretRef;
use crate::fsio::io_reason;

/// The file name `registry add` gives the managed file when the inventory names none.
pub const DEFAULT_FILE_NAME: &str = "regforge.registries.yaml";

const HEADER: &str = "# Registries managed by `regforge registry`; do not edit by hand.\n\
# The inventory includes this file with `managed_registries:`.\n";

/// The managed file's content.
#[derive(Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManagedFile {
    #[serde(default)]
    pub registries: Vec<ManagedRegistry>,
}

/// One CLI-managed registry: an inventory registry's keys plus its history.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManagedRegistry {
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "secret_ref_out"
    )]
    pub password: Option<SecretRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper: Option<String>,
    /// True when regforge wrote the password file itself (`--password-stdin`), so that
    /// `registry delete` removes it too; a file the user named stays.
    #[serde(default, skip_serializing_if = "is_false")]
    pub managed_secret: bool,
    /// RFC 3339, UTC.
    pub created: String,
    pub updated: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

// Only references are ever written here; a literal only exists if someone edited the
// file by hand, and then it is written back as it was.
fn secret_ref_out<S: Serializer>(value: &Option<SecretRef>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match value {
        None => s.serialize_none(),
        Some(SecretRef::Literal(secret)) => s.serialize_str(secret.expose()),
        Some(SecretRef::Env(name)) => {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("env", name)?;
            m.end()
        }
        Some(SecretRef::File(path)) => {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("file", &path.to_string_lossy())?;
            m.end()
        }
        Some(SecretRef::Age { file, identity }) => {
            let mut m = s.serialize_map(Some(2))?;
            m.serialize_entry("age", &file.to_string_lossy())?;
            m.serialize_entry("identity", &identity.to_string_lossy())?;
            m.end()
        }
        Some(SecretRef::Exec(exec)) => {
            let mut m = s.serialize_map(Some(2))?;
            m.serialize_entry("exec", &exec.argv)?;
            if exec.timeout_seconds != crate::model::Exec::DEFAULT_TIMEOUT_SECONDS {
                m.serialize_entry("timeout", &exec.timeout_seconds)?;
            }
            m.end()
        }
    }
}

impl ManagedFile {
    pub fn to_text(&self) -> String {
        let body = serde_yaml::to_string(self).expect("a managed file always serialises");
        format!("{HEADER}{body}")
    }

    /// Parses managed file text; errors are located in that file.
    pub fn parse(path: &Path, text: &str) -> Result<ManagedFile, InventoryError> {
        ManagedFile::from_map(&SourceMap::read(path, text)?)
    }

    fn from_map(map: &SourceMap) -> Result<ManagedFile, InventoryError> {
        map.require_mapping(
            "the managed registries file",
            "it must be a mapping with `registries`",
        )?;
        map.deserialize()
    }

    /// Reads the file; a missing file is an empty one.
    pub fn read_or_empty(path: &Path) -> Result<ManagedFile, InventoryError> {
        match fs::read_to_string(path) {
            Ok(text) => ManagedFile::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ManagedFile::default()),
            Err(e) => Err(read_error(path, &e)),
        }
    }

    /// The entry for `canonical`, compared in canonical form (Hub aliases are one registry).
    pub fn position(&self, canonical: &str) -> Option<usize> {
        self.registries.iter().position(|r| {
            r.address
                .parse::<super::RegistryAddress>()
                .is_ok_and(|a| a.canonical() == canonical)
        })
    }
}

impl From<ManagedRegistry> for RawRegistry {
    // The command line manages username + password registries; identity tokens, helpers
    // and AWS keys are written by hand in the inventory.
    fn from(m: ManagedRegistry) -> RawRegistry {
        RawRegistry {
            address: m.address,
            username: m.username,
            password: m.password,
            email: m.email,
            insecure: m.insecure,
            helper: m.helper,
            ..RawRegistry::default()
        }
    }
}

fn read_error(path: &Path, e: &std::io::Error) -> InventoryError {
    InventoryError::Read {
        path: path.to_path_buf(),
        reason: io_reason(e),
    }
}

/// The managed file an inventory names, resolved against the inventory's folder.
pub fn resolve_path(inventory: &Path, declared: &str) -> PathBuf {
    inventory.parent().unwrap_or(Path::new("")).join(declared)
}

/// Reads, validates and appends the managed registries to the hand-written ones, refusing
/// an address defined in both files (naming both places).
pub(super) fn load_into(
    inventory: &Path,
    inventory_map: &SourceMap,
    declared: &str,
    registries: &mut Vec<Registry>,
    warnings: &mut Vec<Warning>,
    advice: Advice,
) -> Result<PathBuf, InventoryError> {
    let path = resolve_path(inventory, declared);
    let text = fs::read_to_string(&path).map_err(|e| read_error(&path, &e))?;
    let map = SourceMap::read(&path, &text)?;
    let file = ManagedFile::from_map(&map)?;
    // Secret files are relative to the inventory's folder, wherever this file is.
    let mut v = Validator::new(map, inventory.parent().unwrap_or(Path::new("")), advice);
    let (managed, _) = v.registries(
        file.registries
            .into_iter()
            .map(|r| Some(r.into()))
            .collect(),
    );
    InventoryError::gather(std::mem::take(&mut v.problems))?;
    for (j, m) in managed.iter().enumerate() {
        if let Some(i) = registries
            .iter()
            .position(|r| r.address.canonical() == m.address.canonical())
        {
            let first = inventory_map.origin(&format!("registries[{i}].address"));
            return v.error(
                &format!("registries[{j}].address"),
                format!(
                    "registry {} is also written by hand at {first}; each registry appears once (delete one of them)",
                    m.address
                ),
            );
        }
    }
    registries.extend(managed);
    warnings.append(&mut v.warnings);
    Ok(path)
}

/// The inventory text with the include of the managed file appended: every byte that
/// was there stays, and a line break is added first when the text does not end in one.
pub fn append_include(inventory_text: &str, declared: &str) -> String {
    let mut out = String::with_capacity(inventory_text.len() + 120);
    out.push_str(inventory_text);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(
        "\n# Registries added with `regforge registry add` (do not edit that file by hand):\n",
    );
    out.push_str(&format!("managed_registries: {declared}\n"));
    out
}

/// The `managed_registries` value of inventory text, if it has one (the text is parsed
/// only as far as the top level; a full validation happens elsewhere).
pub fn declared_in(path: &Path, inventory_text: &str) -> Result<Option<String>, InventoryError> {
    let raw: RawTop = SourceMap::read(path, inventory_text)?.deserialize()?;
    Ok(raw.managed_registries)
}

/// Names of the targets whose `registries` list names `canonical` explicitly.
pub fn targets_naming(
    path: &Path,
    inventory_text: &str,
    canonical: &str,
) -> Result<Vec<String>, InventoryError> {
    let map = SourceMap::read(path, inventory_text)?;
    let raw: RawTop = map.deserialize()?;
    let targets = (0..raw.targets.len())
        .map(|i| map.read_entry::<RawTarget>(&format!("targets[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(targets
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| {
            t.registries.iter().flatten().any(|name| {
                name.parse::<super::RegistryAddress>()
                    .is_ok_and(|a| a.canonical() == canonical)
            })
        })
        .map(|t| t.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;

    fn entry(address: &str, password: SecretRef) -> ManagedRegistry {
        ManagedRegistry {
            address: address.into(),
            username: Some("robot".into()),
            password: Some(password),
            email: None,
            insecure: false,
            helper: None,
            managed_secret: false,
            created: "2025-01-02T03:04:05Z".into(),
            updated: "2025-01-02T03:04:05Z".into(),
        }
    }

    #[test]
    fn managed_file_round_trips() {
        let mut insecure = entry("reg.example.com:5000", SecretRef::File("secrets/a".into()));
        insecure.insecure = true;
        insecure.managed_secret = true;
        insecure.email = Some("ops@example.com".into());
        let file = ManagedFile {
            registries: vec![
                entry("quay.io/org", SecretRef::Env("QUAY_PW".into())),
                insecure,
            ],
        };
        let text = file.to_text();
        assert!(text.starts_with("# Registries managed by `regforge registry`"));
        assert!(text.contains("password:\n    env: QUAY_PW\n"), "{text}");
        let back = ManagedFile::parse(Path::new("m.yaml"), &text).unwrap();
        assert_eq!(back, file);
        assert_eq!(back.position("quay.io/org"), Some(0));
        assert_eq!(back.position("quay.io"), None);
        // A literal written by hand survives a rewrite as it was.
        let literal = ManagedFile {
            registries: vec![entry("q.io", SecretRef::Literal(Secret::new("x".into())))],
        };
        let again = ManagedFile::parse(Path::new("m.yaml"), &literal.to_text()).unwrap();
        assert_eq!(again, literal);
    }

    #[test]
    fn managed_file_refuses_unknown_keys_with_a_location() {
        let text =
            "registries:\n  - address: q.io\n    colour: red\n    created: x\n    updated: x\n";
        let err = ManagedFile::parse(Path::new("m.yaml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.yaml:3:"), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn append_keeps_every_byte_and_adds_a_line_break_when_missing() {
        let original = "# my registries\nregistries: []  # none yet\ntargets: []";
        let out = append_include(original, "regforge.registries.yaml");
        assert!(out.starts_with(original));
        assert_eq!(
            &out[original.len()..],
            "\n\n# Registries added with `regforge registry add` (do not edit that file by hand):\nmanaged_registries: regforge.registries.yaml\n"
        );
        let with_newline = "targets: []\n";
        let out = append_include(with_newline, "m.yaml");
        assert!(out.starts_with("targets: []\n\n# Registries added"));
        assert_eq!(
            declared_in(Path::new("i.yaml"), &out).unwrap().as_deref(),
            Some("m.yaml")
        );
        assert!(append_include("", "m.yaml").starts_with("\n# Registries added"));
    }
}
