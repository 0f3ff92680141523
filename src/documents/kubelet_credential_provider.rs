//! `kubelet-credential-provider`: kubelet's `CredentialProviderConfig`, one exec provider per cloud for the registries that log in with a credential helper (FORMATS.md §18).

use serde::{Deserialize, Serialize};

use super::{CredentialKind, DocFile, Given, Kind, Options, OptionsError, read_block};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::model::{FileMode, RegistryAddress};

pub struct KubeletCredentialProvider;

impl Kind for KubeletCredentialProvider {
    fn name(&self) -> &'static str {
        "kubelet-credential-provider"
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    /// Names the provider plugins, never a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[]
    }

    /// Named by kubelet's `--image-credential-provider-config`.
    fn default_path(&self) -> Option<&'static str> {
        Some("/etc/kubernetes/credential-provider.yaml")
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("credential_provider")
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
        let raw: RawOptions = read_block("credential_provider", block)?.unwrap_or_default();
        if let Some(duration) = &raw.cache_duration
            && !is_go_duration(duration)
        {
            return Err(OptionsError::at(
                "credential_provider.cache_duration",
                format!("`{duration}` is not a duration; write e.g. 12h, 30m or 1h30m"),
            ));
        }
        Ok(Options::new(raw))
    }

    /// Providers fetch logins for the registries a cloud's helper logs in to; a
    /// password or token has no place here.
    fn refuses(&self, address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
        match credential {
            CredentialKind::Helper { .. } => provider_of(address).is_none().then(|| {
                format!(
                    "registry {address} uses a credential helper, but kubelet has no credential provider for it; providers exist for ECR, Google (gcr.io, *.pkg.dev) and Azure (*.azurecr.io) registries"
                )
            }),
            _ => Some(format!(
                "registry {address} logs in with a password or token, which a credential provider does not carry; put it in kubelet-config, or select the helper registries with `registries:`"
            )),
        }
    }

    fn advise(&self, _: &Options) -> Vec<String> {
        vec![
            "kubelet reads this at start (restart it) with --image-credential-provider-config, and needs every provider's binary in --image-credential-provider-bin-dir, or it does not start"
                .to_string(),
        ]
    }

    fn build(
        &self,
        options: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let raw: &RawOptions = options.get();
        let mut providers: Vec<Provider> = Vec::new();
        for r in registries {
            let known = provider_of(&r.address).expect("refused without a provider");
            // `host[:port][/namespace]`: kubelet matches the host exactly (no glob), the
            // port, and the namespace as a path prefix.
            let image = match r.address.namespace() {
                Some(ns) => format!("{}/{ns}", r.address.host_port()),
                None => r.address.host_port(),
            };
            match providers.iter_mut().find(|p| p.name == known.name) {
                Some(p) => p.match_images.push(image),
                None => providers.push(Provider {
                    name: known.name,
                    match_images: vec![image],
                    default_cache_duration: raw
                        .cache_duration
                        .clone()
                        .unwrap_or_else(|| known.cache_duration.to_string()),
                    api_version: "credentialprovider.kubelet.k8s.io/v1",
                    args: known.args.iter().map(ToString::to_string).collect(),
                }),
            }
        }
        let config = Config {
            api_version: "kubelet.config.k8s.io/v1",
            kind: "CredentialProviderConfig",
            providers,
        };
        let yaml = serde_yaml::to_string(&config).expect("a CredentialProviderConfig serialises");
        Ok(vec![DocFile {
            name: None,
            bytes: format!("{HEADER}{yaml}").into_bytes(),
            mode: FileMode::PUBLIC,
        }])
    }
}

const HEADER: &str = "# kubelet image credential providers, written by regforge: kubelet --image-credential-provider-config=THIS --image-credential-provider-bin-dir=DIR\n";

/// Options of `kubelet-credential-provider` (the `credential_provider:` block).
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CredentialProviderOptions")]
struct RawOptions {
    /// Every provider's defaultCacheDuration, a Go duration such as `12h` or `1h30m`
    /// (default 12h for ECR, 1m for the others).
    cache_duration: Option<String>,
}

/// A cloud's provider plugin: its binary's name, its arguments, and how long kubelet
/// keeps a login when the plugin does not say.
struct Known {
    name: &'static str,
    args: &'static [&'static str],
    cache_duration: &'static str,
}

/// cloud-provider-aws's `ecr-credential-provider`: ECR tokens last 12 hours.
const ECR: Known = Known {
    name: "ecr-credential-provider",
    args: &[],
    cache_duration: "12h",
};

/// cloud-provider-gcp's `auth-provider-gcp get-credentials`: access tokens last an hour,
/// so logins are kept briefly unless the plugin's answer says otherwise.
const GCP: Known = Known {
    name: "auth-provider-gcp",
    args: &["get-credentials"],
    cache_duration: "1m",
};

/// cloud-provider-azure's `acr-credential-provider`, given the node's Azure config.
const ACR: Known = Known {
    name: "acr-credential-provider",
    args: &["/etc/kubernetes/azure.json"],
    cache_duration: "1m",
};

fn provider_of(address: &RegistryAddress) -> Option<&'static Known> {
    let host = address.host_port();
    if address.is_ecr() {
        Some(&ECR)
    } else if host == "gcr.io" || host.ends_with(".gcr.io") || host.ends_with(".pkg.dev") {
        Some(&GCP)
    } else if host.ends_with(".azurecr.io") {
        Some(&ACR)
    } else {
        None
    }
}

/// Go's `time.ParseDuration` grammar for what users write: numbers with units, `0`.
fn is_go_duration(text: &str) -> bool {
    if text == "0" {
        return true;
    }
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 || rest[..digits].parse::<f64>().is_err() {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    !text.is_empty()
}

/// kubelet's `CredentialProviderConfig` (`k8s.io/kubelet/config/v1`), fields in its order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    api_version: &'static str,
    kind: &'static str,
    providers: Vec<Provider>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Provider {
    name: &'static str,
    match_images: Vec<String>,
    default_cache_duration: String,
    api_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::helper;

    // Checked by hand against kubelet's config/v1 types and the providers' published
    // configs (FORMATS.md §18); read back strictly in tests/it/kubelet.rs.
    #[test]
    fn one_provider_per_cloud_matching_the_inventorys_registries() {
        let files = KubeletCredentialProvider
            .build(
                &Options::new(RawOptions::default()),
                &[
                    helper("012345678910.dkr.ecr.us-east-1.amazonaws.com", "ecr-login"),
                    helper("europe-docker.pkg.dev/my-project", "gcloud"),
                    helper("210987654321.dkr.ecr.eu-west-1.amazonaws.com", "ecr-login"),
                ],
                None,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(files[0].bytes.clone()).unwrap(),
            format!(
                "{HEADER}apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n\
                 - name: ecr-credential-provider\n  matchImages:\n  - 012345678910.dkr.ecr.us-east-1.amazonaws.com\n  - 210987654321.dkr.ecr.eu-west-1.amazonaws.com\n  defaultCacheDuration: 12h\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n\
                 - name: auth-provider-gcp\n  matchImages:\n  - europe-docker.pkg.dev/my-project\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  args:\n  - get-credentials\n"
            )
        );
    }

    #[test]
    fn durations_as_go_parses_them() {
        for good in ["12h", "1h30m", "0", "0s", "1.5h", "300ms"] {
            assert!(is_go_duration(good), "{good}");
        }
        for bad in ["", "12", "h", "12 h", "1d", "-1h"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn what_has_no_provider_is_refused() {
        let k = KubeletCredentialProvider;
        let helper_kind = CredentialKind::Helper { aws_keys: false };
        assert!(
            k.refuses(&"quay.io".parse().unwrap(), helper_kind)
                .unwrap()
                .contains("no credential provider")
        );
        assert!(
            k.refuses(&"myacr.azurecr.io".parse().unwrap(), helper_kind)
                .is_none()
        );
        assert!(
            k.refuses(&"quay.io".parse().unwrap(), CredentialKind::Password)
                .unwrap()
                .contains("kubelet-config")
        );
    }
}
