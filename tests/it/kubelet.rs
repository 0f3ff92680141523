//! kubelet: no kubelet installs from a package registry here, so its `config.json` is read
//! back with kubelet's own structure and matched with its keyring's rules, as
//! kubernetes/kubernetes `pkg/credentialprovider/config.go` and `keyring.go` define them
//! (FORMATS.md §3, §18).

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;

use crate::support::{regforge, text};

/// kubelet's `DockerConfigJSON` as regforge writes it: `auths` with `auth` alone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigJson {
    auths: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    auth: String,
}

/// The keyring's index key of a config key: `https://` when there is no scheme, a
/// leading `/v1` or `/v2` dropped, the scheme discarded, the path kept unless it is `/`.
fn index_key(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let path = format!("/{path}");
    let path = if path.starts_with("/v1/") || path.starts_with("/v2/") {
        path[3..].to_string()
    } else {
        path
    };
    if path == "/" || path.is_empty() {
        host.to_string()
    } else {
        format!("{host}{path}")
    }
}

/// An image reference as kubelet normalises it: Hub's short names under
/// `docker.io/library/`, the tag dropped.
fn normalise(image: &str) -> String {
    let name = image.split('@').next().unwrap();
    let name = match name.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => name,
    };
    let first = name.split('/').next().unwrap();
    let has_registry = name.contains('/') && (first.contains('.') || first.contains(':'));
    match (has_registry, name.contains('/')) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    }
}

/// `URLsMatch`: same number of host labels, each a glob; the same port; the key's path a
/// string prefix of the image's.
fn urls_match(key: &str, image: &str) -> bool {
    let split = |s: &str| {
        let (authority, path) = s.split_once('/').map_or((s, ""), |(a, p)| (a, p));
        let (host, port) = authority
            .split_once(':')
            .map_or((authority, ""), |(h, p)| (h, p));
        (host.to_string(), port.to_string(), path.to_string())
    };
    let (key_host, key_port, key_path) = split(key);
    let (image_host, image_port, image_path) = split(image);
    let (kl, il): (Vec<&str>, Vec<&str>) = (
        key_host.split('.').collect(),
        image_host.split('.').collect(),
    );
    kl.len() == il.len()
        && kl.iter().zip(&il).all(|(k, i)| *k == "*" || k == i)
        && key_port == image_port
        && image_path.starts_with(&key_path)
}

/// The config keys whose credentials kubelet tries for `image`, in its order; Hub images
/// with no match fall back to `index.docker.io`.
fn lookup<'c>(config: &'c ConfigJson, image: &str) -> Vec<&'c str> {
    let image = normalise(image);
    let mut keys: Vec<(String, &str)> = config
        .auths
        .keys()
        .map(|k| (index_key(k), k.as_str()))
        .collect();
    keys.sort();
    keys.reverse();
    let found: Vec<&str> = keys
        .iter()
        .filter(|(index, _)| urls_match(index, &image))
        .map(|(_, k)| *k)
        .collect();
    if found.is_empty() && image.starts_with("docker.io/") {
        return keys
            .iter()
            .filter(|(index, _)| index == "index.docker.io")
            .map(|(_, k)| *k)
            .collect();
    }
    found
}

fn render(inventory: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regforge.yaml");
    std::fs::write(&path, inventory).unwrap();
    regforge(
        &["-i", path.to_str().unwrap(), "render", "node", "--stdout"],
        &[("PW", "pw-of-all")],
        None,
    )
}

#[test]
fn kubelet_finds_each_registrys_login_by_its_keyring_rules() {
    let out = render(
        "registries:
  - {address: docker.io, username: octocat, password: {env: PW}}
  - {address: quay.io/myorg, username: myorg+deploy, password: {env: PW}}
  - {address: reg.example.com:5000, username: john, password: {env: PW}}
targets:
  - {name: node, format: kubelet-config}
",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config: ConfigJson = serde_json::from_slice(&out.stdout).unwrap();
    for entry in config.auths.values() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&entry.auth)
            .unwrap();
        assert!(String::from_utf8(decoded).unwrap().contains(':'));
    }
    for (image, keys) in [
        // Hub's short names are docker.io/library/…: the `docker.io` key matches.
        ("nginx", vec!["docker.io"]),
        ("octocat/app:1.0", vec!["docker.io"]),
        ("quay.io/myorg/app:2", vec!["quay.io/myorg"]),
        // Another organisation on the same host: no login.
        ("quay.io/other/app", vec![]),
        ("reg.example.com:5000/team/x", vec!["reg.example.com:5000"]),
        // The port is part of the match.
        ("reg.example.com/team/x", vec![]),
    ] {
        assert_eq!(lookup(&config, image), keys, "{image}");
    }
    // The key kubelet never finds Hub under.
    assert!(!config.auths.contains_key("registry-1.docker.io"));
}

#[test]
fn the_matcher_follows_the_keyring() {
    // The rules themselves, on keys regforge does not write: the docker CLI's Hub key
    // works through the index.docker.io fallback, registry-1.docker.io never.
    let config: ConfigJson = serde_json::from_str(
        r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"},"registry-1.docker.io":{"auth":"YTpi"},"*.example.com":{"auth":"YTpi"}}}"#,
    )
    .unwrap();
    assert_eq!(lookup(&config, "nginx"), ["https://index.docker.io/v1/"]);
    assert_eq!(lookup(&config, "a.example.com/x"), ["*.example.com"]);
    assert_eq!(lookup(&config, "a.b.example.com/x"), Vec::<&str>::new());
}

#[test]
fn what_kubelet_ignores_is_refused_naming_the_credential_provider() {
    for (registry, why) in [
        (
            "{address: 012345678910.dkr.ecr.us-east-1.amazonaws.com, helper: ecr-login}",
            "uses a credential helper, which kubelet ignores in config.json; kubelet runs credential providers instead (kubelet-credential-provider)",
        ),
        (
            "{address: example.azurecr.io, username: 00000000, identity_token: {env: PW}}",
            "logs in with an identity token, which kubelet ignores in config.json",
        ),
    ] {
        let out = render(&format!(
            "registries:\n  - {registry}\ntargets:\n  - {{name: node, format: kubelet-config}}\n"
        ));
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("targets[0].format: kubelet-config: registry "),
            "{stderr}"
        );
        assert!(stderr.contains(why), "{stderr}");
    }
}

/// kubelet's `CredentialProviderConfig` (`k8s.io/kubelet/config/v1` types.go), decoded
/// strictly as kubelet decodes it: an unknown field fails.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CredentialProviderConfig {
    api_version: String,
    kind: String,
    providers: Vec<CredentialProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CredentialProvider {
    name: String,
    match_images: Vec<String>,
    default_cache_duration: String,
    api_version: String,
    #[serde(default)]
    args: Vec<String>,
}

#[test]
fn credential_providers_are_what_kubelet_validates_and_match_the_helper_registries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regforge.yaml");
    std::fs::write(
        &path,
        "registries:
  - {address: 012345678910.dkr.ecr.us-east-1.amazonaws.com, helper: ecr-login}
  - {address: europe-docker.pkg.dev/my-project, helper: gcloud}
  - {address: myregistry.azurecr.io, helper: acr-env}
targets:
  - name: providers
    format: kubelet-credential-provider
    credential_provider: {cache_duration: 6h}
",
    )
    .unwrap();
    let out = regforge(
        &[
            "-i",
            path.to_str().unwrap(),
            "render",
            "providers",
            "--stdout",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config: CredentialProviderConfig = serde_yaml::from_slice(&out.stdout).unwrap();
    assert_eq!(config.api_version, "kubelet.config.k8s.io/v1");
    assert_eq!(config.kind, "CredentialProviderConfig");
    let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ecr-credential-provider",
            "auth-provider-gcp",
            "acr-credential-provider"
        ]
    );
    for provider in &config.providers {
        // kubelet's validation (pkg/credentialprovider/plugin/config.go).
        assert!(
            !provider.name.contains(['/', ' ']) && provider.name != "." && provider.name != ".."
        );
        assert!(!provider.match_images.is_empty());
        assert_eq!(provider.default_cache_duration, "6h");
        assert_eq!(provider.api_version, "credentialprovider.kubelet.k8s.io/v1");
    }
    assert_eq!(config.providers[1].args, ["get-credentials"]);
    // Each provider is called for its registry's images, by kubelet's matching rules.
    for (image, provider) in [
        ("012345678910.dkr.ecr.us-east-1.amazonaws.com/app:1", 0),
        ("europe-docker.pkg.dev/my-project/repo/app", 1),
        ("myregistry.azurecr.io/team/app", 2),
    ] {
        let patterns = &config.providers[provider].match_images;
        assert!(patterns.iter().any(|p| urls_match(p, image)), "{image}");
        let others = config
            .providers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != provider);
        for (_, other) in others {
            assert!(
                !other.match_images.iter().any(|p| urls_match(p, image)),
                "{image}"
            );
        }
    }
    // Another project on the same host is not this provider's.
    assert!(
        !config.providers[1]
            .match_images
            .iter()
            .any(|p| urls_match(p, "europe-docker.pkg.dev/other/app"))
    );
}
