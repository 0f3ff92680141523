//! `drone-registry`: the global registry credentials file of Drone and drone-registry-plugin (FORMATS.md §6).

use super::{CredentialKind, DocFile, Kind, Options, keyed, refuse};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::RegistryAddress;
use crate::yaml;

pub struct DroneRegistry;

impl Kind for DroneRegistry {
    fn name(&self) -> &'static str {
        "drone-registry"
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    /// regforge's YAML scalars: plain, double-quoted or a literal block.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::YamlDoubleQuoted, Encoding::Lines]
    }

    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        refusal(address, credential)
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        build(registries).map(DocFile::one)
    }
}

/// A YAML list, one entry per registry, in inventory order. Values are scalars that parse
/// back exactly; a multi-line password (a GCR `_json_key`) becomes a block scalar.
/// Drone takes a username and password, or for ECR the AWS keys (or its host's AWS
/// credential chain); it runs no helpers and takes no identity tokens.
fn refusal(address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
    match credential {
        CredentialKind::Password | CredentialKind::Helper { aws_keys: true } => None,
        CredentialKind::Helper { aws_keys: false } if address.is_ecr() => None,
        CredentialKind::Helper { .. } | CredentialKind::IdentityToken => Some(format!(
            "registry {address} has no username and password; Drone runs no credential helpers and takes no identity tokens (ECR registries may give AWS keys)"
        )),
    }
}

/// The `address` of a Drone registry entry: a bare `host[:port]`, Hub as `docker.io`
/// (Drone's matcher maps `index.docker.io` to it; a URL never matches).
fn address_of(address: &RegistryAddress) -> String {
    if address.is_docker_hub() {
        "docker.io".to_string()
    } else {
        address.host_port()
    }
}

fn build(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    refuse(registries, refusal)?;
    // Drone matches the bare host, so two namespaces of one host would be ambiguous.
    keyed(registries, |r| address_of(&r.address), |_| Ok(()))?;
    let mut out = String::new();
    for r in registries {
        let address = address_of(&r.address);
        out.push_str(&format!("- address: {}\n", yaml::scalar(&address, 4)));
        let fields: Vec<(&str, &str)> = match &r.credential {
            Some(Credential::Basic { username, password }) => {
                vec![("username", username), ("password", password.expose())]
            }
            Some(Credential::Helper {
                aws: Some(keys), ..
            }) => vec![
                ("aws_access_key_id", keys.access_key_id.expose()),
                ("aws_secret_access_key", keys.secret_access_key.expose()),
            ],
            // The plugin then uses the AWS default credential chain of its host.
            Some(Credential::Helper { aws: None, .. }) if r.address.is_ecr() => Vec::new(),
            Some(Credential::Helper { .. } | Credential::Token { .. }) | None => {
                unreachable!("refused, or left out by documents::build")
            }
        };
        for (key, value) in fields {
            out.push_str(&format!("  {key}: {}\n", yaml::scalar(value, 4)));
        }
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{AwsKeys, Secret};
    use crate::documents::test_support::{basic, helper};

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        address: String,
        username: Option<String>,
        password: Option<String>,
        aws_access_key_id: Option<String>,
        aws_secret_access_key: Option<String>,
    }

    #[test]
    fn the_seed_file_with_a_json_key_and_ecr() {
        let json_key = "{\n  \"private_key_id\": \"...\",\n  \"type\": \"service_account\"\n}";
        let mut ecr = helper("012345678910.dkr.ecr.us-east-1.amazonaws.com", "ecr-login");
        ecr.credential = Some(Credential::Helper {
            helper: "ecr-login".into(),
            aws: Some(AwsKeys {
                access_key_id: Secret::new("a50d28f4".into()),
                secret_access_key: Secret::new("bc5785d3".into()),
            }),
            token: None,
        });
        let doc = build(&[
            basic("index.docker.io", "octocat", "correct-horse-batter-staple"),
            basic("gcr.io", "_json_key", json_key),
            ecr,
        ])
        .unwrap();
        let text = String::from_utf8(doc).unwrap();
        assert_eq!(
            text,
            "- address: docker.io\n  username: octocat\n  password: correct-horse-batter-staple\n- address: gcr.io\n  username: _json_key\n  password: |-\n    {\n      \"private_key_id\": \"...\",\n      \"type\": \"service_account\"\n    }\n- address: \"012345678910.dkr.ecr.us-east-1.amazonaws.com\"\n  aws_access_key_id: a50d28f4\n  aws_secret_access_key: bc5785d3\n"
        );
        let parsed: Vec<Entry> = serde_yaml::from_str(&text).unwrap();
        assert_eq!(parsed[1].password.as_deref(), Some(json_key));
        assert_eq!(
            parsed[2].address,
            "012345678910.dkr.ecr.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn helpers_without_keys_outside_ecr_are_refused() {
        let err = build(&[helper("gcr.io", "gcr")]).unwrap_err();
        assert!(err.contains("Drone runs no credential helpers"), "{err}");
        let doc = build(&[helper("1.dkr.ecr.eu-west-1.amazonaws.com", "ecr-login")]).unwrap();
        // Quoted: a plain scalar starting with a digit could be misread by a YAML 1.1 reader.
        assert_eq!(doc, b"- address: \"1.dkr.ecr.eu-west-1.amazonaws.com\"\n");
    }

    #[test]
    fn addresses_are_bare_hosts_and_hub_is_docker_io() {
        let address = |a: &str| address_of(&a.parse().unwrap());
        assert_eq!(address("registry-1.docker.io"), "docker.io");
        assert_eq!(address("quay.io/myorg"), "quay.io");
        assert_eq!(address("h.example:5000"), "h.example:5000");
    }
}
