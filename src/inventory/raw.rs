//! The inventory exactly as YAML gives it: serde structs that refuse unknown keys.

use serde::Deserialize;

use crate::credentials::SecretRef;

/// The inventory's top level, each entry left to be read on its own: a problem in one
/// registry or target does not stop the others from being read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTop {
    #[serde(default)]
    pub registries: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    pub targets: Vec<serde::de::IgnoredAny>,
    pub managed_registries: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegistry {
    pub address: String,
    pub username: Option<String>,
    pub password: Option<SecretRef>,
    pub email: Option<String>,
    #[serde(default)]
    pub insecure: bool,
    pub helper: Option<String>,
    pub identity_token: Option<SecretRef>,
    pub aws_access_key_id: Option<SecretRef>,
    pub aws_secret_access_key: Option<SecretRef>,
    /// With `helper`: a short-lived token for documents whose consumer runs no helper.
    pub token: Option<SecretRef>,
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// `{file: PATH}` only, as are the client certificate and key.
    pub ca: Option<SecretRef>,
    pub client_cert: Option<SecretRef>,
    pub client_key: Option<SecretRef>,
    #[serde(default)]
    pub skip_verify: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub name: String,
    pub format: String,
    pub variant: Option<String>,
    pub version: Option<String>,
    pub registries: Option<Vec<String>>,
    /// Each entry is read on its own (`SourceMap::read_entry`), with its options block.
    pub files: Option<Vec<serde::de::IgnoredAny>>,
    pub remote: Option<RawRemote>,
    pub template: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub document: String,
    /// Absent: the document's standard place on the node, if it has one.
    pub path: Option<String>,
    /// Read again from the source text: YAML 1.2 turns `0644` into something else.
    pub mode: Option<serde_yaml::Value>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub delivery: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemote {
    pub url: String,
}
