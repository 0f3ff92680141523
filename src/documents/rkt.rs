//! `rkt-auth`: one `/etc/rkt/auth.d/<host>.json` per registry, of rktKind `auth` or `dockerAuth` (FORMATS.md §4).

use serde::{Deserialize, Serialize};

use super::{
    CredentialKind, DocFile, Given, Kind, Options, OptionsError, keyed, read_block, refuse,
    to_json_indented,
};
use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::RegistryAddress;

pub struct RktAuth;

impl Kind for RktAuth {
    fn name(&self) -> &'static str {
        "rkt-auth"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Passwords in JSON strings.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Json]
    }

    fn is_folder(&self) -> bool {
        true
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("rkt")
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
        let kind = match read_block::<RawOptions>("rkt", block)? {
            None => RktKind::DockerAuth,
            Some(raw) => match raw.kind.as_str() {
                "dockerAuth" => RktKind::DockerAuth,
                "auth" => RktKind::Auth,
                other => {
                    return Err(OptionsError::at(
                        "rkt.kind",
                        format!(
                            "unknown rkt kind `{other}`; accepted: dockerAuth (docker:// images), auth (HTTPS image fetches)"
                        ),
                    ));
                }
            },
        };
        Ok(Options::new(kind))
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
        let files = build(*options.get(), registries)?;
        Ok(files
            .into_iter()
            .map(|(name, bytes)| DocFile::credentials(Some(name), bytes))
            .collect())
    }
}

/// Options of `rkt-auth` (the `rkt:` block).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RktOptions")]
struct RawOptions {
    /// `dockerAuth` (docker:// images, default) or `auth` (HTTPS fetches of ACI images).
    #[schemars(extend("enum" = ["dockerAuth", "auth"]))]
    kind: String,
}

/// Which of rkt's two auth file kinds to write (FORMATS.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RktKind {
    /// `rktKind: auth`: HTTP(S) fetches of ACI images, by exact domain.
    Auth,
    /// `rktKind: dockerAuth`: docker:// fetches, by registry.
    DockerAuth,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthFile<'a> {
    rkt_kind: &'static str,
    rkt_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registries: Option<Vec<String>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    auth_type: Option<&'static str>,
    credentials: Credentials<'a>,
}

#[derive(Serialize)]
struct Credentials<'a> {
    user: &'a str,
    password: &'a str,
}

/// The files, by name. rkt refuses a domain or registry named in two files of one folder,
/// so registries sharing a host (different namespaces) are refused here first.
/// rkt's auth files hold a user and a password, nothing else.
fn refusal(address: &RegistryAddress, credential: CredentialKind) -> Option<String> {
    (credential != CredentialKind::Password).then(|| {
        format!(
            "registry {address} has no username and password; rkt supports only basic credentials"
        )
    })
}

/// The names rkt matches a docker:// image's registry against. An implicit Hub image
/// resolves to `registry-1.docker.io`, an explicit `docker.io/…` one to `docker.io`.
fn docker_registries(address: &RegistryAddress) -> Vec<String> {
    if address.is_docker_hub() {
        vec!["registry-1.docker.io".to_string(), "docker.io".to_string()]
    } else {
        vec![address.host_port()]
    }
}

fn build(
    kind: RktKind,
    registries: &[RegistryCredential],
) -> Result<Vec<(String, Vec<u8>)>, String> {
    refuse(registries, refusal)?;
    let files = keyed(
        registries,
        |r| r.address.host_port(),
        |r| {
            let Some(Credential::Basic { username, password }) = &r.credential else {
                unreachable!("refused, or left out by documents::build")
            };
            let names = match kind {
                RktKind::Auth => vec![r.address.host_port()],
                RktKind::DockerAuth => docker_registries(&r.address),
            };
            let file = AuthFile {
                rkt_kind: match kind {
                    RktKind::Auth => "auth",
                    RktKind::DockerAuth => "dockerAuth",
                },
                rkt_version: "v1",
                auth_type: (kind == RktKind::Auth).then_some("basic"),
                domains: (kind == RktKind::Auth).then(|| names.clone()),
                registries: (kind == RktKind::DockerAuth).then(|| names.clone()),
                credentials: Credentials {
                    user: username,
                    password: password.expose(),
                },
            };
            Ok((format!("{}.json", names[0]), to_json_indented(&file, b"  ")))
        },
    )?;
    Ok(files.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::{basic, helper};

    #[test]
    fn docker_auth_names_hub_as_rkt_resolves_it() {
        let files = build(RktKind::DockerAuth, &[basic("docker.io", "octocat", "pw")]).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "registry-1.docker.io.json");
        let want = "{\n  \"rktKind\": \"dockerAuth\",\n  \"rktVersion\": \"v1\",\n  \"registries\": [\n    \"registry-1.docker.io\",\n    \"docker.io\"\n  ],\n  \"credentials\": {\n    \"user\": \"octocat\",\n    \"password\": \"pw\"\n  }\n}\n";
        assert_eq!(String::from_utf8(files[0].1.clone()).unwrap(), want);
    }

    #[test]
    fn auth_kind_is_the_quay_seed_layout() {
        let files = build(RktKind::Auth, &[basic("quay.io", "myorg+robot", "tok")]).unwrap();
        let want = "{\n  \"rktKind\": \"auth\",\n  \"rktVersion\": \"v1\",\n  \"domains\": [\n    \"quay.io\"\n  ],\n  \"type\": \"basic\",\n  \"credentials\": {\n    \"user\": \"myorg+robot\",\n    \"password\": \"tok\"\n  }\n}\n";
        assert_eq!(files[0].0, "quay.io.json");
        assert_eq!(String::from_utf8(files[0].1.clone()).unwrap(), want);
    }

    #[test]
    fn one_file_per_registry_and_no_helpers() {
        let files = build(
            RktKind::DockerAuth,
            &[
                basic("quay.io", "a", "1"),
                basic("h.example:5000", "b", "2"),
            ],
        )
        .unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["h.example:5000.json", "quay.io.json"]);
        let err = build(RktKind::Auth, &[helper("gcr.io", "gcr")]).unwrap_err();
        assert!(err.contains("rkt supports only basic credentials"), "{err}");
        let err = build(
            RktKind::Auth,
            &[basic("quay.io/a", "a", "1"), basic("quay.io/b", "b", "2")],
        )
        .unwrap_err();
        assert!(err.contains("both need the key quay.io"), "{err}");
    }

    #[test]
    fn hub_is_matched_under_both_of_its_names() {
        let names = |a: &str| docker_registries(&a.parse().unwrap());
        assert_eq!(names("docker.io"), ["registry-1.docker.io", "docker.io"]);
        assert_eq!(names("h.example:5000"), ["h.example:5000"]);
    }
}
