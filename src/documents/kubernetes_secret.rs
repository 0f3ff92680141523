//! `kubernetes-secret`: a pull Secret byte-identical to what `kubectl create secret
//! docker-registry --dry-run=client -o yaml` (v1.32) prints, and optionally a ServiceAccount using it.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;

use super::{SecretOptions, basic_auth, go_json, keyed};
use crate::credentials::{Credential, RegistryCredential};

/// One entry as kubectl marshals it: field order username, password, email (omitted
/// when empty), auth. kubelet reads these fields and no identity tokens.
#[derive(Serialize)]
struct Entry<'a> {
    username: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    email: &'a str,
    auth: String,
}

#[derive(Serialize)]
struct DockerConfigJson<'a> {
    auths: BTreeMap<String, Entry<'a>>,
}

pub fn build(
    options: &SecretOptions,
    registries: &[RegistryCredential],
) -> Result<Vec<u8>, String> {
    let entries = keyed(
        registries,
        |r| r.address.docker_key(),
        |r| match &r.credential {
            Credential::Basic { username, password } => Ok(Entry {
                username,
                password: password.expose(),
                email: r.email.as_deref().unwrap_or_default(),
                auth: basic_auth(username, password.expose()),
            }),
            _ => Err(format!(
                "registry {} has no username and password; kubelet reads neither credential helpers nor identity tokens from a pull secret",
                r.address
            )),
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
    let mut out = format!(
        "apiVersion: v1\ndata:\n  {data_key}: {data}\nkind: Secret\n{}type: {secret_type}\n",
        metadata(&options.name, options.namespace.as_deref())
    );
    if let Some(account) = &options.service_account {
        // Keys sorted, as kubectl prints every object.
        out.push_str(&format!(
            "---\napiVersion: v1\nimagePullSecrets:\n- name: {}\nkind: ServiceAccount\n{}",
            go_yaml_scalar(&options.name),
            metadata(account, options.namespace.as_deref())
        ));
    }
    Ok(out.into_bytes())
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
            namespace: None,
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
}
