//! Delivery: how each document reaches the node (inline, remote artifact + sha512, local file), and the directories it needs.

use std::collections::BTreeMap;

use crate::documents::Document;
use crate::inventory::{Delivery, FileMode, FileSpec};

/// A document placed at a path on the node.
#[derive(Debug)]
pub struct PlacedFile<'a> {
    /// The inventory's file entry: mode, owner and delivery.
    pub spec: &'a FileSpec,
    /// Where the file lands on the node: the entry's path, or a file inside it for
    /// documents made of one file per registry.
    pub path: String,
    /// The entry's mode, or else the one the document gives this file.
    pub mode: FileMode,
    pub document: Document,
    /// For remote and local delivery: the file written next to the config.
    pub artifact: Option<Artifact>,
}

/// Everything a config says of a placed file, for fingerprints of configs (a fleet's
/// nodes that share one render and verify it once): path, mode, owner, delivery, the
/// document and its hash, the artifact.
impl std::hash::Hash for PlacedFile<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.path.hash(h);
        self.mode.hash(h);
        (&self.spec.user, &self.spec.group).hash(h);
        self.spec.delivery.name().hash(h);
        self.document.kind.name().hash(h);
        // The sha512 stands for the bytes: hashing them again would cost more.
        self.document.hash.hash(h);
        self.artifact.hash(h);
    }
}

/// A document written beside the config, named by its content.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Artifact {
    /// `artifacts` (to host) or `files` (for `butane --files-dir`).
    pub folder: &'static str,
    pub name: String,
    /// Where the node fetches it, for remote delivery.
    pub url: Option<String>,
}

/// Places each file of a document as the entry `spec` says.
pub fn place<'a>(
    spec: &'a FileSpec,
    documents: Vec<Document>,
    remote_url: Option<&str>,
) -> impl Iterator<Item = PlacedFile<'a>> {
    documents
        .into_iter()
        .map(move |document| place_one(spec, document, remote_url))
}

fn place_one<'a>(
    spec: &'a FileSpec,
    document: Document,
    remote_url: Option<&str>,
) -> PlacedFile<'a> {
    let path = match &document.file_name {
        Some(name) if document.kind.is_folder() => format!("{}/{name}", spec.path),
        // A file beside the document's own (k3s's CA files), in the folder holding it.
        Some(name) => {
            let folder = spec.path.rsplit_once('/').map_or("", |(folder, _)| folder);
            format!("{folder}/{name}")
        }
        None => spec.path.clone(),
    };
    let name = artifact_name(&document);
    let artifact = match spec.delivery {
        Delivery::Inline => None,
        Delivery::Remote => Some(Artifact {
            folder: "artifacts",
            url: Some(artifact_url(
                remote_url.expect("remote delivery was validated to have a URL"),
                &name,
            )),
            name,
        }),
        Delivery::Local => Some(Artifact {
            folder: "files",
            name,
            url: None,
        }),
    };
    PlacedFile {
        spec,
        path,
        mode: spec.mode.unwrap_or(document.mode),
        document,
        artifact,
    }
}

/// Where a node fetches a remote artifact: the target's `remote.url` (ending in `/`) and its name.
pub fn artifact_url(remote_url: &str, name: &str) -> String {
    format!("{remote_url}{name}")
}

/// `<kind>-<first 16 hex of sha512>.<ext>`: a new content gets a new name, so a URL never
/// serves stale bytes. A file of a folder document keeps its own extension (`ca.crt`).
pub fn artifact_name(document: &Document) -> String {
    let extension = document
        .file_name
        .as_deref()
        .and_then(|name| name.rsplit_once('.'))
        .map_or(document.kind.extension(), |(_, ext)| ext);
    format!(
        "{}-{}.{extension}",
        document.kind.name(),
        &document.hash.hex()[..16]
    )
}

/// A directory to declare on the node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Directory {
    pub path: String,
    pub mode: FileMode,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// Directories between a home and a file owned by a user (`/home/core/.docker`): Ignition
/// would create them root-owned, and the user could not replace the file.
pub fn home_directories(files: &[PlacedFile]) -> Result<Vec<Directory>, String> {
    let mut dirs: BTreeMap<String, Directory> = BTreeMap::new();
    for file in files {
        let spec = file.spec;
        if spec.user.is_none() {
            continue;
        }
        let Some(rest) = file.path.strip_prefix("/home/") else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        // parts[0] is the home itself, parts[last] the file.
        for depth in 2..parts.len() {
            let path = format!("/home/{}", parts[..depth].join("/"));
            let dir = Directory {
                path: path.clone(),
                mode: FileMode::PRIVATE_DIR,
                user: spec.user.clone(),
                group: spec.group.clone(),
            };
            match dirs.get(&path) {
                Some(existing) if *existing != dir => {
                    return Err(format!(
                        "{path} would be owned by two different users/groups; give its files the same user and group"
                    ));
                }
                _ => {
                    dirs.insert(path, dir);
                }
            }
        }
    }
    Ok(dirs.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{self, DocumentSpec, Options};
    use crate::model::Sha512Hash;

    fn entry(mode: Option<FileMode>) -> FileSpec {
        FileSpec {
            document: DocumentSpec::new(documents::lookup("rkt-auth").unwrap(), Options::none()),
            path: "/etc/rkt/auth.d".into(),
            mode,
            user: None,
            group: None,
            delivery: Delivery::Inline,
        }
    }

    fn file(name: &str, mode: u32) -> Document {
        Document {
            kind: documents::lookup("rkt-auth").unwrap(),
            file_name: Some(name.into()),
            bytes: name.as_bytes().to_vec(),
            hash: Sha512Hash::of(name.as_bytes()),
            mode: FileMode::from_bits(mode),
        }
    }

    #[test]
    fn each_file_keeps_its_documents_mode_unless_the_entry_gives_one() {
        let modes = |spec: &FileSpec| -> Vec<(String, u32)> {
            place(
                spec,
                vec![file("a.json", 0o600), file("ca.crt", 0o644)],
                None,
            )
            .map(|p| (p.path, p.mode.bits()))
            .collect()
        };
        assert_eq!(
            modes(&entry(None)),
            [
                ("/etc/rkt/auth.d/a.json".to_string(), 0o600),
                ("/etc/rkt/auth.d/ca.crt".to_string(), 0o644)
            ]
        );
        let given = entry(Some(FileMode::from_bits(0o640)));
        assert!(modes(&given).iter().all(|(_, mode)| *mode == 0o640));
    }
}
