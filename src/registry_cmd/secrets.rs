//! Where a registry's password comes from on the command line, and the secret files regforge writes for it.

use super::*;

pub(super) fn refuse_password_argument(given: bool) -> Result<(), Error> {
    if given {
        return Err(Error::Input(
            "a password is not accepted on the command line: it would stay in your shell history and show in `ps` to every user of this machine; use --password-stdin, --password-env VAR or --password-file PATH".into(),
        ));
    }
    Ok(())
}

/// The password as given: a reference to store, or (stdin) a value still to be stored,
/// in plaintext or age-encrypted.
pub(super) enum PasswordChoice {
    Reference(SecretRef),
    Stdin(Secret, Option<AgeTarget>),
}

/// Whom a stored password is encrypted to, and the identity (relative to the inventory)
/// that decrypts it.
pub(super) struct AgeTarget {
    pub recipient: String,
    pub identity: PathBuf,
}

pub(super) fn password_choice(
    args: &PasswordArgs,
    inventory: &Path,
    stdin: &mut dyn FnMut() -> Result<Vec<u8>, Error>,
) -> Result<Option<PasswordChoice>, Error> {
    if args.password_stdin {
        let bytes = stdin()?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Input("the password on stdin is not UTF-8".into()))?;
        let text = credentials::strip_one_line_break(text);
        if text.is_empty() {
            return Err(Error::Input(
                "--password-stdin read an empty password".into(),
            ));
        }
        let age = match (&args.encrypt_to, &args.age_identity) {
            (Some(recipient), Some(identity)) => Some(AgeTarget {
                recipient: recipient.clone(),
                identity: relative_to_inventory(inventory, identity),
            }),
            _ => None,
        };
        return Ok(Some(PasswordChoice::Stdin(Secret::new(text), age)));
    }
    if let Some(var) = &args.password_env {
        if var.is_empty() || var.contains('=') {
            return Err(Error::Input(format!(
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

/// A path the user typed (relative to the current folder) as the inventory reads it
/// (relative to the inventory's folder), or absolute when it lies outside that folder.
pub(super) fn relative_to_inventory(inventory: &Path, file: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = cwd.join(file);
    let folder = cwd.join(inventory_folder(inventory));
    match absolute.strip_prefix(&folder) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => absolute,
    }
}

pub(super) fn discard(secret_file: Option<&Path>) {
    if let Some(path) = secret_file {
        let _ = fs::remove_file(path);
    }
}

/// Writes the password to a new file (0600) in the secrets folder (0700, with a
/// `.gitignore` of `*`), returning its path relative to the inventory's folder.
pub(super) fn store_secret(
    inventory: &Path,
    secrets_dir: &Path,
    address: &str,
    bytes: &[u8],
    extension: &str,
    messages: &mut Vec<Message>,
) -> Result<PathBuf, Error> {
    let folder = inventory_folder(inventory).join(secrets_dir);
    if !folder.is_dir() {
        fsio::create_dir_all(&folder, 0o700)?;
    }
    let ignore = folder.join(".gitignore");
    if !ignore.exists() {
        fsio::write_file(&ignore, b"*\n", 0o644)?;
        messages.push(Message::Note(format!(
            "wrote {} (`*`) so that git ignores the secrets; keep {} out of version control",
            ignore.display(),
            folder.display()
        )));
    }
    let stem = secret_file_stem(address);
    for n in 0u32.. {
        let name = match n {
            0 => format!("{stem}.{extension}"),
            n => format!("{stem}-{n}.{extension}"),
        };
        let path = folder.join(&name);
        if fsio::create_new(&path, bytes, 0o600)? {
            messages.push(Message::Done(format!(
                "stored the password in {} (mode 0600)",
                path.display()
            )));
            return Ok(secrets_dir.join(name));
        }
    }
    unreachable!("the file name counter is unbounded")
}

/// A file name for a registry's password: its address with `:` and `/` made safe.
pub(super) fn secret_file_stem(address: &str) -> String {
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
pub(super) fn secret_of(
    choice: &PasswordChoice,
    inventory: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Secret, Error> {
    match choice {
        PasswordChoice::Stdin(secret, _) => Ok(secret.clone()),
        PasswordChoice::Reference(reference) => {
            let flag = match reference {
                SecretRef::Env(_) => "--password-env",
                _ => "--password-file",
            };
            resolve(reference, flag, inventory, env)
        }
    }
}

pub(super) fn resolve(
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

/// The password file regforge wrote for this entry, if it did.
pub(super) fn owned_secret(entry: &ManagedRegistry, inventory: &Path) -> Option<PathBuf> {
    match (&entry.password, entry.managed_secret) {
        (Some(SecretRef::File(rel)), true) => Some(inventory_folder(inventory).join(rel)),
        (Some(SecretRef::Age { file, .. }), true) => Some(inventory_folder(inventory).join(file)),
        _ => None,
    }
}

/// The password encrypted with Debian's `age` to `recipient`; the password goes in on a
/// pipe, never as an argument.
pub(super) fn age_encrypt(secret: &Secret, recipient: &str) -> Result<Vec<u8>, Error> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("age")
        .args(["--encrypt", "--recipient", recipient])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Input(format!(
                "--encrypt-to runs `age`, which cannot be started: {} (install age)",
                crate::fsio::io_reason(&e)
            ))
        })?;
    let mut stdin = child.stdin.take().expect("piped");
    let written = stdin.write_all(secret.expose().as_bytes());
    drop(stdin);
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Input(format!("`age` failed: {}", crate::fsio::io_reason(&e))))?;
    if written.is_err() || !out.status.success() {
        return Err(Error::Input(format!(
            "`age` could not encrypt to `{recipient}`: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}
