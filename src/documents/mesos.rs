//! Mesos and DC/OS: the `docker.tar.gz` agents fetch, and Marathon app and pod definitions
//! for its two pull paths (FORMATS.md §5).

use std::collections::BTreeMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use serde::{Serialize, Serializer};

use super::{DocFile, Kind, MarathonOptions, Options, docker_config, to_json_indented};
use crate::credentials::RegistryCredential;

pub struct MesosArchive;

impl Kind for MesosArchive {
    fn name(&self) -> &'static str {
        "mesos-archive"
    }

    fn extension(&self) -> &'static str {
        "tar.gz"
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
    ) -> Result<Vec<DocFile>, String> {
        archive(registries).map(DocFile::one)
    }
}

/// `.docker/` and `.docker/config.json`, reproducible to the byte: fixed order, modes,
/// owner 0/0 and mtime 0, and a gzip header without name or time.
fn archive(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    let config = docker_config::build(registries)?;
    let mut tar = tar::Builder::new(Vec::new());
    let entry = |path: &str, kind: tar::EntryType, mode: u32, size: usize| {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(size as u64);
        header
            .set_path(path)
            .expect("fixed archive paths are valid");
        header.set_cksum();
        header
    };
    let io = |e: std::io::Error| format!("cannot build the archive: {e}");
    tar.append(
        &entry(".docker/", tar::EntryType::Directory, 0o700, 0),
        &[][..],
    )
    .map_err(io)?;
    tar.append(
        &entry(
            ".docker/config.json",
            tar::EntryType::Regular,
            0o600,
            config.len(),
        ),
        config.as_slice(),
    )
    .map_err(io)?;
    let tar = tar.into_inner().map_err(io)?;
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    gz.write_all(&tar).map_err(io)?;
    gz.finish().map_err(io)
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
pub fn marathon_app(o: &MarathonOptions) -> Vec<u8> {
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
pub fn marathon_pod(o: &MarathonOptions) -> Result<Vec<u8>, String> {
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
    use crate::documents::test_support::basic;

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
    fn archive_is_reproducible_and_holds_the_docker_config() {
        let registries = [basic("quay.io", "robot", "pw")];
        let a = archive(&registries).unwrap();
        assert_eq!(a, archive(&registries).unwrap());
        // gzip header: magic, deflate, no flags (no name), mtime 0, max compression, OS 255.
        assert_eq!(&a[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
        let entries: Vec<(String, u32, u64)> = tar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                (".docker/".to_string(), 0o700, 0),
                (".docker/config.json".to_string(), 0o600, 0)
            ]
        );
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
