//! `registry add|update|delete`: checked credentials written to the managed file under its lock.

use super::*;

/// What `add` sets and `update` changes; `None` leaves a value as it is.
pub(super) struct Changes {
    pub(super) username: Option<String>,
    pub(super) password: Option<PasswordChoice>,
    pub(super) email: Option<String>,
    pub(super) insecure: Option<bool>,
}

pub(super) fn add(
    inventory_path: &Path,
    registry: &str,
    changes: Changes,
    secrets_dir: &Path,
    check: &CheckArgs,
    env: &dyn Fn(&str) -> Option<OsString>,
    messages: &mut Vec<Message>,
) -> Result<(), Error> {
    let address = parse_address(registry)?;
    let Some(password) = &changes.password else {
        return Err(Error::Input(
            "give the password with --password-stdin, --password-env VAR or --password-file PATH"
                .into(),
        ));
    };
    let inventory = load(inventory_path, messages)?;
    if let Some(r) = find(&inventory, &address) {
        return Err(exists(&inventory, r));
    }
    let kind = registry_type(&address);
    if kind == "awsecr" {
        messages.push(Message::Note(format!(
            "{address} is Amazon ECR (type awsecr): its passwords expire after 12 hours; consider writing it by hand with `helper: ecr-login` so docker fetches fresh ones"
        )));
    }
    let username = changes.username.clone().unwrap_or_default();
    let insecure = changes.insecure.unwrap_or(false);
    if !check.skip_validation {
        let secret = secret_of(password, inventory_path, env)?;
        check_login(&address, &username, &secret, insecure, check, messages)?;
    }
    let now = now_rfc3339();
    let _lock = Lock::acquire(inventory_path)?;
    let (mut file, managed_path, declared) = read_managed(inventory_path)?;
    if let Some(at) = file.position(&address.canonical()) {
        if declared.is_some() {
            return Err(Error::Conflict(format!(
                "registry {address} was just added by another command; change it with `regforge registry update {address}`"
            )));
        }
        // In the managed file but not included: an add killed between its two writes.
        // This add takes its place, and completes the include.
        let stale = file.registries.remove(at);
        discard(owned_secret(&stale, inventory_path).as_deref());
        messages.push(Message::Note(format!(
            "completing an interrupted `registry add` of {address}"
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
    let mark = messages.len();
    let written = apply(&mut entry, &changes, inventory_path, secrets_dir, messages)?;
    file.registries.push(entry);
    let append = declared.is_none();
    commit(
        inventory_path,
        &managed_path,
        &file,
        append,
        written,
        mark,
        messages,
    )?;
    messages.push(Message::Done(format!(
        "added {address} (type {kind}) to {}",
        managed_path.display()
    )));
    Ok(())
}

pub(super) fn exists(inventory: &Inventory, r: &Registry) -> Error {
    let managed = managed_canonicals(inventory).contains(&r.address.canonical());
    let place = if managed {
        "was added with `regforge registry add`".to_string()
    } else {
        format!("is written by hand in {}", inventory.path.display())
    };
    Error::Conflict(format!(
        "registry {} already exists: it {place}; change it with `regforge registry update {}`",
        r.address, r.address
    ))
}

/// The canonical addresses the managed file holds.
pub(super) fn managed_canonicals(inventory: &Inventory) -> Vec<String> {
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
pub(super) fn read_managed(
    inventory: &Path,
) -> Result<(ManagedFile, PathBuf, Option<String>), Error> {
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
pub(super) fn write_managed(
    inventory: &Path,
    managed_path: &Path,
    file: &ManagedFile,
    append_include: bool,
    messages: &mut Vec<Message>,
) -> Result<(), Error> {
    let appended = if append_include {
        let text = fs::read_to_string(inventory).map_err(|e| IoError {
            action: "read",
            path: inventory.to_path_buf(),
            reason: io_reason(&e),
        })?;
        let appended = managed::append_include(&text, managed::DEFAULT_FILE_NAME);
        // A line appended to a flow-style inventory (`{registries: …}`, JSON) would
        // break it: check before writing anything.
        let reads = managed::declared_in(inventory, &appended).ok().flatten();
        if reads.as_deref() != Some(managed::DEFAULT_FILE_NAME) {
            return Err(Error::Conflict(format!(
                "{} is not block-style YAML, so `managed_registries: {}` cannot be appended to it; add that key yourself, then run this again (the inventory and the managed file are unchanged)",
                inventory.display(),
                managed::DEFAULT_FILE_NAME
            )));
        }
        Some(appended)
    } else {
        None
    };
    fsio::write_file(managed_path, file.to_text().as_bytes(), 0o600)?;
    if let Some(appended) = appended {
        let mode = fs::metadata(inventory)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        fsio::write_file(inventory, appended.as_bytes(), mode)?;
        messages.push(Message::Done(format!(
            "appended `managed_registries: {}` to {}",
            managed::DEFAULT_FILE_NAME,
            inventory.display()
        )));
    }
    Ok(())
}

/// Writes the managed file (and the include, when `append`). When that fails, the
/// secret file `apply` stored is removed again and what it reported after `mark` taken
/// back, so that no message claims a file that is gone.
fn commit(
    inventory: &Path,
    managed_path: &Path,
    file: &ManagedFile,
    append: bool,
    written: Option<PathBuf>,
    mark: usize,
    messages: &mut Vec<Message>,
) -> Result<(), Error> {
    let result = write_managed(inventory, managed_path, file, append, messages);
    if result.is_err() {
        discard(written.as_deref());
        let mut at = 0;
        messages.retain(|m| {
            at += 1;
            at <= mark || !matches!(m, Message::Done(_))
        });
    }
    result
}

/// Applies the changes to an entry; a password from stdin is written to a new secret
/// file, whose path is returned so that a failed write can remove it again.
pub(super) fn apply(
    entry: &mut ManagedRegistry,
    changes: &Changes,
    inventory: &Path,
    secrets_dir: &Path,
    messages: &mut Vec<Message>,
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
        Some(PasswordChoice::Stdin(secret, None)) => {
            let bytes = secret.expose().as_bytes();
            let rel = store_secret(
                inventory,
                secrets_dir,
                &entry.address,
                bytes,
                "password",
                messages,
            )?;
            written = Some(inventory_folder(inventory).join(&rel));
            entry.password = Some(SecretRef::File(rel));
            entry.managed_secret = true;
        }
        Some(PasswordChoice::Stdin(secret, Some(age))) => {
            let sealed = age_encrypt(secret, &age.recipient)?;
            let rel = store_secret(
                inventory,
                secrets_dir,
                &entry.address,
                &sealed,
                "password.age",
                messages,
            )?;
            written = Some(inventory_folder(inventory).join(&rel));
            entry.password = Some(SecretRef::Age {
                file: rel,
                identity: age.identity.clone(),
            });
            entry.managed_secret = true;
        }
    }
    Ok(written)
}

pub(super) fn check_login(
    address: &RegistryAddress,
    username: &str,
    secret: &Secret,
    insecure: bool,
    check: &CheckArgs,
    messages: &mut Vec<Message>,
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
    messages.push(Message::Done(format!(
        "login to {address} succeeded ({how})"
    )));
    Ok(())
}

pub(super) fn update(
    inventory_path: &Path,
    registry: &str,
    changes: Changes,
    secrets_dir: &Path,
    check: &CheckArgs,
    env: &dyn Fn(&str) -> Option<OsString>,
    messages: &mut Vec<Message>,
) -> Result<(), Error> {
    let address = parse_address(registry)?;
    if changes.username.is_none()
        && changes.password.is_none()
        && changes.email.is_none()
        && changes.insecure.is_none()
    {
        return Err(Error::Input(
            "nothing to update: give --username, --password-stdin/--password-env/--password-file, --email, --insecure or --verify-tls".into(),
        ));
    }
    let inventory = load(inventory_path, messages)?;
    let current = find(&inventory, &address).ok_or_else(|| missing(registry, inventory_path))?;
    refuse_hand_written(&inventory, current, "update")?;
    if !check.skip_validation {
        let (username, stored) = match &current.login {
            Some(Login::Basic { username, password }) => (username, Some(&password.reference)),
            Some(Login::Helper { .. } | Login::Token { .. }) | None => {
                return Err(Error::Input(format!(
                    "{address} logs in with a credential helper or an identity token, or not at all, which regforge cannot check; add --skip-validation"
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
        check_login(&address, username, &secret, insecure, check, messages)?;
    }
    let _lock = Lock::acquire(inventory_path)?;
    let (mut file, managed_path, declared) = read_managed(inventory_path)?;
    let index = file
        .position(&address.canonical())
        .ok_or_else(|| missing(registry, inventory_path))?;
    let entry = &mut file.registries[index];
    let old_secret = owned_secret(entry, inventory_path);
    let mark = messages.len();
    let written = apply(entry, &changes, inventory_path, secrets_dir, messages)?;
    entry.updated = now_rfc3339();
    let append = declared.is_none();
    commit(
        inventory_path,
        &managed_path,
        &file,
        append,
        written,
        mark,
        messages,
    )?;
    if changes.password.is_some() {
        discard(old_secret.as_deref());
    }
    messages.push(Message::Done(format!(
        "updated {address} in {}",
        managed_path.display()
    )));
    Ok(())
}

pub(super) fn delete(
    inventory_path: &Path,
    registry: &str,
    force: bool,
    messages: &mut Vec<Message>,
) -> Result<(), Error> {
    let address = parse_address(registry)?;
    let inventory = load(inventory_path, messages)?;
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
            return Err(Error::Conflict(format!(
                "target(s) {list} still name {address} in their `registries`; remove it there first, or give --force"
            )));
        }
        messages.push(Message::Warning(format!(
            "target(s) {list} still name {address}; the inventory will not load until you remove it from their `registries`"
        )));
    }
    let _lock = Lock::acquire(inventory_path)?;
    let (mut file, managed_path, declared) = read_managed(inventory_path)?;
    let index = file
        .position(&address.canonical())
        .ok_or_else(|| missing(registry, inventory_path))?;
    let entry = file.registries.remove(index);
    write_managed(
        inventory_path,
        &managed_path,
        &file,
        declared.is_none(),
        messages,
    )?;
    if let Some(secret) = owned_secret(&entry, inventory_path) {
        discard(Some(&secret));
        messages.push(Message::Done(format!("removed {}", secret.display())));
    }
    messages.push(Message::Done(format!(
        "deleted {address} from {}",
        managed_path.display()
    )));
    Ok(())
}
