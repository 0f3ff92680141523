//! `marathon-app` and `marathon-pod`: Marathon definitions for DC/OS's two pull paths, the fetched docker.tar.gz and the secret store (FORMATS.md §5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use super::{DocFile, Given, Kind, Options, OptionsError, read_block, to_json_indented};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;

/// A Marathon definition: an app (the Docker containerizer fetching the archive by
/// URI, or the Mesos containerizer (UCR) pulling with a docker-config from the DC/OS
/// secret store) or a pod (the Mesos containerizer only, so the secret store only).
pub struct Marathon {
    name: &'static str,
    pod: bool,
}

pub static MARATHON_APP: Marathon = Marathon {
    name: "marathon-app",
    pod: false,
};

pub static MARATHON_POD: Marathon = Marathon {
    name: "marathon-pod",
    pod: true,
};

impl Kind for Marathon {
    fn name(&self) -> &'static str {
        self.name
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    /// Definitions that name where credentials are, never a secret.
    fn encodings(&self) -> &'static [Encoding] {
        &[]
    }

    fn options_key(&self) -> Option<&'static str> {
        Some("marathon")
    }

    fn options_schema(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> Option<schemars::Schema> {
        Some(generator.subschema_for::<RawOptions>())
    }

    fn typed_options(&self) -> &'static [&'static str] {
        &TYPED
    }

    fn options(
        &self,
        block: Option<serde_yaml::Value>,
        given: &Given,
    ) -> Result<Options, OptionsError> {
        options(self.name, self.pod, block, given.target)
    }

    fn build(
        &self,
        options: &Options,
        _: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        let options = options.get();
        if self.pod {
            marathon_pod(options).map(DocFile::one)
        } else {
            Ok(DocFile::one(marathon_app(options)))
        }
    }
}

/// The block's numbers and booleans, as `--set` gives them.
const TYPED: [&str; 4] = ["cpus", "mem", "instances", "legacy_uris"];

/// Options of `marathon-app` and `marathon-pod` (the `marathon:` block, required).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MarathonOptions")]
struct RawOptions {
    /// An absolute path of lower-case names; `/<target name>` by default, required on a
    /// file entry.
    id: Option<String>,
    /// The image the app or pod runs.
    image: String,
    /// CPUs, a positive number (default 0.1).
    cpus: Option<f64>,
    /// Memory in MiB, a positive number (default 128).
    mem: Option<f64>,
    /// How many instances run (default 1).
    instances: Option<u32>,
    /// Where agents fetch the mesos-archive (app only; default file:///etc/docker.tar.gz).
    uri: Option<String>,
    /// A DC/OS secret-store path of a docker config, used with pullConfig; required for a
    /// pod.
    secret_source: Option<String>,
    /// Write the deprecated `uris` instead of `fetch` (app only).
    #[serde(default)]
    legacy_uris: bool,
}

/// `marathon-app` / `marathon-pod` options (FORMATS.md §5).
#[derive(Clone, Debug, PartialEq)]
struct MarathonOptions {
    id: String,
    image: String,
    cpus: f64,
    mem: f64,
    instances: u32,
    /// Where agents fetch the mesos-archive (the Docker containerizer path).
    uri: String,
    /// A DC/OS secret-store path holding the docker-config (the UCR `pullConfig` path).
    secret_source: Option<String>,
    /// Emit the deprecated `uris` array, as the DC/OS seed does, instead of `fetch`.
    legacy_uris: bool,
}

fn options(
    kind: &str,
    pod: bool,
    block: Option<serde_yaml::Value>,
    target: Option<&str>,
) -> Result<Options, OptionsError> {
    let Some(raw) = read_block::<RawOptions>("marathon", block)? else {
        return Err(OptionsError::at(
            "",
            format!("a {kind} needs `marathon: {{image: …}}`, the image it runs"),
        ));
    };
    validate(kind, pod, raw, target).map(Options::new)
}

fn validate(
    kind: &str,
    pod: bool,
    m: RawOptions,
    target_name: Option<&str>,
) -> Result<MarathonOptions, OptionsError> {
    let id = match (m.id, target_name) {
        (Some(id), _) => id,
        (None, Some(target)) => format!("/{target}"),
        (None, None) => {
            return Err(OptionsError::at(
                "marathon",
                format!("a {kind} placed on a node needs `marathon: {{id: …}}`"),
            ));
        }
    };
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
    };
    if !id.starts_with('/') || !id[1..].split('/').all(segment_ok) {
        return Err(OptionsError::at(
            "marathon.id",
            format!(
                "`{id}` is not a Marathon id: an absolute path of lower-case names, e.g. /team/app"
            ),
        ));
    }
    if m.image.is_empty() || m.image.chars().any(char::is_whitespace) {
        return Err(OptionsError::at(
            "marathon.image",
            "give the image reference, e.g. registry.example.com/ns/repo:tag",
        ));
    }
    for (field, value) in [("cpus", m.cpus), ("mem", m.mem)] {
        if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(OptionsError::at(
                &format!("marathon.{field}"),
                format!("`{field}` is a positive number"),
            ));
        }
    }
    if pod {
        if m.secret_source.is_none() {
            return Err(OptionsError::at(
                "marathon",
                "a pod pulls private images only through the DC/OS secret store: give `secret_source`, or use marathon-app with the docker.tar.gz URI",
            ));
        }
        for (field, given) in [("uri", m.uri.is_some()), ("legacy_uris", m.legacy_uris)] {
            if given {
                return Err(OptionsError::at(
                    &format!("marathon.{field}"),
                    format!("`{field}` is for marathon-app: pods pull through the secret store"),
                ));
            }
        }
    }
    if m.secret_source.is_some() && (m.uri.is_some() || m.legacy_uris) {
        return Err(OptionsError::at(
            "marathon.secret_source",
            "use either the secret store (`secret_source`) or the docker.tar.gz URI (`uri`, `legacy_uris`), not both",
        ));
    }
    if m.secret_source.as_deref().is_some_and(str::is_empty) {
        return Err(OptionsError::at(
            "marathon.secret_source",
            "give the secret's path in the DC/OS secret store, e.g. /mesos-docker/pullConfig",
        ));
    }
    Ok(MarathonOptions {
        id,
        image: m.image,
        cpus: m.cpus.unwrap_or(0.1),
        mem: m.mem.unwrap_or(128.0),
        instances: m.instances.unwrap_or(1),
        uri: m
            .uri
            .unwrap_or_else(|| "file:///etc/docker.tar.gz".to_string()),
        secret_source: m.secret_source,
        legacy_uris: m.legacy_uris,
    })
}

/// Marathon's numbers: whole values print without a fraction (`"mem": 128`).
fn number<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        s.serialize_i64(*value as i64)
    } else {
        s.serialize_f64(*value)
    }
}

const PULL_SECRET: &str = "pullConfigSecret";

#[derive(Serialize)]
struct SecretRef {
    secret: &'static str,
}

#[derive(Serialize)]
struct SecretDef<'a> {
    source: &'a str,
}

fn secrets(source: &str) -> BTreeMap<&'static str, SecretDef<'_>> {
    BTreeMap::from([(PULL_SECRET, SecretDef { source })])
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct App<'a> {
    id: &'a str,
    #[serde(serialize_with = "number")]
    cpus: f64,
    #[serde(serialize_with = "number")]
    mem: f64,
    instances: u32,
    container: AppContainer<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fetch: Option<Vec<Artifact<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uris: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secrets: Option<BTreeMap<&'static str, SecretDef<'a>>>,
}

#[derive(Serialize)]
struct AppContainer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    docker: AppDocker<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppDocker<'a> {
    image: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_config: Option<SecretRef>,
}

#[derive(Serialize)]
struct Artifact<'a> {
    uri: &'a str,
}

/// The Docker containerizer fetching the archive by URI, or, with `secret_source`, the
/// Mesos containerizer (UCR) pulling with a docker-config from the DC/OS secret store.
fn marathon_app(o: &MarathonOptions) -> Vec<u8> {
    let via_secret = o.secret_source.as_deref();
    let app = App {
        id: &o.id,
        cpus: o.cpus,
        mem: o.mem,
        instances: o.instances,
        container: AppContainer {
            kind: if via_secret.is_some() {
                "MESOS"
            } else {
                "DOCKER"
            },
            docker: AppDocker {
                image: &o.image,
                pull_config: via_secret.map(|_| SecretRef {
                    secret: PULL_SECRET,
                }),
            },
        },
        fetch: (via_secret.is_none() && !o.legacy_uris).then(|| vec![Artifact { uri: &o.uri }]),
        uris: (via_secret.is_none() && o.legacy_uris).then(|| vec![o.uri.as_str()]),
        secrets: via_secret.map(secrets),
    };
    to_json_indented(&app, b"  ")
}

#[derive(Serialize)]
struct Pod<'a> {
    id: &'a str,
    scaling: Scaling,
    containers: Vec<PodContainer<'a>>,
    networks: Vec<Network>,
    secrets: BTreeMap<&'static str, SecretDef<'a>>,
}

#[derive(Serialize)]
struct Scaling {
    kind: &'static str,
    instances: u32,
}

#[derive(Serialize)]
struct PodContainer<'a> {
    name: String,
    resources: Resources,
    image: PodImage<'a>,
}

#[derive(Serialize)]
struct Resources {
    #[serde(serialize_with = "number")]
    cpus: f64,
    #[serde(serialize_with = "number")]
    mem: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodImage<'a> {
    kind: &'static str,
    id: &'a str,
    pull_config: SecretRef,
}

#[derive(Serialize)]
struct Network {
    mode: &'static str,
}

/// A pod pulls only through the secret store: pods run on the Mesos containerizer, which
/// never reads a fetched docker.tar.gz.
fn marathon_pod(o: &MarathonOptions) -> Result<Vec<u8>, String> {
    let source = o.secret_source.as_deref().ok_or(
        "a pod pulls private images only through the DC/OS secret store: give `secret_source`, or use marathon-app with the docker.tar.gz URI",
    )?;
    let name =
        o.id.rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('.', "-");
    let pod = Pod {
        id: &o.id,
        scaling: Scaling {
            kind: "fixed",
            instances: o.instances,
        },
        containers: vec![PodContainer {
            name,
            resources: Resources {
                cpus: o.cpus,
                mem: o.mem,
            },
            image: PodImage {
                kind: "DOCKER",
                id: &o.image,
                pull_config: SecretRef {
                    secret: PULL_SECRET,
                },
            },
        }],
        networks: vec![Network { mode: "host" }],
        secrets: secrets(source),
    };
    Ok(to_json_indented(&pod, b"  "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> MarathonOptions {
        MarathonOptions {
            id: "/some/app".into(),
            image: "registry.example.com/ns/repo".into(),
            cpus: 1.0,
            mem: 1024.0,
            instances: 1,
            uri: "file:///etc/docker.tar.gz".into(),
            secret_source: None,
            legacy_uris: false,
        }
    }

    #[test]
    fn app_via_uri_and_via_secret_store() {
        let json: serde_json::Value = serde_json::from_slice(&marathon_app(&options())).unwrap();
        assert_eq!(json["container"]["type"], "DOCKER");
        assert_eq!(json["fetch"][0]["uri"], "file:///etc/docker.tar.gz");
        assert_eq!(json["mem"], 1024);
        assert!(json.get("uris").is_none() && json.get("secrets").is_none());
        let legacy = MarathonOptions {
            legacy_uris: true,
            ..options()
        };
        let json: serde_json::Value = serde_json::from_slice(&marathon_app(&legacy)).unwrap();
        assert_eq!(json["uris"][0], "file:///etc/docker.tar.gz");
        assert!(json.get("fetch").is_none());
        let store = MarathonOptions {
            secret_source: Some("/mesos-docker/pullConfig".into()),
            ..options()
        };
        let json: serde_json::Value = serde_json::from_slice(&marathon_app(&store)).unwrap();
        assert_eq!(json["container"]["type"], "MESOS");
        assert_eq!(
            json["container"]["docker"]["pullConfig"]["secret"],
            PULL_SECRET
        );
        assert_eq!(
            json["secrets"][PULL_SECRET]["source"],
            "/mesos-docker/pullConfig"
        );
        assert!(json.get("fetch").is_none());
    }

    #[test]
    fn pod_needs_the_secret_store() {
        assert!(
            marathon_pod(&options())
                .unwrap_err()
                .contains("secret_source")
        );
        let store = MarathonOptions {
            secret_source: Some("/pod/pullConfig".into()),
            cpus: 0.1,
            ..options()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&marathon_pod(&store).unwrap()).unwrap();
        assert_eq!(json["containers"][0]["name"], "app");
        assert_eq!(json["containers"][0]["resources"]["cpus"], 0.1);
        assert_eq!(json["containers"][0]["image"]["kind"], "DOCKER");
        assert_eq!(json["secrets"][PULL_SECRET]["source"], "/pod/pullConfig");
    }
}
