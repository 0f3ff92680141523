//! `kubernetes-secret`: a pull Secret byte-identical to what `kubectl create secret
//! docker-registry --dry-run=client -o yaml` (v1.32) prints, and optionally a ServiceAccount using it.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{
    BasicAuth, CredentialKind, DocFile, Given, Kind, Options, OptionsError, basic_auth, go_json,
    keyed, read_block, refuse,
};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct KubernetesSecret;

impl Kind for KubernetesSecret {
    fn name(&self) -> &'static str {
        "kubernetes-secret"
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    /// The data is base64 of kubectl's JSON, whose `auth` is base64 again.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::GoJson, Encoding::Base64]
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("secret")
    }

    fn options_schema(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> Option<schemars::Schema> {
        Some(generator.subschema_for::<RawOptions>())
    }

    /// The Secret's data keys: base64 of the whole docker config.
    fn secret_keys(&self) -> &'static [&'static str] {
        &[".dockerconfigjson", ".dockercfg"]
    }

    fn options(
        &self,
        block: Option<serde_yaml::Value>,
        given: &Given,
    ) -> Result<Options, OptionsError> {
        let raw: RawOptions = read_block("secret", block)?.unwrap_or_default();
        raw.validate(given.target).map(Options::new)
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        refusal(address, credential)
    }

    fn build(
        &self,
        options: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        build(options.get(), registries).map(DocFile::one)
    }
}

/// Options of `kubernetes-secret` (the `secret:` block).
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SecretOptions")]
struct RawOptions {
    /// The Secret's name, a Kubernetes (DNS-1123) name; the target's name by default,
    /// required on a file entry.
    name: Option<String>,
    /// The Secret's namespace, a DNS label.
    namespace: Option<String>,
    /// Instead of `namespace`: one Secret (and ServiceAccount) per namespace.
    namespaces: Option<Vec<String>>,
    /// `dockerconfigjson` (default) or `dockercfg`, the legacy Secret type.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["dockerconfigjson", "dockercfg"]))]
    secret_type: Option<String>,
    /// Also write this ServiceAccount with the Secret in its imagePullSecrets.
    service_account: Option<String>,
}

/// The Secret's name and namespaces (one Secret in each; `None` for no namespace), its
/// type, and an optional ServiceAccount that pulls with it, in each namespace.
#[derive(Clone, Debug, PartialEq)]
struct SecretOptions {
    name: String,
    namespaces: Vec<Option<String>>,
    legacy_dockercfg: bool,
    service_account: Option<String>,
}

impl RawOptions {
    fn validate(self, target: Option<&str>) -> Result<SecretOptions, OptionsError> {
        let name = match (self.name, target) {
            (Some(name), _) => name,
            (None, Some(target)) => target.to_string(),
            (None, None) => {
                return Err(OptionsError::at(
                    "secret",
                    "a kubernetes-secret placed on a node needs `secret: {name: …}`",
                ));
            }
        };
        kubernetes_name("secret.name", &name, 253)?;
        let namespaces = match (self.namespace, self.namespaces) {
            (None, None) => vec![None],
            (Some(ns), None) => {
                namespace("secret.namespace", &ns)?;
                vec![Some(ns)]
            }
            (None, Some(list)) => {
                if list.is_empty() {
                    return Err(OptionsError::at(
                        "secret.namespaces",
                        "give at least one namespace, or leave namespaces out",
                    ));
                }
                for (i, ns) in list.iter().enumerate() {
                    namespace(&format!("secret.namespaces[{i}]"), ns)?;
                    if list[..i].contains(ns) {
                        return Err(OptionsError::at(
                            &format!("secret.namespaces[{i}]"),
                            format!("namespace {ns} is listed twice"),
                        ));
                    }
                }
                list.into_iter().map(Some).collect()
            }
            (Some(_), Some(_)) => {
                return Err(OptionsError::at(
                    "secret.namespaces",
                    "give namespace or namespaces, not both",
                ));
            }
        };
        if let Some(account) = &self.service_account {
            kubernetes_name("secret.service_account", account, 253)?;
        }
        let legacy_dockercfg = match self.secret_type.as_deref() {
            None | Some("dockerconfigjson" | "kubernetes.io/dockerconfigjson") => false,
            Some("dockercfg" | "kubernetes.io/dockercfg") => true,
            Some(other) => {
                return Err(OptionsError::at(
                    "secret.type",
                    format!("unknown secret type `{other}`; accepted: dockerconfigjson, dockercfg"),
                ));
            }
        };
        Ok(SecretOptions {
            name,
            namespaces,
            legacy_dockercfg,
            service_account: self.service_account,
        })
    }
}

/// A namespace: a DNS label.
fn namespace(field: &str, ns: &str) -> Result<(), OptionsError> {
    kubernetes_name(field, ns, 63)?;
    if ns.contains('.') {
        return Err(OptionsError::at(
            field,
            "a namespace is a DNS label: no `.`",
        ));
    }
    Ok(())
}

/// A DNS-1123 subdomain (or label, with `max` 63), as the API server requires.
fn kubernetes_name(field: &str, name: &str, max: usize) -> Result<(), OptionsError> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(OptionsError::at(
            field,
            format!(
                "`{name}` is not a Kubernetes name: lower-case letters, digits, `-` and `.`, at most {max} characters, starting and ending alphanumeric"
            ),
        ))
    }
}

/// One entry as kubectl marshals it: field order username, password, email (omitted
/// when empty), auth. kubelet reads these fields and no identity tokens.
#[derive(Serialize)]
struct Entry<'a> {
    username: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    email: &'a str,
    auth: BasicAuth<'a>,
}

#[derive(Serialize)]
struct DockerConfigJson<'a> {
    auths: BTreeMap<String, Entry<'a>>,
}

/// kubelet reads username and password (and `auth`) from a pull secret, nothing else.
fn refusal(address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
    (credential != CredentialKind::Password).then(|| format!(
        "registry {address} has no username and password; kubelet reads neither credential helpers nor identity tokens from a pull secret"
    ))
}

fn build(options: &SecretOptions, registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    refuse(registries, refusal)?;
    let entries = keyed(
        registries,
        |r| r.address.docker_key(),
        |r| match &r.credential {
            Some(Credential::Basic { username, password }) => Ok(Entry {
                username,
                password: password.expose(),
                email: r.email.as_deref().unwrap_or_default(),
                auth: basic_auth(username, password.expose()),
            }),
            _ => unreachable!("refused, or left out by documents::build"),
        },
    )?;
    // The legacy type holds the bare map, without the `auths` wrapper (FORMATS.md §3).
    let (data_key, secret_type, payload) = if options.legacy_dockercfg {
        (
            ".dockercfg",
            "kubernetes.io/dockercfg",
            go_json::to_vec(&entries),
        )
    } else {
        (
            ".dockerconfigjson",
            "kubernetes.io/dockerconfigjson",
            go_json::to_vec(&DockerConfigJson { auths: entries }),
        )
    };
    let data = base64::engine::general_purpose::STANDARD.encode(payload);
    // Per namespace, the Secret kubectl prints for `-n NAMESPACE`, then the
    // ServiceAccount; one YAML stream.
    let mut objects = Vec::new();
    for ns in &options.namespaces {
        objects.push(format!(
            "apiVersion: v1\ndata:\n  {data_key}: {data}\nkind: Secret\n{}type: {secret_type}\n",
            metadata(&options.name, ns.as_deref())
        ));
        if let Some(account) = &options.service_account {
            // Keys sorted, as kubectl prints every object.
            objects.push(format!(
                "apiVersion: v1\nimagePullSecrets:\n- name: {}\nkind: ServiceAccount\n{}",
                go_yaml_scalar(&options.name),
                metadata(account, ns.as_deref())
            ));
        }
    }
    Ok(objects.join("---\n").into_bytes())
}

fn metadata(name: &str, namespace: Option<&str>) -> String {
    let mut out = format!(
        "metadata:\n  creationTimestamp: null\n  name: {}\n",
        go_yaml_scalar(name)
    );
    if let Some(ns) = namespace {
        out.push_str(&format!("  namespace: {}\n", go_yaml_scalar(ns)));
    }
    out
}

/// A Kubernetes name (`[a-z0-9.-]`, validated by the inventory) as go-yaml writes it:
/// plain, unless YAML 1.1 would read it as a number, boolean, null or date.
fn go_yaml_scalar(name: &str) -> String {
    const KEYWORDS: [&str; 9] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"];
    let number = |s: &str| {
        let digits = s.trim_start_matches(['-', '+']);
        let int = digits.bytes().all(|b| b.is_ascii_digit())
            || [("0x", 16), ("0o", 8), ("0b", 2)].iter().any(|(p, radix)| {
                digits
                    .strip_prefix(p)
                    .is_some_and(|d| !d.is_empty() && u64::from_str_radix(d, *radix).is_ok())
            });
        (!digits.is_empty() && int)
            || (s.starts_with(|c: char| c.is_ascii_digit() || c == '.') && s.parse::<f64>().is_ok())
    };
    let date = {
        let parts: Vec<&str> = name.split('-').collect();
        matches!(parts[..], [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len())
            && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())))
    };
    if KEYWORDS.contains(&name) || number(name) || date {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::basic;

    fn options(name: &str) -> SecretOptions {
        SecretOptions {
            name: name.into(),
            namespaces: vec![None],
            legacy_dockercfg: false,
            service_account: None,
        }
    }

    #[test]
    fn matches_the_kubectl_output_in_formats_md() {
        // FORMATS.md §3: kubectl create secret docker-registry regcred --docker-username=alice
        // --docker-password='p:ss w' --docker-email=a@example.com --dry-run=client -o yaml
        let mut hub = basic("docker.io", "alice", "p:ss w");
        hub.email = Some("a@example.com".into());
        let got = build(&options("regcred"), &[hub]).unwrap();
        let want = "apiVersion: v1\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8iOnsidXNlcm5hbWUiOiJhbGljZSIsInBhc3N3b3JkIjoicDpzcyB3IiwiZW1haWwiOiJhQGV4YW1wbGUuY29tIiwiYXV0aCI6IllXeHBZMlU2Y0RwemN5QjMifX19\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\n";
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }

    #[test]
    fn names_are_quoted_as_go_yaml_quotes_them() {
        // Each pair observed with kubectl 1.32 (`kubectl create secret docker-registry NAME …`).
        for (name, want) in [
            ("123", "\"123\""),
            ("1e3", "\"1e3\""),
            ("y", "\"y\""),
            ("1abc", "1abc"),
            ("regcred", "regcred"),
            ("2024-01-02", "\"2024-01-02\""),
            ("0x1f", "\"0x1f\""),
            ("0o17", "\"0o17\""),
            ("0123", "\"0123\""),
            ("1.5", "\"1.5\""),
            ("2024-1-2", "\"2024-1-2\""),
            ("null", "\"null\""),
            ("inf", "inf"),
            ("nan", "nan"),
            ("1e", "1e"),
            ("1-2-3", "1-2-3"),
        ] {
            assert_eq!(go_yaml_scalar(name), want, "{name}");
        }
    }

    #[test]
    fn one_secret_and_service_account_per_namespace_in_one_stream() {
        let raw: RawOptions = serde_yaml::from_str(
            "{name: regcred, namespaces: [team-a, team-b], service_account: default}",
        )
        .unwrap();
        let got = String::from_utf8(
            build(&raw.validate(None).unwrap(), &[basic("quay.io", "u", "p")]).unwrap(),
        )
        .unwrap();
        let objects: Vec<&str> = got.split("---\n").collect();
        assert_eq!(objects.len(), 4, "{got}");
        for (object, (kind, ns)) in objects.iter().zip([
            ("Secret", "team-a"),
            ("ServiceAccount", "team-a"),
            ("Secret", "team-b"),
            ("ServiceAccount", "team-b"),
        ]) {
            assert!(object.contains(&format!("kind: {kind}\n")), "{object}");
            assert!(object.contains(&format!("  namespace: {ns}\n")), "{object}");
        }
        for (bad, field) in [
            ("{namespace: a, namespaces: [b]}", "secret.namespaces"),
            ("{namespaces: []}", "secret.namespaces"),
            ("{namespaces: [a, a]}", "secret.namespaces[1]"),
            ("{namespaces: [a, b.c]}", "secret.namespaces[1]"),
        ] {
            let raw: RawOptions = serde_yaml::from_str(bad).unwrap();
            assert_eq!(raw.validate(Some("t")).unwrap_err().field, field, "{bad}");
        }
    }
}
