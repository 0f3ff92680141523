//! `regforge registry add|list|get|update|delete`: the inventory's registries managed from the command line.
//!
//! Reads go through `inventory::load` (hand-written and managed registries alike);
//! writes touch only the managed file (and, once, append its include to the
//! inventory), re-reading it under the lock so that concurrent commands compose.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::Error;
use crate::cli::{CheckArgs, PasswordArgs, RegistryCommand};
use crate::credentials::{self, Secret, SecretRef, SecretSource};
use crate::fsio::IoError;
use crate::fsio::io_reason;
use crate::fsio::{self, Lock};
use crate::inventory::managed::{self, ManagedFile, ManagedRegistry};
use crate::inventory::{Inventory, Login, Origin, Registry, RegistryAddress};
use crate::login::{self, Accepted, Trust};

mod clock;
mod secrets;
mod show;
mod write;

use clock::*;
use secrets::*;
use show::*;
use write::*;

/// Where the command gets what the process environment gives it, and where it leaves
/// what it has to tell the user besides its data.
pub struct Io<'a> {
    pub env: &'a dyn Fn(&str) -> Option<OsString>,
    pub stdin: &'a mut dyn FnMut() -> Result<Vec<u8>, Error>,
    pub stdout: &'a mut dyn FnMut(&[u8]) -> Result<(), Error>,
    /// Filled as the command goes, also when it fails half-way: the command layer prints
    /// them to stderr, before the error if there is one.
    pub messages: &'a mut Vec<Message>,
}

/// What a registry command tells the user besides its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// The inventory loads, but something in it is probably not meant.
    Warning(String),
    /// Advice the command does not act on itself.
    Note(String),
    /// What the command did or found.
    Done(String),
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Warning(text) => write!(f, "warning: {text}"),
            Message::Note(text) => write!(f, "note: {text}"),
            Message::Done(text) => f.write_str(text),
        }
    }
}

pub fn run(inventory: &Path, command: RegistryCommand, io: Io) -> Result<(), Error> {
    // An inventory given as a link is worked on where it really is: its include, its
    // managed file and its secrets sit beside the file, not beside the link.
    let resolved;
    let inventory = match std::fs::symlink_metadata(inventory) {
        Ok(meta) if meta.file_type().is_symlink() => {
            resolved = std::fs::canonicalize(inventory).unwrap_or_else(|_| inventory.to_path_buf());
            resolved.as_path()
        }
        _ => inventory,
    };
    match command {
        RegistryCommand::Add {
            registry,
            username,
            password_argument,
            password,
            email,
            insecure,
            check,
        } => {
            refuse_password_argument(password_argument.is_some() || password.password.is_some())?;
            let changes = Changes {
                username: Some(username),
                password: password_choice(&password, inventory, io.stdin)?,
                email,
                insecure: Some(insecure),
            };
            add(
                inventory,
                &registry,
                changes,
                &password.secrets_dir,
                &check,
                io.env,
                io.messages,
            )
        }
        RegistryCommand::List { json } => {
            let rows = rows(inventory, io.messages)?;
            let text = if json { json_text(&rows) } else { table(&rows) };
            (io.stdout)(text.as_bytes())
        }
        RegistryCommand::Get { registry, json } => {
            let wanted = parse_address(&registry)?;
            let rows = rows(inventory, io.messages)?;
            let row = rows
                .iter()
                .find(|r| r.canonical == wanted.canonical())
                .ok_or_else(|| missing(&registry, inventory))?;
            let text = if json { json_text(row) } else { details(row) };
            (io.stdout)(text.as_bytes())
        }
        RegistryCommand::Update {
            registry,
            username,
            password,
            email,
            insecure,
            verify_tls,
            check,
        } => {
            refuse_password_argument(password.password.is_some())?;
            let changes = Changes {
                username,
                password: password_choice(&password, inventory, io.stdin)?,
                email,
                insecure: match (insecure, verify_tls) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
            };
            update(
                inventory,
                &registry,
                changes,
                &password.secrets_dir,
                &check,
                io.env,
                io.messages,
            )
        }
        RegistryCommand::Delete { registry, force } => {
            delete(inventory, &registry, force, io.messages)
        }
    }
}

fn inventory_folder(inventory: &Path) -> &Path {
    inventory.parent().unwrap_or(Path::new(""))
}

fn parse_address(text: &str) -> Result<RegistryAddress, Error> {
    text.parse()
        .map_err(|e| Error::Input(format!("registry `{text}`: {e}")))
}

fn missing(registry: &str, inventory: &Path) -> Error {
    Error::NotFound(format!(
        "no registry `{registry}` in {}; see `regforge registry list`",
        inventory.display()
    ))
}

fn load(inventory: &Path, messages: &mut Vec<Message>) -> Result<Inventory, Error> {
    let (inventory, warnings) = crate::inventory::load(inventory, crate::inventory::Advice::Shown)?;
    messages.extend(warnings.iter().map(|w| Message::Warning(w.to_string())));
    Ok(inventory)
}

/// anchore's registry type: `awsecr` for Amazon ECR, `docker_v2` for every other registry.
pub fn registry_type(address: &RegistryAddress) -> &'static str {
    if address.is_ecr() {
        "awsecr"
    } else {
        "docker_v2"
    }
}

fn find<'a>(inventory: &'a Inventory, address: &RegistryAddress) -> Option<&'a Registry> {
    inventory
        .registries
        .iter()
        .find(|r| r.address.canonical() == address.canonical())
}

fn refuse_hand_written(inventory: &Inventory, r: &Registry, verb: &str) -> Result<(), Error> {
    if managed_canonicals(inventory).contains(&r.address.canonical()) {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "registry {} is written by hand in {}; {verb} it by editing that file",
        r.address,
        inventory.path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(address: &str) -> &'static str {
        registry_type(&address.parse().unwrap())
    }

    #[test]
    fn ecr_addresses_are_awsecr() {
        assert_eq!(
            kind("012345678910.dkr.ecr.us-east-1.amazonaws.com"),
            "awsecr"
        );
        assert_eq!(
            kind("012345678910.dkr.ecr.cn-north-1.amazonaws.com.cn"),
            "awsecr"
        );
        assert_eq!(
            kind("012345678910.dkr.ecr.us-east-1.amazonaws.com/team"),
            "awsecr"
        );
        for other in [
            "quay.io",
            "docker.io",
            "abc.dkr.ecr.us-east-1.amazonaws.com",
            "012345678910.dkr.ecr.amazonaws.com",
            "012345678910.dkr.ecr.us-east-1.amazonaws.com.evil.example",
            "012345678910.dkr.ecr.us-east-1.amazonaws.com:5000",
        ] {
            assert_eq!(kind(other), "docker_v2", "{other}");
        }
    }

    #[test]
    fn rfc3339_from_unix_seconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // date -u -d @951782400 → 2000-02-29 (a leap day in a century leap year)
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_787_045), "2025-01-02T03:04:05Z");
    }

    #[test]
    fn secret_file_names_are_safe() {
        assert_eq!(
            secret_file_stem("127.0.0.1:5000/team"),
            "127.0.0.1_5000_team"
        );
    }
}
