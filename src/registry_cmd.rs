//! `regforge registry add|list|get|update|delete`: the inventory's registries managed from the command line.
//!
//! Reads go through `inventory::load` (hand-written and managed registries alike);
//! writes touch only the managed file (and, once, append its include to the
//! inventory), re-reading it under the lock so that concurrent commands compose.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::Error;
use crate::cli::{CheckArgs, PasswordArgs, RegistryCommand};
use crate::credentials::{self, Secret, SecretRef, SecretSource, io_reason};
use crate::inventory::managed::{self, Lock, ManagedFile, ManagedRegistry};
use crate::inventory::{Inventory, Login, Origin, Registry, RegistryAddress};
use crate::login::{self, Accepted, Trust};
use crate::output::OutputError;

/// Where the command gets what the process environment gives it.
pub struct Io<'a> {
    pub env: &'a dyn Fn(&str) -> Option<OsString>,
    pub stdin: &'a mut dyn FnMut() -> Result<Vec<u8>, Error>,
    pub stdout: &'a mut dyn FnMut(&[u8]) -> Result<(), Error>,
}

pub fn run(inventory: &Path, command: RegistryCommand, io: Io) -> Result<(), Error> {
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
            )
        }
        RegistryCommand::List { json } => {
            let rows = rows(inventory)?;
            let text = if json { json_text(&rows) } else { table(&rows) };
            (io.stdout)(text.as_bytes())
        }
        RegistryCommand::Get { registry, json } => {
            let wanted = parse_address(&registry)?;
            let rows = rows(inventory)?;
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
            )
        }
        RegistryCommand::Delete { registry, force } => delete(inventory, &registry, force),
    }
}

fn refuse_password_argument(given: bool) -> Result<(), Error> {
    if given {
        return Err(Error::Usage(
            "a password is not accepted on the command line: it would stay in your shell history and show in `ps` to every user of this machine; use --password-stdin, --password-env VAR or --password-file PATH".into(),
        ));
    }
    Ok(())
}

/// The password as given: a reference to store, or (stdin) a value still to be stored.
enum PasswordChoice {
    Reference(SecretRef),
    Stdin(Secret),
}

/// What `add` sets and `update` changes; `None` leaves a value as it is.
struct Changes {
    username: Option<String>,
    password: Option<PasswordChoice>,
    email: Option<String>,
    insecure: Option<bool>,
}

fn password_choice(
    args: &PasswordArgs,
    inventory: &Path,
    stdin: &mut dyn FnMut() -> Result<Vec<u8>, Error>,
) -> Result<Option<PasswordChoice>, Error> {
    if args.password_stdin {
        let bytes = stdin()?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Usage("the password on stdin is not UTF-8".into()))?;
        let text = strip_one_line_break(text);
        if text.is_empty() {
            return Err(Error::Usage(
                "--password-stdin read an empty password".into(),
            ));
        }
        return Ok(Some(PasswordChoice::Stdin(Secret::new(text))));
    }
    if let Some(var) = &args.password_env {
        if var.is_empty() || var.contains('=') {
            return Err(Error::Usage(format!(
                "`{var}` is not an environment variable name"
            )));
        }
        return Ok(Some(PasswordChoice::Reference(SecretRef::Env(var.clone()))));
    }
    if let Some(file) = &args.password_file {
        return Ok(Some(PasswordChoice::Reference(SecretRef::File(
            relative_to_inventory(inventory, file),
        ))));
    }
    Ok(None)
}

fn strip_one_line_break(mut text: String) -> String {
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    text
}

/// A path the user typed (relative to the current folder) as the inventory reads it
/// (relative to the inventory's folder), or absolute when it lies outside that folder.
fn relative_to_inventory(inventory: &Path, file: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = cwd.join(file);
    let folder = cwd.join(inventory_folder(inventory));
    match absolute.strip_prefix(&folder) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => absolute,
    }
}

fn inventory_folder(inventory: &Path) -> &Path {
    inventory.parent().unwrap_or(Path::new(""))
}

fn parse_address(text: &str) -> Result<RegistryAddress, Error> {
    text.parse()
        .map_err(|e| Error::Usage(format!("registry `{text}`: {e}")))
}

fn missing(registry: &str, inventory: &Path) -> Error {
    Error::Usage(format!(
        "no registry `{registry}` in {}; see `regforge registry list`",
        inventory.display()
    ))
}

fn load(inventory: &Path) -> Result<Inventory, Error> {
    let (inventory, warnings) = crate::inventory::load(inventory)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    Ok(inventory)
}

/// anchore's registry type: `awsecr` for Amazon ECR (`<account>.dkr.ecr.<region>.amazonaws.com`).
pub fn registry_type(address: &RegistryAddress) -> &'static str {
    let host_port = address.host_port();
    let labels: Vec<&str> = host_port.split('.').collect();
    let ecr = labels.len() >= 6
        && labels[0].bytes().all(|b| b.is_ascii_digit())
        && labels[1] == "dkr"
        && labels[2] == "ecr"
        && {
            let tail = &labels[labels.len() - 2..];
            let tail_cn = &labels[labels.len().saturating_sub(3)..];
            (tail == ["amazonaws", "com"] && labels.len() == 6)
                || (tail_cn == ["amazonaws", "com", "cn"] && labels.len() == 7)
        };
    if ecr { "awsecr" } else { "docker_v2" }
}

fn add(
    inventory_path: &Path,
    registry: &str,
    changes: Changes,
    secrets_dir: &Path,
    check: &CheckArgs,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), Error> {
    let address = parse_address(registry)?;
    let Some(password) = &changes.password else {
        return Err(Error::Usage(
            "give the password with --password-stdin, --password-env VAR or --password-file PATH"
                .into(),
        ));
    };
    let inventory = load(inventory_path)?;
    if let Some(r) = find(&inventory, &address) {
        return Err(exists(&inventory, r));
    }
    let kind = registry_type(&address);
    if kind == "awsecr" {
        eprintln!(
            "note: {address} is Amazon ECR (type awsecr): its passwords expire after 12 hours; consider writing it by hand with `helper: ecr-login` so docker fetches fresh ones"
        );
    }
    let username = changes.username.clone().unwrap_or_default();
    let insecure = changes.insecure.unwrap_or(false);
    if !check.skip_validation {
        let secret = secret_of(password, inventory_path, env)?;
        check_login(&address, &username, &secret, insecure, check)?;
    }
    let now = now_rfc3339();
    let _lock = Lock::acquire(inventory_path)?;
    let (mut file, managed_path, declared) = read_managed(inventory_path)?;
    if file.position(&address.canonical()).is_some() {
        return Err(Error::Usage(format!(
            "registry {address} was just added by another command; change it with `regforge registry update {address}`"
        )));
    }
    let mut entry = ManagedRegistry {
        address: address.to_string(),
        username: None,
        password: None,
        email: None,
        insecure: false,
        helper: None,
        managed_secret: false,
        created: now.clone(),
        updated: now,
    };
    let written = apply(&mut entry, &changes, inventory_path, secrets_dir)?;
    file.registries.push(entry);
    let result = write_managed(inventory_path, &managed_path, &file, declared.is_none());
    if result.is_err() {
        discard(written.as_deref());
    }
    result?;
    eprintln!(
        "added {address} (type {kind}) to {}",
        managed_path.display()
    );
    Ok(())
}

fn exists(inventory: &Inventory, r: &Registry) -> Error {
    let managed = managed_canonicals(inventory).contains(&r.address.canonical());
    let place = if managed {
        "was added with `regforge registry add`".to_string()
    } else {
        format!("is written by hand in {}", inventory.path.display())
    };
    Error::Usage(format!(
        "registry {} already exists: it {place}; change it with `regforge registry update {}`",
        r.address, r.address
    ))
}

fn find<'a>(inventory: &'a Inventory, address: &RegistryAddress) -> Option<&'a Registry> {
    inventory
        .registries
        .iter()
        .find(|r| r.address.canonical() == address.canonical())
}

/// The canonical addresses the managed file holds.
fn managed_canonicals(inventory: &Inventory) -> Vec<String> {
    inventory
        .managed_registries
        .as_deref()
        .and_then(|p| ManagedFile::read_or_empty(p).ok())
        .map(|f| {
            f.registries
                .iter()
                .filter_map(|r| r.address.parse::<RegistryAddress>().ok())
                .map(|a| a.canonical())
                .collect()
        })
        .unwrap_or_default()
}

/// Under the lock: the managed file, its path, and the inventory's declaration of it.
fn read_managed(inventory: &Path) -> Result<(ManagedFile, PathBuf, Option<String>), Error> {
    let text =
        fs::read_to_string(inventory).map_err(|e| crate::inventory::InventoryError::Read {
            path: inventory.to_path_buf(),
            reason: io_reason(&e),
        })?;
    let declared = managed::declared_in(inventory, &text)?;
    let path = managed::resolve_path(
        inventory,
        declared.as_deref().unwrap_or(managed::DEFAULT_FILE_NAME),
    );
    Ok((ManagedFile::read_or_empty(&path)?, path, declared))
}

/// Writes the managed file, then (when the inventory does not include it yet) appends
/// the include to the inventory. In that order, a crash in between leaves an inventory
/// that still loads.
fn write_managed(
    inventory: &Path,
    managed_path: &Path,
    file: &ManagedFile,
    append_include: bool,
) -> Result<(), Error> {
    managed::write_atomic(managed_path, file.to_text().as_bytes(), 0o600)?;
    if append_include {
        let text = fs::read_to_string(inventory).map_err(|e| OutputError {
            action: "read",
            path: inventory.to_path_buf(),
            reason: io_reason(&e),
        })?;
        let mode = fs::metadata(inventory)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        let appended = managed::append_include(&text, managed::DEFAULT_FILE_NAME);
        managed::write_atomic(inventory, appended.as_bytes(), mode)?;
        eprintln!(
            "appended `managed_registries: {}` to {}",
            managed::DEFAULT_FILE_NAME,
            inventory.display()
        );
    }
    Ok(())
}

/// Applies the changes to an entry; a password from stdin is written to a new secret
/// file, whose path is returned so that a failed write can remove it again.
fn apply(
    entry: &mut ManagedRegistry,
    changes: &Changes,
    inventory: &Path,
    secrets_dir: &Path,
) -> Result<Option<PathBuf>, Error> {
    if let Some(username) = &changes.username {
        entry.username = Some(username.clone());
    }
    if let Some(email) = &changes.email {
        entry.email = Some(email.clone());
    }
    if let Some(insecure) = changes.insecure {
        entry.insecure = insecure;
    }
    let mut written = None;
    match &changes.password {
        None => {}
        Some(PasswordChoice::Reference(reference)) => {
            entry.password = Some(reference.clone());
            entry.managed_secret = false;
        }
        Some(PasswordChoice::Stdin(secret)) => {
            let rel = store_secret(inventory, secrets_dir, &entry.address, secret)?;
            written = Some(inventory_folder(inventory).join(&rel));
            entry.password = Some(SecretRef::File(rel));
            entry.managed_secret = true;
        }
    }
    Ok(written)
}

fn discard(secret_file: Option<&Path>) {
    if let Some(path) = secret_file {
        let _ = fs::remove_file(path);
    }
}

/// Writes the password to a new file (0600) in the secrets folder (0700, with a
/// `.gitignore` of `*`), returning its path relative to the inventory's folder.
fn store_secret(
    inventory: &Path,
    secrets_dir: &Path,
    address: &str,
    secret: &Secret,
) -> Result<PathBuf, Error> {
    let folder = inventory_folder(inventory).join(secrets_dir);
    let fail = |path: &Path, e: &std::io::Error| OutputError {
        action: "write",
        path: path.to_path_buf(),
        reason: io_reason(e),
    };
    if !folder.is_dir() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&folder)
            .map_err(|e| fail(&folder, &e))?;
    }
    let ignore = folder.join(".gitignore");
    if !ignore.exists() {
        fs::write(&ignore, "*\n").map_err(|e| fail(&ignore, &e))?;
        eprintln!(
            "note: wrote {} (`*`) so that git ignores the secrets; keep {} out of version control",
            ignore.display(),
            folder.display()
        );
    }
    let stem = secret_file_stem(address);
    for n in 0u32.. {
        let name = match n {
            0 => format!("{stem}.password"),
            n => format!("{stem}-{n}.password"),
        };
        let path = folder.join(&name);
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        let mut out = match created {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(fail(&path, &e).into()),
        };
        out.write_all(secret.expose().as_bytes())
            .and_then(|()| out.sync_all())
            .map_err(|e| {
                let _ = fs::remove_file(&path);
                fail(&path, &e)
            })?;
        eprintln!("stored the password in {} (mode 0600)", path.display());
        return Ok(secrets_dir.join(name));
    }
    unreachable!("the file name counter is unbounded")
}

/// A file name for a registry's password: its address with `:` and `/` made safe.
fn secret_file_stem(address: &str) -> String {
    address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The password to validate with: from stdin as read, or the reference resolved.
fn secret_of(
    choice: &PasswordChoice,
    inventory: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Secret, Error> {
    match choice {
        PasswordChoice::Stdin(secret) => Ok(secret.clone()),
        PasswordChoice::Reference(reference) => {
            let flag = match reference {
                SecretRef::Env(_) => "--password-env",
                _ => "--password-file",
            };
            resolve(reference, flag, inventory, env)
        }
    }
}

fn resolve(
    reference: &SecretRef,
    from: &str,
    inventory: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Secret, Error> {
    let source = SecretSource {
        reference: reference.clone(),
        origin: Origin {
            file: Arc::new(PathBuf::from(from)),
            line: 0,
            column: 0,
            field: String::new(),
        },
    };
    Ok(credentials::resolve(
        &source,
        inventory_folder(inventory),
        env,
    )?)
}

fn check_login(
    address: &RegistryAddress,
    username: &str,
    secret: &Secret,
    insecure: bool,
    check: &CheckArgs,
) -> Result<(), Error> {
    let trust = if insecure {
        Trust::Insecure
    } else {
        Trust::Verify {
            ca_cert: check.ca_cert.clone(),
        }
    };
    let accepted =
        login::validate(address, username, secret, &trust).map_err(|source| Error::Login {
            address: address.to_string(),
            source,
        })?;
    let how = match accepted {
        Accepted::Anonymous => "the registry asks for no credentials".to_string(),
        Accepted::Basic => "basic auth".to_string(),
        Accepted::Bearer { realm } => format!("bearer token from {realm}"),
    };
    eprintln!("login to {address} succeeded ({how})");
    Ok(())
}

fn update(
    inventory_path: &Path,
    registry: &str,
    changes: Changes,
    secrets_dir: &Path,
    check: &CheckArgs,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), Error> {
    let address = parse_address(registry)?;
    if changes.username.is_none()
        && changes.password.is_none()
        && changes.email.is_none()
        && changes.insecure.is_none()
    {
        return Err(Error::Usage(
            "nothing to update: give --username, --password-stdin/--password-env/--password-file, --email, --insecure or --verify-tls".into(),
        ));
    }
    let inventory = load(inventory_path)?;
    let current = find(&inventory, &address).ok_or_else(|| missing(registry, inventory_path))?;
    refuse_hand_written(&inventory, current, "update")?;
    if !check.skip_validation {
        let (username, stored) = match &current.login {
            Login::Basic { username, password } => (username, Some(&password.reference)),
            Login::Helper { .. } | Login::Token { .. } => {
                return Err(Error::Usage(format!(
                    "{address} logs in with a credential helper or an identity token, which regforge cannot check; add --skip-validation"
                )));
            }
        };
        let username = changes.username.as_ref().unwrap_or(username);
        let secret = match (&changes.password, stored) {
            (Some(choice), _) => secret_of(choice, inventory_path, env)?,
            (None, Some(reference)) => resolve(reference, "stored password", inventory_path, env)?,
            (None, None) => unreachable!("a basic login has a password"),
        };
        let insecure = changes.insecure.unwrap_or(current.insecure);
        check_login(&address, username, &secret, insecure, check)?;
    }
    let _lock = Lock::acquire(inventory_path)?;
    let (mut file, managed_path, declared) = read_managed(inventory_path)?;
    let index = file
        .position(&address.canonical())
        .ok_or_else(|| missing(registry, inventory_path))?;
    let entry = &mut file.registries[index];
    let old_secret = owned_secret(entry, inventory_path);
    let written = apply(entry, &changes, inventory_path, secrets_dir)?;
    entry.updated = now_rfc3339();
    let result = write_managed(inventory_path, &managed_path, &file, declared.is_none());
    if result.is_err() {
        discard(written.as_deref());
    }
    result?;
    if changes.password.is_some() {
        discard(old_secret.as_deref());
    }
    eprintln!("updated {address} in {}", managed_path.display());
    Ok(())
}

/// The password file regforge wrote for this entry, if it did.
fn owned_secret(entry: &ManagedRegistry, inventory: &Path) -> Option<PathBuf> {
    match (&entry.password, entry.managed_secret) {
        (Some(SecretRef::File(rel)), true) => Some(inventory_folder(inventory).join(rel)),
        _ => None,
    }
}

fn refuse_hand_written(inventory: &Inventory, r: &Registry, verb: &str) -> Result<(), Error> {
    if managed_canonicals(inventory).contains(&r.address.canonical()) {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "registry {} is written by hand in {}; {verb} it by editing that file",
        r.address,
        inventory.path.display()
    )))
}

fn delete(inventory_path: &Path, registry: &str, force: bool) -> Result<(), Error> {
    let address = parse_address(registry)?;
    let inventory = load(inventory_path)?;
    let current = find(&inventory, &address).ok_or_else(|| missing(registry, inventory_path))?;
    refuse_hand_written(&inventory, current, "delete")?;
    let text =
        fs::read_to_string(inventory_path).map_err(|e| crate::inventory::InventoryError::Read {
            path: inventory_path.to_path_buf(),
            reason: io_reason(&e),
        })?;
    let naming = managed::targets_naming(inventory_path, &text, &address.canonical())?;
    if !naming.is_empty() {
        let list = naming.join(", ");
        if !force {
            return Err(Error::Usage(format!(
                "target(s) {list} still name {address} in their `registries`; remove it there first, or give --force"
            )));
        }
        eprintln!(
            "warning: target(s) {list} still name {address}; the inventory will not load until you remove it from their `registries`"
        );
    }
    let _lock = Lock::acquire(inventory_path)?;
    let (mut file, managed_path, declared) = read_managed(inventory_path)?;
    let index = file
        .position(&address.canonical())
        .ok_or_else(|| missing(registry, inventory_path))?;
    let entry = file.registries.remove(index);
    write_managed(inventory_path, &managed_path, &file, declared.is_none())?;
    if let Some(secret) = owned_secret(&entry, inventory_path) {
        discard(Some(&secret));
        eprintln!("removed {}", secret.display());
    }
    eprintln!("deleted {address} from {}", managed_path.display());
    Ok(())
}

/// One registry as `list` and `get` show it: never a password.
#[derive(Serialize)]
struct Row {
    registry: String,
    #[serde(rename = "type")]
    kind: &'static str,
    user: Option<String>,
    helper: Option<String>,
    verify_tls: bool,
    email: Option<String>,
    created: Option<String>,
    updated: Option<String>,
    /// The file the registry is defined in.
    source: PathBuf,
    #[serde(skip)]
    canonical: String,
}

impl Row {
    /// `User` column: the user name, or `helper:NAME` (a user name never holds `:`).
    fn user_text(&self) -> String {
        match (&self.user, &self.helper) {
            (Some(user), _) => user.clone(),
            (None, Some(helper)) => format!("helper:{helper}"),
            (None, None) => String::new(),
        }
    }
}

fn rows(inventory_path: &Path) -> Result<Vec<Row>, Error> {
    let inventory = load(inventory_path)?;
    let managed = match &inventory.managed_registries {
        Some(path) => Some((ManagedFile::read_or_empty(path)?, path.clone())),
        None => None,
    };
    let mut rows: Vec<Row> = inventory
        .registries
        .iter()
        .map(|r| {
            let canonical = r.address.canonical();
            let entry = managed.as_ref().and_then(|(file, path)| {
                file.position(&canonical)
                    .map(|i| (&file.registries[i], path))
            });
            let (user, helper) = match &r.login {
                Login::Basic { username, .. } | Login::Token { username, .. } => {
                    (Some(username.clone()), None)
                }
                Login::Helper { helper, .. } => (None, Some(helper.clone())),
            };
            Row {
                registry: r.address.to_string(),
                kind: registry_type(&r.address),
                user,
                helper,
                verify_tls: !r.insecure,
                email: r.email.clone(),
                created: entry.map(|(e, _)| e.created.clone()),
                updated: entry.map(|(e, _)| e.updated.clone()),
                source: entry.map_or_else(|| inventory.path.clone(), |(_, p)| p.clone()),
                canonical,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.registry.cmp(&b.registry));
    Ok(rows)
}

fn json_text<T: Serialize + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("rows serialise");
    text.push('\n');
    text
}

/// anchore-cli's plain columns: left-aligned, two spaces apart, no trailing blanks.
fn table(rows: &[Row]) -> String {
    let header = ["Registry", "Type", "User", "Verify TLS"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.registry.clone(),
                r.kind.to_string(),
                r.user_text(),
                r.verify_tls.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
        }
        format!("{}\n", text.trim_end())
    };
    let mut out = line(header);
    for row in &cells {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}

fn details(row: &Row) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    format!(
        "Registry: {}\nType: {}\nUser: {}\nVerify TLS: {}\nCreated: {}\nUpdated: {}\n",
        row.registry,
        row.kind,
        row.user_text(),
        row.verify_tls,
        dash(&row.created),
        dash(&row.updated)
    )
}

/// Now as RFC 3339 UTC with seconds (`2025-01-02T03:04:05Z`).
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let rem = unix_seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
