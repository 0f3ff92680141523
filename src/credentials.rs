//! Secret references (`{env}`, `{file}`, literal) and resolving them into credentials.

use std::ffi::OsString;
use std::path::Path;

use crate::fsio::io_reason;
use crate::model::{Origin, RegistryAddress};
pub use crate::model::{Secret, SecretRef};

/// A secret reference together with where the inventory wrote it.
#[derive(Clone, Debug)]
pub struct SecretSource {
    pub reference: SecretRef,
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
            Credential::Helper { aws: Some(k), .. } => {
                vec![&k.access_key_id, &k.secret_access_key]
            }
            Credential::Helper { aws: None, .. } => Vec::new(),
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
    pub credential: Credential,
    pub email: Option<String>,
    /// Whether TLS is not verified when regforge logs in (templates see it too).
    pub insecure: bool,
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
