//! `Secret` and `SecretRef`: a secret value that never prints itself, and where the inventory says one comes from.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::{self, Deserializer, Error as _, MapAccess, Visitor};

/// Where a secret value comes from, as written in the inventory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    Literal(Secret),
    Env(String),
    File(PathBuf),
    /// A program's standard output: `{exec: [program, arg, …], timeout: SECONDS}`.
    Exec(Exec),
    /// An age-encrypted file and the identity that decrypts it: `{age: FILE, identity: FILE}`.
    Age {
        file: PathBuf,
        identity: PathBuf,
    },
}

/// A program to run for a secret, as argv (no shell), with its time bound.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Exec {
    pub argv: Vec<String>,
    pub timeout_seconds: u64,
}

impl Exec {
    /// How long a program may run when the inventory does not say.
    pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
}

/// A secret value. Its `Debug` never shows the value, so it cannot leak into a message by accident.
///
/// Shared, not copied: a registry's credential goes to every target that uses it, and a
/// secret may be megabytes (a 5 MB token would otherwise be held once per target).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value.into())
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

const SECRET_FORMS: &str =
    "a string, {env: NAME}, {file: PATH}, {exec: [PROGRAM, ARG…]} or {age: FILE, identity: FILE}";

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
                Ok(SecretRef::Literal(Secret(v.into())))
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
                // Only `env`, `file` and `exec` are named back: any other key may be the
                // secret itself, written as `{VALUE}` (a YAML mapping with that one key).
                if !["env", "file", "exec", "age", "identity"].contains(&key.as_str()) {
                    return Err(A::Error::custom(format!(
                        "a mapping with an unknown key (not shown: it may be the secret, written as {{VALUE}}); expected {SECRET_FORMS}"
                    )));
                }
                if key == "exec" {
                    return exec(map);
                }
                if key == "age" || key == "identity" {
                    return age(key, map);
                }
                let value: String = map
                    .next_value()
                    .map_err(|_| A::Error::custom(format!("`{key}` takes a string")))?;
                let reference = match key.as_str() {
                    "env" => SecretRef::Env(value),
                    _ => SecretRef::File(PathBuf::from(value)),
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

/// The rest of an `{age: FILE, identity: FILE}` mapping, after its first key.
fn age<'de, A: MapAccess<'de>>(first: String, mut map: A) -> Result<SecretRef, A::Error> {
    let both = || {
        A::Error::custom(
            "write {age: FILE, identity: FILE}: the encrypted file and the identity that decrypts it",
        )
    };
    let first_value: String = map.next_value().map_err(|_| both())?;
    let other = if first == "age" { "identity" } else { "age" };
    let second_value: String = match map.next_key::<String>()? {
        Some(key) if key == other => map.next_value().map_err(|_| both())?,
        _ => return Err(both()),
    };
    if map.next_key::<String>()?.is_some() {
        return Err(both());
    }
    let (file, identity) = if first == "age" {
        (first_value, second_value)
    } else {
        (second_value, first_value)
    };
    Ok(SecretRef::Age {
        file: PathBuf::from(file),
        identity: PathBuf::from(identity),
    })
}

/// The rest of an `{exec: [...], timeout: N}` mapping, after its `exec` key.
fn exec<'de, A: MapAccess<'de>>(mut map: A) -> Result<SecretRef, A::Error> {
    let argv: Vec<String> = map
        .next_value()
        .map_err(|_| A::Error::custom("`exec` takes a list of strings: [PROGRAM, ARG…]"))?;
    if argv.first().is_none_or(|program| program.is_empty()) {
        return Err(A::Error::custom("`exec` needs a program: [PROGRAM, ARG…]"));
    }
    let mut timeout_seconds = Exec::DEFAULT_TIMEOUT_SECONDS;
    while let Some(key) = map.next_key::<String>()? {
        if key != "timeout" {
            return Err(A::Error::custom(format!(
                "`{key}` is not an `exec` setting; accepted: timeout (seconds)"
            )));
        }
        timeout_seconds = map
            .next_value::<u64>()
            .ok()
            .filter(|&t| t > 0)
            .ok_or_else(|| A::Error::custom("`timeout` is a number of seconds, 1 or more"))?;
    }
    Ok(SecretRef::Exec(Exec {
        argv,
        timeout_seconds,
    }))
}

impl schemars::JsonSchema for SecretRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    // By hand, as the Deserialize impl above is: the forms it accepts, one per branch.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let path = schemars::json_schema!({"type": "string", "minLength": 1});
        schemars::json_schema!({
            "description": format!("A secret: {SECRET_FORMS}. A string is the secret itself, which `regforge check` warns about."),
            "oneOf": [
                {"type": "string", "description": "the secret written in the inventory (warns)"},
                {
                    "type": "object",
                    "properties": {"env": {"type": "string", "description": "an environment variable read when rendering"}},
                    "required": ["env"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {"file": {"type": "string", "description": "a file relative to the inventory's folder; one trailing line break is dropped"}},
                    "required": ["file"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {
                        "exec": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 1,
                            "description": "a program and its arguments (no shell) whose standard output is the secret"
                        },
                        "timeout": {"type": "integer", "minimum": 1, "description": "seconds the program may run (default 30)"}
                    },
                    "required": ["exec"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {
                        "age": path.clone(),
                        "identity": path
                    },
                    "required": ["age", "identity"],
                    "additionalProperties": false,
                    "description": "an age-encrypted file and the identity file that decrypts it"
                }
            ]
        })
    }
}
