//! Target formats: provisioning configs that place documents on a node, one module per format, registered in `FORMATS`.
//!
//! A format declares its name, file extension, the variants and versions it accepts and
//! the deliveries it can do; it names its built-in template, lays out the rendered text
//! where code must (Ignition's JSON), and reads its own output back into typed
//! placements for `verify`. The generic stages ask this list and name no format.

mod butane;
mod cloud_config;
pub mod document;
mod ignition;
mod read_back;

pub use read_back::{Contents, DirectoryBack, FileBack, Problem, ReadBack};

use crate::encoding::Encoding;
use crate::model::Delivery;

/// Every format behind the trait, in the order messages list them.
pub static FORMATS: [&dyn Format; 3] = [
    &butane::Butane,
    &ignition::Ignition,
    &cloud_config::CloudConfig,
];

/// A variant and version a format accepts, and the spec it translates to (Butane's
/// Ignition version), which templates see as `target.ignition_version`.
#[derive(Debug, PartialEq, Eq)]
pub struct Version {
    pub variant: &'static str,
    pub version: &'static str,
    pub translates_to: &'static str,
}

/// One provisioning format.
pub trait Format: Sync {
    /// The name the inventory's `format:` uses.
    fn name(&self) -> &'static str;
    /// The extension of the target's output file, `<target>.<extension>`.
    fn extension(&self) -> &'static str;
    /// The variant/version pairs it accepts; empty when it takes neither.
    fn versions(&self) -> &'static [Version] {
        &[]
    }
    /// Why the format cannot deliver a file this way, if it cannot.
    fn refuses(&self, delivery: Delivery) -> Option<&'static str>;
    /// Whether the node fetches artifacts, so that a target may give `remote.url`.
    fn fetches(&self) -> bool {
        false
    }
    /// Whether parent folders under a home are declared beside the files (Ignition creates
    /// undeclared parents root-owned).
    fn declares_directories(&self) -> bool {
        false
    }
    /// How it writes a placed document's bytes into its text: the escapes and wrappings
    /// the redactor follows, on top of the document's own (a test holds every format to
    /// what it declares).
    fn encodings(&self) -> &'static [Encoding];
    /// The built-in template's source.
    fn template(&self) -> &'static str;
    /// The rendered text as it is written; `pretty` asks for indented JSON where the
    /// format is JSON.
    fn lay_out(&self, text: String, _pretty: bool) -> Result<String, String> {
        Ok(text)
    }
    /// What the rendered text places, read as the consumer reads it. Only placements at
    /// paths `placed` accepts are read strictly; a template's own additions pass.
    fn read_back(
        &self,
        text: &str,
        version: Option<&Version>,
        placed: &dyn Fn(&str) -> bool,
    ) -> Result<ReadBack, Problem>;
}

/// The nodes at paths regforge placed (storage files and directories, `write_files`
/// entries), read strictly as `T`; the others, a template's own additions, pass.
fn placed_nodes<'de, V, T>(nodes: Vec<V>, placed: &dyn Fn(&str) -> bool) -> Result<Vec<T>, Problem>
where
    V: serde::Deserializer<'de> + Clone,
    T: serde::Deserialize<'de>,
{
    /// Any node, for its path: a template's own nodes may hold anything.
    #[derive(serde::Deserialize)]
    struct AnyNode {
        path: Option<String>,
    }
    let mut out = Vec::new();
    for node in nodes {
        let Ok(AnyNode { path: Some(path) }) = serde::Deserialize::deserialize(node.clone()) else {
            continue;
        };
        if placed(&path) {
            out.push(T::deserialize(node).map_err(|e| Problem::at(&path, e.to_string()))?);
        }
    }
    Ok(out)
}

/// The `storage` section Butane and Ignition share: files and directories, each node
/// kept as the format's own value (`V`) until it is known to be one regforge placed.
#[derive(serde::Deserialize)]
struct Storage<V> {
    #[serde(default = "Vec::new")]
    files: Vec<V>,
    #[serde(default = "Vec::new")]
    directories: Vec<V>,
}

impl<V> Storage<V> {
    /// What the section places: its placed nodes read strictly as `F` and `D`, then as
    /// the typed placements `verify` compares.
    fn read_back<'de, F, D>(
        storage: Option<Storage<V>>,
        placed: &dyn Fn(&str) -> bool,
        file: fn(F) -> Result<FileBack, Problem>,
        directory: fn(D) -> DirectoryBack,
    ) -> Result<ReadBack, Problem>
    where
        V: serde::Deserializer<'de> + Clone,
        F: serde::Deserialize<'de>,
        D: serde::Deserialize<'de>,
    {
        let Some(storage) = storage else {
            return Ok(ReadBack::default());
        };
        Ok(ReadBack {
            files: placed_nodes::<_, F>(storage.files, placed)?
                .into_iter()
                .map(file)
                .collect::<Result<_, _>>()?,
            directories: placed_nodes::<_, D>(storage.directories, placed)?
                .into_iter()
                .map(directory)
                .collect(),
        })
    }
}

/// The format a target's `format:` names, if one is behind the trait.
pub fn lookup(name: &str) -> Option<&'static dyn Format> {
    FORMATS.iter().find(|f| f.name() == name).copied()
}

/// The names of the formats `keep` holds for, as a sentence lists them ("a, b and c").
pub fn names_where(keep: impl Fn(&dyn Format) -> bool) -> String {
    let names: Vec<&str> = FORMATS
        .iter()
        .filter(|f| keep(**f))
        .map(|f| f.name())
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Every format's name, in list order, for messages that list what `format:` accepts.
pub fn accepted() -> String {
    let names: Vec<&str> = FORMATS.iter().map(|f| f.name()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_a_sentence() {
        assert_eq!(names_where(|_| true), "butane, ignition and cloud-config");
        assert_eq!(names_where(|f| f.fetches()), "butane and ignition");
        assert_eq!(names_where(|f| f.name() == "butane"), "butane");
        assert_eq!(names_where(|_| false), "");
    }
}
