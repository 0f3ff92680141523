//! The inventory exactly as YAML gives it: serde structs that refuse unknown keys.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::credentials::SecretRef;

// The doc comments on fields are the descriptions editors show (`regforge schema`).

/// A regforge inventory: container registries and their credentials, and the targets
/// rendered from them.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "regforge inventory")]
pub struct RawTop {
    // Each entry is read on its own: a problem in one does not hide the others'.
    /// The registries and their credentials.
    #[serde(default)]
    #[schemars(with = "Vec<RawRegistry>")]
    pub registries: Vec<serde::de::IgnoredAny>,
    /// The outputs rendered from them.
    #[serde(default)]
    #[schemars(with = "Vec<RawTarget>")]
    pub targets: Vec<serde::de::IgnoredAny>,
    /// A file of registries that `regforge registry add` writes, relative to the inventory.
    pub managed_registries: Option<String>,
}

/// A registry: its address and what consumers need to pull from it.
#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Registry")]
pub struct RawRegistry {
    /// `host[:port][/namespace…]`; `docker.io` for Docker Hub.
    pub address: String,
    pub username: Option<String>,
    pub password: Option<SecretRef>,
    /// Carried by .dockercfg and Kubernetes Secrets, as kubectl does.
    pub email: Option<String>,
    /// Skip TLS verification when `regforge registry` checks the login.
    #[serde(default)]
    pub insecure: bool,
    /// A docker credential helper the node runs, e.g. `ecr-login`, `gcr`, `acr-env`.
    pub helper: Option<String>,
    /// An OAuth2 refresh token, in place of a password.
    pub identity_token: Option<SecretRef>,
    /// With `helper: ecr-login`: the AWS keys Drone's ECR support reads.
    pub aws_access_key_id: Option<SecretRef>,
    pub aws_secret_access_key: Option<SecretRef>,
    /// With `helper`: a short-lived token for documents whose consumer runs no helper.
    pub token: Option<SecretRef>,
    /// Endpoints consumers try before the registry itself: `https://host[:port]`.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// `{file: PATH}` only, as are the client certificate and key: the PEM placed on nodes.
    pub ca: Option<SecretRef>,
    pub client_cert: Option<SecretRef>,
    pub client_key: Option<SecretRef>,
    /// Consumers accept any certificate from this registry (warns).
    #[serde(default)]
    pub skip_verify: bool,
}

/// A named output: a provisioning config that places documents on a node, or one
/// document written as a file.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Target")]
pub struct RawTarget {
    /// The output's file name without extension: letters, digits, `.`, `_`, `-`.
    pub name: String,
    pub format: String,
    /// The Butane variant (`flatcar`, `fcos`), or Ignition's.
    pub variant: Option<String>,
    /// The config spec version, or the consumer's version for a document that takes one.
    pub version: Option<String>,
    /// The registries it carries, by address; all of them when absent.
    pub registries: Option<Vec<String>>,
    // Each entry is read on its own (`SourceMap::read_entry`), with its options block.
    /// The documents a provisioning target places on the node.
    #[schemars(with = "Option<Vec<RawFile>>")]
    pub files: Option<Vec<serde::de::IgnoredAny>>,
    pub remote: Option<RawRemote>,
    /// A minijinja template that lays the config out instead of the built-in one.
    pub template: Option<String>,
}

/// A document placed on the node by a provisioning target.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "File")]
pub struct RawFile {
    pub document: String,
    /// Absent: the document's standard place on the node, if it has one.
    pub path: Option<String>,
    /// Read again from the source text: YAML 1.2 turns `0644` into something else.
    #[serde(default)]
    #[schemars(schema_with = "mode_schema")]
    pub mode: Option<serde_yaml::Value>,
    pub user: Option<String>,
    pub group: Option<String>,
    /// `inline` (default), `remote` (a hosted artifact with its sha512) or `local`
    /// (Butane's `--files-dir`).
    pub delivery: Option<String>,
}

/// Where the nodes fetch remote artifacts.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Remote")]
pub struct RawRemote {
    /// The folder URL; an artifact's URL is this plus its name, so it ends with `/`.
    pub url: String,
}

fn mode_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    // YAML 1.2 parsers read a plain `0600` as the integer 600, YAML 1.1 ones as octal,
    // and some keep it as the text `0600`: each is how an editor may see a valid mode.
    schemars::json_schema!({
        "description": "The file's mode, octal with a leading 0 as Butane reads it, unquoted: 0600. Without it, a credentials file gets 0600.",
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": "^0o?[0-7]{1,4}$"}
        ]
    })
}
