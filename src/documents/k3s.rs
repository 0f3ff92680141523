//! `k3s-registries` and `rke2-registries`: the `registries.yaml` k3s and RKE2 read at start, with the CA and client files it names (FORMATS.md §15).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CredentialKind, DocFile, Kind, NodeAuth, Options, Part, keyed, no_helper, tls_files};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

/// k3s and RKE2 read the same file (rancher/wharfie), each from its own folder.
pub struct Registries {
    name: &'static str,
    default_path: &'static str,
}

pub static K3S: Registries = Registries {
    name: "k3s-registries",
    default_path: "/etc/rancher/k3s/registries.yaml",
};

pub static RKE2: Registries = Registries {
    name: "rke2-registries",
    default_path: "/etc/rancher/rke2/registries.yaml",
};

/// The folder beside registries.yaml that holds the CA and client files it names, one
/// folder per registry.
const CERTS: &str = "registry-certs";

impl Kind for Registries {
    fn name(&self) -> &'static str {
        self.name
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    /// serde_yaml's scalars, and the client key file (PEM).
    fn encodings(&self) -> &'static [Encoding] {
        &[
            Encoding::LibyamlDoubleQuoted,
            Encoding::YamlSingleQuoted,
            Encoding::Lines,
        ]
    }

    fn default_path(&self) -> Option<&'static str> {
        Some(self.default_path)
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

    fn secret_keys(&self) -> &'static [&'static str] {
        &["identity_token"]
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        no_helper(address, credential, "k3s and RKE2 run")
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let path = at.unwrap_or(self.default_path);
        let folder = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        build(&format!("{folder}/{CERTS}"), registries)
    }
}

/// registries.yaml as wharfie's `Registry` type reads it (`pkg/registries/types.go`).
#[derive(Serialize)]
struct RegistriesYaml<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    mirrors: BTreeMap<String, Mirror>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    configs: BTreeMap<String, Config<'a>>,
}

#[derive(Serialize)]
struct Mirror {
    endpoint: Vec<String>,
}

#[derive(Serialize)]
struct Config<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<Auth<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<TlsFiles>,
}

#[derive(Serialize)]
struct Auth<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    /// With an underscore: k3s renders it into containerd's `identitytoken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_token: Option<&'a str>,
}

#[derive(Serialize)]
struct TlsFiles {
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_file: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    insecure_skip_verify: bool,
}

/// registries.yaml and the TLS files it names under `certs` (a node path).
fn build(certs: &str, registries: &[RegistryCredential]) -> Result<Vec<DocFile>, String> {
    let mirrors = keyed(
        registries,
        // `mirrors` is keyed by the registry's name in image references (docker.io).
        |r| r.address.image_host(),
        |r| {
            Ok(Mirror {
                endpoint: r.mirrors.iter().map(ToString::to_string).collect(),
            })
        },
    )?
    .into_iter()
    .filter(|(_, m)| !m.endpoint.is_empty())
    .collect();
    // `configs` is keyed by the endpoint's host: a mirror's login and TLS under the
    // mirror's own host, Hub's under registry-1.docker.io (read by every k3s version;
    // `docker.io` only since July 2025).
    let configs = keyed(
        registries,
        |r| r.address.pull_host(),
        |r| Ok(config(certs, r)),
    )?
    .into_iter()
    .filter(|(_, c)| c.auth.is_some() || c.tls.is_some())
    .collect();
    let yaml = serde_yaml::to_string(&RegistriesYaml { mirrors, configs })
        .expect("registries.yaml serialises");
    let mut files = vec![DocFile::credentials(
        None,
        format!("{HEADER}{yaml}").into_bytes(),
    )];
    // Beside registries.yaml, one folder per registry.
    for r in registries {
        files.extend(tls_files(
            &format!("{CERTS}/{}", r.address.pull_host()),
            &r.tls,
        ));
    }
    Ok(files)
}

const HEADER: &str = "# k3s/RKE2 private registries, written by regforge. Read at start: restart k3s or rke2-server/rke2-agent to apply.\n";

fn config<'a>(certs: &str, r: &'a RegistryCredential) -> Config<'a> {
    let auth = NodeAuth::of(r).map(|login| Auth {
        username: login.username,
        password: login.password,
        identity_token: login.token,
    });
    let dir = format!("{certs}/{}", r.address.pull_host());
    let tls = &r.tls;
    Config {
        auth,
        tls: tls.is_set().then(|| TlsFiles {
            ca_file: tls.ca.as_ref().map(|_| format!("{dir}/ca.crt")),
            cert_file: tls.client.as_ref().map(|_| format!("{dir}/client.cert")),
            key_file: tls.client.as_ref().map(|_| format!("{dir}/client.key")),
            insecure_skip_verify: tls.skip_verify,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{ClientIdentity, Secret};
    use crate::documents::test_support::{basic, token, with};
    use crate::model::FileMode;

    fn render(registries: &[RegistryCredential]) -> Vec<DocFile> {
        K3S.build(&Options::none(), registries, None).unwrap()
    }

    // Checked by hand against FORMATS.md §15's minimal example and wharfie's
    // pkg/registries/types.go (yaml keys), and parsed back in tests/it/k3s.rs.
    #[test]
    fn mirrors_by_name_configs_by_endpoint_host() {
        let mut hub = basic("docker.io", "hubuser", "dckr_pat_x");
        hub.mirrors = vec!["https://mirror.example.com:5000".parse().unwrap()];
        let mut mirror = basic("mirror.example.com:5000", "alice", "s3cr3t");
        mirror.tls.ca = Some("CA\n".into());
        mirror.tls.client = Some(ClientIdentity {
            certificate: "CERT\n".into(),
            key: Secret::new("KEY\n".into()),
        });
        let files = render(&[hub, mirror]);
        let d = "/etc/rancher/k3s/registry-certs/mirror.example.com:5000";
        assert_eq!(
            std::str::from_utf8(&files[0].bytes).unwrap(),
            format!(
                "{HEADER}mirrors:\n  docker.io:\n    endpoint:\n    - https://mirror.example.com:5000\n\
                 configs:\n  mirror.example.com:5000:\n    auth:\n      username: alice\n      password: s3cr3t\n\
                 \x20   tls:\n      ca_file: {d}/ca.crt\n      cert_file: {d}/client.cert\n      key_file: {d}/client.key\n\
                 \x20 registry-1.docker.io:\n    auth:\n      username: hubuser\n      password: dckr_pat_x\n"
            )
        );
        assert_eq!(files[0].name, None);
        assert_eq!(files[0].mode, FileMode::CREDENTIALS);
        let names: Vec<_> = files[1..].iter().map(|f| f.name.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "registry-certs/mirror.example.com:5000/ca.crt",
                "registry-certs/mirror.example.com:5000/client.cert",
                "registry-certs/mirror.example.com:5000/client.key"
            ]
        );
    }

    #[test]
    fn identity_token_has_its_underscore_and_no_username() {
        let files = render(&[token("example.azurecr.io", "00000000-0000", "tok")]);
        let text = std::str::from_utf8(&files[0].bytes).unwrap();
        assert!(
            text.ends_with(
                "configs:\n  example.azurecr.io:\n    auth:\n      identity_token: tok\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn rke2_reads_from_its_own_folder_and_skip_verify_has_no_files() {
        let mut r = with("reg.example.com:5000", None);
        r.tls.skip_verify = true;
        let files = RKE2
            .build(
                &Options::none(),
                &[r],
                Some("/etc/rancher/rke2/registries.yaml"),
            )
            .unwrap();
        assert_eq!(files.len(), 1);
        assert!(std::str::from_utf8(&files[0].bytes).unwrap().ends_with(
            "configs:\n  reg.example.com:5000:\n    tls:\n      insecure_skip_verify: true\n"
        ));
    }
}
