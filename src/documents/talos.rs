//! `talos`: a Talos machine-config patch with registry mirrors, auth and TLS, in the form the node's Talos version reads (FORMATS.md §16).

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{
    CredentialKind, DocFile, Given, Kind, NodeAuth, Options, OptionsError, Part, keyed, no_helper,
    read_block,
};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct Talos;

impl Kind for Talos {
    fn name(&self) -> &'static str {
        "talos"
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    /// serde_yaml's scalars; a client key as PEM, or base64 of PEM before 1.12.
    fn encodings(&self) -> &'static [Encoding] {
        &[
            Encoding::LibyamlDoubleQuoted,
            Encoding::YamlSingleQuoted,
            Encoding::Lines,
            Encoding::Base64,
        ]
    }

    fn placeable(&self) -> bool {
        false
    }

    fn takes_version(&self) -> bool {
        true
    }

    fn carries(&self) -> &'static [Part] {
        &[
            Part::Credential,
            Part::Mirrors,
            Part::Ca,
            Part::ClientCertificate,
            Part::SkipVerify,
        ]
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("talos")
    }

    fn options_schema(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> Option<schemars::Schema> {
        Some(generator.subschema_for::<RawOptions>())
    }

    fn options(
        &self,
        block: Option<serde_yaml::Value>,
        _: &Given,
    ) -> Result<Options, OptionsError> {
        let raw: RawOptions = read_block("talos", block)?.unwrap_or_default();
        let Some(version) = raw.version else {
            return Err(OptionsError::at(
                "",
                "missing field `version`: the Talos version of the nodes, e.g. version: \"1.12.0\" (before 1.12 the patch uses machine.registries)",
            ));
        };
        let minor = talos_minor(&version).ok_or_else(|| {
            OptionsError::at(
                "version",
                format!("`{version}` is not a Talos version; write 1.MINOR.PATCH, e.g. \"1.12.0\""),
            )
        })?;
        Ok(Options::new(Form::of(minor)))
    }

    /// The token, and the client key (base64 of PEM before 1.12).
    fn secret_keys(&self) -> &'static [&'static str] {
        &["identityToken", "key"]
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        no_helper(address, credential, "Talos runs")
    }

    fn build(
        &self,
        options: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let text = match options.get::<Form>() {
            Form::Legacy => legacy(registries)?,
            Form::Documents => documents(registries)?,
        };
        Ok(DocFile::one(format!("{HEADER}{text}").into_bytes()))
    }
}

const HEADER: &str = "# Talos registry settings, written by regforge: a machine-config patch (talosctl patch machineconfig --patch @FILE).\n";

/// Options of `talos` (the `talos:` block), which a target's `version:` fills.
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TalosOptions")]
struct RawOptions {
    /// The nodes' Talos version, `1.MINOR[.PATCH]`; a target's `version:` fills it.
    version: Option<String>,
}

/// The minor version of a `1.MINOR[.PATCH]` Talos version.
fn talos_minor(version: &str) -> Option<u32> {
    let mut parts = version.split('.');
    let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next());
    let number = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let ok = major == "1" && number(minor) && patch.is_none_or(number) && parts.next().is_none();
    ok.then(|| minor.parse().ok()).flatten()
}

/// Which form the node's Talos reads: `machine.registries` before 1.12 (deprecated,
/// still honoured after), the Registry*Config documents from 1.12 on.
enum Form {
    Legacy,
    Documents,
}

impl Form {
    fn of(minor: u32) -> Form {
        if minor < 12 {
            Form::Legacy
        } else {
            Form::Documents
        }
    }
}

/// Mirrors by registry name; auth and TLS by the endpoint host, with Hub as
/// registry-1.docker.io (what every Talos version finds).
fn mirrors(registries: &[RegistryCredential]) -> Result<BTreeMap<String, Vec<String>>, String> {
    Ok(keyed(
        registries,
        |r| r.address.image_host(),
        |r| {
            Ok(r.mirrors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>())
        },
    )?
    .into_iter()
    .filter(|(_, endpoints)| !endpoints.is_empty())
    .collect())
}

fn by_host(
    registries: &[RegistryCredential],
) -> Result<BTreeMap<String, &RegistryCredential>, String> {
    keyed(registries, |r| r.address.pull_host(), Ok)
}

/// A username and password, or a token alone: Talos refuses both together.
#[derive(Serialize)]
struct Auth<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    #[serde(rename = "identityToken", skip_serializing_if = "Option::is_none")]
    identity_token: Option<&'a str>,
}

fn auth(registry: &RegistryCredential) -> Option<Auth<'_>> {
    NodeAuth::of(registry).map(|login| Auth {
        username: login.username,
        password: login.password,
        identity_token: login.token,
    })
}

/// `machine.registries` (v1alpha1 `RegistriesConfig`): PEM files as base64, the client
/// certificate under `crt`.
fn legacy(registries: &[RegistryCredential]) -> Result<String, String> {
    #[derive(Serialize)]
    struct Patch<'a> {
        machine: Machine<'a>,
    }
    #[derive(Serialize)]
    struct Machine<'a> {
        registries: Registries<'a>,
    }
    #[derive(Serialize)]
    struct Registries<'a> {
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        mirrors: BTreeMap<String, Mirror>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        config: BTreeMap<String, Config<'a>>,
    }
    #[derive(Serialize)]
    struct Mirror {
        endpoints: Vec<String>,
    }
    #[derive(Serialize)]
    struct Config<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        auth: Option<Auth<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tls: Option<LegacyTls>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct LegacyTls {
        #[serde(skip_serializing_if = "Option::is_none")]
        ca: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_identity: Option<Identity>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        insecure_skip_verify: bool,
    }
    #[derive(Serialize)]
    struct Identity {
        crt: String,
        key: String,
    }
    let b64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    let mirrors = mirrors(registries)?
        .into_iter()
        .map(|(name, endpoints)| (name, Mirror { endpoints }))
        .collect();
    let config = by_host(registries)?
        .into_iter()
        .filter(|(_, r)| r.credential.is_some() || r.tls.is_set())
        .map(|(host, r)| {
            let tls = r.tls.is_set().then(|| LegacyTls {
                ca: r.tls.ca.as_deref().map(b64),
                client_identity: r.tls.client.as_ref().map(|c| Identity {
                    crt: b64(&c.certificate),
                    key: b64(c.key.expose()),
                }),
                insecure_skip_verify: r.tls.skip_verify,
            });
            let config = Config { auth: auth(r), tls };
            (host, config)
        })
        .collect();
    let patch = Patch {
        machine: Machine {
            registries: Registries { mirrors, config },
        },
    };
    Ok(serde_yaml::to_string(&patch).expect("a Talos patch serialises"))
}

/// The Talos 1.12 documents `RegistryMirrorConfig`, `RegistryAuthConfig` and
/// `RegistryTLSConfig` (`pkg/machinery/config/types/cri`): plain PEM, the client
/// certificate under `cert`.
fn documents(registries: &[RegistryCredential]) -> Result<String, String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Document<'a, T> {
        api_version: &'static str,
        kind: &'static str,
        name: &'a str,
        #[serde(flatten)]
        spec: T,
    }
    #[derive(Serialize)]
    struct MirrorSpec {
        endpoints: Vec<Endpoint>,
    }
    #[derive(Serialize)]
    struct Endpoint {
        url: String,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct TlsSpec<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        ca: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_identity: Option<Identity<'a>>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        insecure_skip_verify: bool,
    }
    #[derive(Serialize)]
    struct Identity<'a> {
        cert: &'a str,
        key: &'a str,
    }
    fn doc<T: Serialize>(kind: &'static str, name: &str, spec: T) -> String {
        let document = Document {
            api_version: "v1alpha1",
            kind,
            name,
            spec,
        };
        serde_yaml::to_string(&document).expect("a Talos document serialises")
    }
    let mut docs = Vec::new();
    for (name, endpoints) in mirrors(registries)? {
        let endpoints = endpoints.into_iter().map(|url| Endpoint { url }).collect();
        docs.push(doc("RegistryMirrorConfig", &name, MirrorSpec { endpoints }));
    }
    let hosts = by_host(registries)?;
    for (host, r) in &hosts {
        if let Some(auth) = auth(r) {
            docs.push(doc("RegistryAuthConfig", host, auth));
        }
    }
    for (host, r) in &hosts {
        if r.tls.is_set() {
            let spec = TlsSpec {
                ca: r.tls.ca.as_deref(),
                client_identity: r.tls.client.as_ref().map(|c| Identity {
                    cert: &c.certificate,
                    key: c.key.expose(),
                }),
                insecure_skip_verify: r.tls.skip_verify,
            };
            docs.push(doc("RegistryTLSConfig", host, spec));
        }
    }
    Ok(docs.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{ClientIdentity, Secret};
    use crate::documents::test_support::{basic, token, with};

    fn registries() -> Vec<RegistryCredential> {
        let mut hub = with("docker.io", None);
        hub.mirrors = vec!["https://mirror.example.com:5000".parse().unwrap()];
        let mut mirror = basic("mirror.example.com:5000", "alice", "s3cr3t");
        mirror.tls.ca = Some("CA PEM\n".into());
        mirror.tls.client = Some(ClientIdentity {
            certificate: "CERT PEM\n".into(),
            key: Secret::new("KEY PEM\n".into()),
        });
        vec![hub, mirror, token("example.azurecr.io", "00000000", "tok")]
    }

    fn render(minor: u32) -> String {
        let files = Talos
            .build(&Options::new(Form::of(minor)), &registries(), None)
            .unwrap();
        String::from_utf8(files[0].bytes.clone()).unwrap()
    }

    // Checked by hand against FORMATS.md §16 (Talos v1alpha1_types.go RegistriesConfig)
    // and parsed back in tests/it/talos.rs.
    #[test]
    fn before_1_12_machine_registries_with_base64_pem_and_crt() {
        assert_eq!(
            render(11),
            format!(
                "{HEADER}machine:\n  registries:\n    mirrors:\n      docker.io:\n        endpoints:\n        - https://mirror.example.com:5000\n\
                 \x20   config:\n      example.azurecr.io:\n        auth:\n          identityToken: tok\n\
                 \x20     mirror.example.com:5000:\n        auth:\n          username: alice\n          password: s3cr3t\n\
                 \x20       tls:\n          ca: Q0EgUEVNCg==\n          clientIdentity:\n            crt: Q0VSVCBQRU0K\n            key: S0VZIFBFTQo=\n"
            )
        );
    }

    // Checked by hand against the Talos 1.12 RegistryMirrorConfig, RegistryAuthConfig
    // and RegistryTLSConfig reference pages.
    #[test]
    fn from_1_12_three_kinds_of_documents_with_plain_pem_and_cert() {
        assert_eq!(
            render(12),
            format!(
                "{HEADER}apiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\nendpoints:\n- url: https://mirror.example.com:5000\n\
                 ---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: example.azurecr.io\nidentityToken: tok\n\
                 ---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: mirror.example.com:5000\nusername: alice\npassword: s3cr3t\n\
                 ---\napiVersion: v1alpha1\nkind: RegistryTLSConfig\nname: mirror.example.com:5000\nca: |\n  CA PEM\nclientIdentity:\n  cert: |\n    CERT PEM\n  key: |\n    KEY PEM\n"
            )
        );
    }

    #[test]
    fn versions_are_1_minor_patch() {
        assert_eq!(talos_minor("1.12.0"), Some(12));
        assert_eq!(talos_minor("1.9"), Some(9));
        for bad in ["2.0.0", "1", "1.x.0", "v1.12.0", "1.12.0.1", "1..0"] {
            assert_eq!(talos_minor(bad), None, "{bad}");
        }
    }
}
