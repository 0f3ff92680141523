//! Secret references (`{env}`, `{file}`, literal) and resolving them into credentials.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Error as _, MapAccess, Visitor};

use crate::fsio::io_reason;
use crate::model::{Origin, RegistryAddress};

/// Where a secret value comes from, as written in the inventory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    Literal(Secret),
    Env(String),
    File(PathBuf),
}

/// A secret value. Its `Debug` never shows the value, so it cannot leak into a message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

const SECRET_FORMS: &str = "a string, {env: NAME} or {file: PATH}";

impl<'de> serde::Deserialize<'de> for SecretRef {
    // Hand-written so that a wrong value is described by its type only: serde's
    // default messages quote the offending value, which here may be a password.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;

        fn wrong<E: de::Error>(what: &str) -> E {
            E::custom(format!("expected {SECRET_FORMS}, found {what}"))
        }

        impl<'de> Visitor<'de> for RefVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(SECRET_FORMS)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretRef, E> {
                Ok(SecretRef::Literal(Secret(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretRef, E> {
                Err(wrong("a boolean (quote it to use it as a password)"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretRef, E> {
                Err(wrong("a number (quote it to use it as a password)"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretRef, E> {
                Err(wrong("a number (quote it to use it as a password)"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretRef, E> {
                Err(wrong("a number (quote it to use it as a password)"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<SecretRef, E> {
                Err(wrong("nothing"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<SecretRef, A::Error> {
                Err(wrong("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| wrong::<A::Error>("an empty mapping"))?;
                let value: String = map
                    .next_value()
                    .map_err(|_| A::Error::custom(format!("`{key}` takes a string")))?;
                let reference = match key.as_str() {
                    "env" => SecretRef::Env(value),
                    "file" => SecretRef::File(PathBuf::from(value)),
                    other => {
                        return Err(A::Error::custom(format!(
                            "unknown key `{other}`; expected {SECRET_FORMS}"
                        )));
                    }
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(A::Error::custom(format!(
                        "use exactly one of {SECRET_FORMS}"
                    )));
                }
                Ok(reference)
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

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
        SecretRef::Literal(secret) => secret.0.clone(),
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
    Ok(Secret(value))
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
            Ok(SecretRef::Literal(Secret("hunter2".into())))
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
        assert_eq!(format!("{:?}", Secret("pw".into())), "Secret(<redacted>)");
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
