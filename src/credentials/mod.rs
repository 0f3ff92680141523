//! Secret references (`{env}`, `{file}`, `{exec}`, literal) and TLS files, resolved into what documents are made from.

mod exec;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::fsio::io_reason;
use crate::model::{MirrorUrl, Origin, RegistryAddress};
pub use crate::model::{Secret, SecretRef};

/// A secret reference together with where the inventory wrote it.
#[derive(Clone, Debug)]
pub struct SecretSource {
    pub reference: SecretRef,
    pub origin: Origin,
}

/// A file the inventory names (a CA, a client certificate or key), with where it named it.
#[derive(Clone, Debug)]
pub struct FileSource {
    pub path: PathBuf,
    pub origin: Origin,
}

/// A resolved credential of one registry.
#[derive(Clone, Debug)]
pub enum Credential {
    Basic {
        username: String,
        password: Secret,
    },
    /// An OAuth refresh token (`identitytoken`), as `docker login` stores for ACR and others.
    Token {
        username: String,
        identity_token: Secret,
    },
    /// A docker-credential-* program supplies the password on the node.
    Helper {
        helper: String,
        aws: Option<AwsKeys>,
        /// A short-lived token and its username, for consumers that run no helper.
        token: Option<(String, Secret)>,
    },
}

/// The AWS keys with which Drone's registry plugin fetches ECR passwords.
#[derive(Clone, Debug)]
pub struct AwsKeys {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
}

impl Credential {
    /// Every secret value in the credential, for redacting them from diffs.
    pub fn secrets(&self) -> Vec<&Secret> {
        match self {
            Credential::Basic { password, .. } => vec![password],
            Credential::Token { identity_token, .. } => vec![identity_token],
            Credential::Helper { aws, token, .. } => aws
                .iter()
                .flat_map(|k| [&k.access_key_id, &k.secret_access_key])
                .chain(token.iter().map(|(_, t)| t))
                .collect(),
        }
    }
}

impl Credential {
    pub fn username(&self) -> Option<&str> {
        match self {
            Credential::Basic { username, .. } | Credential::Token { username, .. } => {
                Some(username)
            }
            Credential::Helper { .. } => None,
        }
    }
}

/// A registry whose secrets are resolved: what documents are made from.
#[derive(Clone, Debug)]
pub struct RegistryCredential {
    pub address: RegistryAddress,
    /// None for a registry that only brings mirrors or TLS settings.
    pub credential: Option<Credential>,
    pub email: Option<String>,
    /// Whether TLS is not verified when regforge logs in (templates see it too).
    pub insecure: bool,
    /// Endpoints consumers try, in order, before the registry itself.
    pub mirrors: Vec<MirrorUrl>,
    pub tls: Tls,
}

impl RegistryCredential {
    /// Every secret value it holds, for redacting them from diffs.
    pub fn secrets(&self) -> Vec<&Secret> {
        let mut secrets = self
            .credential
            .as_ref()
            .map_or_else(Vec::new, Credential::secrets);
        secrets.extend(self.tls.client.as_ref().map(|c| &c.key));
        secrets
    }
}

/// How consumers reach a registry over TLS: the files' PEM text, exactly as the
/// inventory's files hold it, so a file placed on a node has the same bytes.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// CA certificates added to the system's for this registry.
    pub ca: Option<String>,
    pub client: Option<ClientIdentity>,
    /// Consumers skip verifying the registry's certificate (the inventory warned).
    pub skip_verify: bool,
}

impl Tls {
    /// Whether any TLS setting is given.
    pub fn is_set(&self) -> bool {
        self.ca.is_some() || self.client.is_some() || self.skip_verify
    }
}

/// A client certificate and its key; the key is a secret like a password.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    pub certificate: String,
    pub key: Secret,
}

/// What a PEM file the inventory names must hold.
#[derive(Clone, Copy, Debug)]
pub enum PemKind {
    Certificates,
    PrivateKey,
}

/// Reads a PEM file the inventory names (relative to its folder), checking that it holds
/// what a consumer will expect. The text is kept as it is, final line break included.
pub fn read_pem(
    source: &FileSource,
    base_dir: &Path,
    kind: PemKind,
) -> Result<String, CredentialError> {
    let fail = |message: String| CredentialError {
        origin: source.origin.clone(),
        message,
    };
    let full = base_dir.join(&source.path);
    let bytes = std::fs::read(&full)
        .map_err(|e| fail(format!("cannot read {}: {}", full.display(), io_reason(&e))))?;
    // Never quote the content: it may be a private key.
    let parsed = match kind {
        PemKind::Certificates => CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, pem::Error>>()
            .map(|certs| !certs.is_empty()),
        PemKind::PrivateKey => PrivateKeyDer::from_pem_slice(&bytes).map(|_| true),
    };
    let wanted = match kind {
        PemKind::Certificates => "PEM certificates (-----BEGIN CERTIFICATE-----)",
        PemKind::PrivateKey => {
            "a PEM private key (-----BEGIN PRIVATE KEY-----, or an RSA or EC one)"
        }
    };
    match parsed {
        Ok(true) => {}
        Ok(false) | Err(_) => {
            return Err(fail(format!("{} does not hold {wanted}", full.display())));
        }
    }
    String::from_utf8(bytes).map_err(|_| fail(format!("{} is not valid UTF-8", full.display())))
}

/// Looks up environment variables; the real process environment in the CLI, a map in tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct CredentialError {
    pub origin: Origin,
    pub message: String,
}

/// Resolves one secret. `{file}` paths are relative to the inventory's folder; the file's
/// content loses one trailing line break, as editors add one.
pub fn resolve(
    source: &SecretSource,
    base_dir: &Path,
    env: EnvLookup,
) -> Result<Secret, CredentialError> {
    let fail = |message: String| CredentialError {
        origin: source.origin.clone(),
        message,
    };
    let value = match &source.reference {
        SecretRef::Literal(secret) => secret.expose().to_string(),
        SecretRef::Env(name) => {
            let raw = env(name).ok_or_else(|| {
                fail(format!(
                    "environment variable {name} is not set; set it, or write {{file: PATH}}"
                ))
            })?;
            raw.into_string()
                .map_err(|_| fail(format!("environment variable {name} is not valid UTF-8")))?
        }
        SecretRef::Exec(exec) => strip_one_line_break(exec::run(exec, base_dir).map_err(fail)?),
        // Debian's `age`, through the same bounded, once-per-argv runner; the secret
        // reaches regforge on a pipe, never in an argument.
        SecretRef::Age { file, identity } => {
            let path = |p: &Path| base_dir.join(p).to_string_lossy().into_owned();
            let decrypt = crate::model::Exec {
                argv: vec![
                    "age".into(),
                    "--decrypt".into(),
                    "--identity".into(),
                    path(identity),
                    path(file),
                ],
                timeout_seconds: crate::model::Exec::DEFAULT_TIMEOUT_SECONDS,
            };
            strip_one_line_break(exec::run(&decrypt, base_dir).map_err(fail)?)
        }
        SecretRef::File(path) => {
            let full = base_dir.join(path);
            let bytes = std::fs::read(&full).map_err(|e| {
                fail(format!(
                    "cannot read secret file {}: {}",
                    full.display(),
                    io_reason(&e)
                ))
            })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| fail(format!("secret file {} is not valid UTF-8", full.display())))?;
            strip_one_line_break(text)
        }
    };
    if value.is_empty() {
        return Err(fail("the secret is empty".to_string()));
    }
    Ok(Secret::new(value))
}

/// The text without one final line break (`\n` or `\r\n`), as editors and `echo` add one.
pub fn strip_one_line_break(mut text: String) -> String {
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn origin() -> Origin {
        Origin {
            file: Arc::new(PathBuf::from("inv.yaml")),
            line: 3,
            column: 15,
            field: "registries[0].password".into(),
        }
    }

    fn parse(yaml: &str) -> Result<SecretRef, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn forms() {
        assert_eq!(parse("{env: PW}"), Ok(SecretRef::Env("PW".into())));
        assert_eq!(parse("{file: s/pw}"), Ok(SecretRef::File("s/pw".into())));
        assert_eq!(
            parse("hunter2"),
            Ok(SecretRef::Literal(Secret::new("hunter2".into())))
        );
    }

    #[test]
    fn errors_never_quote_the_value() {
        for yaml in [
            "123456",
            "true",
            "[hunter2]",
            "{env: a, file: b}",
            "{vault: hunter2}",
        ] {
            let err = parse(yaml).unwrap_err();
            assert!(!err.contains("123456") && !err.contains("hunter2"), "{err}");
        }
        assert_eq!(
            format!("{:?}", Secret::new("pw".into())),
            "Secret(<redacted>)"
        );
    }

    #[test]
    fn file_secrets_lose_one_line_break() {
        let dir = tempfile::tempdir().unwrap();
        for (content, want) in [
            ("pw\n", "pw"),
            ("pw\r\n", "pw"),
            ("pw\n\n", "pw\n"),
            (" pw", " pw"),
        ] {
            std::fs::write(dir.path().join("s"), content).unwrap();
            let src = SecretSource {
                reference: SecretRef::File("s".into()),
                origin: origin(),
            };
            assert_eq!(resolve(&src, dir.path(), &|_| None).unwrap().expose(), want);
        }
    }

    #[test]
    fn unset_env_and_missing_file_are_located() {
        let src = SecretSource {
            reference: SecretRef::Env("NOPE".into()),
            origin: origin(),
        };
        let err = resolve(&src, Path::new("."), &|_| None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "inv.yaml:3:15: registries[0].password: environment variable NOPE is not set; set it, or write {file: PATH}"
        );
        let src = SecretSource {
            reference: SecretRef::File("missing".into()),
            origin: origin(),
        };
        let err = resolve(&src, Path::new("/nonexistent"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read secret file /nonexistent/missing: No such file"),
            "{err}"
        );
    }
}
