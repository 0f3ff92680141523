//! Documents: pure functions from resolved registries to the bytes of one consumer's file, one module per kind, registered in `DOCUMENTS`.

mod certs_d;
mod containerd_config;
mod containerd_hosts;
mod containers_auth;
mod crio_config;
mod docker_config;
mod dockercfg;
mod drone;
mod gitlab;
mod go_json;
mod k3s;
mod kubelet_config;
mod kubelet_credential_provider;
mod kubernetes_secret;
mod marathon;
mod mesos;
mod node;
mod nomad;
mod parts;
mod registries_conf;
mod rkt;
mod talos;

use std::any::Any;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use node::{NodeAuth, no_helper, tls_files};
pub use parts::{Part, left_out};

use crate::credentials::{Credential, RegistryCredential};
use crate::encoding::Encoding;
use crate::model::{FileMode, RegistryAddress, Sha512Hash};

/// One document kind behind the trait: what the inventory calls it, how its files are
/// named, the options block it reads, and how it is built from resolved registries.
pub trait Kind: Sync {
    /// The name a target's `format:` and a file entry's `document:` use.
    fn name(&self) -> &'static str;
    /// The extension of its file when it is written as a target (`<target>.<extension>`)
    /// or an artifact.
    fn extension(&self) -> &'static str;
    /// Whether a provisioning target may place it on a node (a Talos patch is applied
    /// with talosctl instead).
    fn placeable(&self) -> bool {
        true
    }
    /// Whether a document target gives it the consumer's version with `version:`,
    /// which it reads as the `version` key of its options block.
    fn takes_version(&self) -> bool {
        false
    }
    /// Where its consumer reads it on a node, so that a file entry may omit `path`.
    fn default_path(&self) -> Option<&'static str> {
        None
    }
    /// Whether its files are all named inside the folder a file entry's `path` names
    /// (rkt's auth.d, containerd's certs.d). Otherwise its first file is the entry's
    /// `path`, and any named file lies beside it (k3s's CA files).
    fn is_folder(&self) -> bool {
        false
    }
    /// Why it cannot carry a registry at `address` that logs in this way, if it cannot:
    /// the inventory refuses such a registry before anything is resolved.
    fn refuses(&self, _address: &RegistryAddress, _credential: CredentialKind) -> Option<String> {
        None
    }
    /// What of a registry it carries; the inventory warns about the rest, and the
    /// document is built only from registries that bring something it carries.
    fn carries(&self) -> &'static [Part] {
        &[Part::Credential]
    }
    /// The documents of the same consumer that carry what this one cannot, named in the
    /// inventory's warning.
    fn companions(&self) -> &'static [&'static str] {
        &[]
    }
    /// How it writes secrets into its files: the escapes and wrappings the redactor
    /// follows (a test holds every document to what it declares).
    fn encodings(&self) -> &'static [Encoding];
    /// Keys of its own whose values are secrets, beyond the usual credential fields
    /// (`auth`, `password`, …): `--check` diffs hide their values.
    fn secret_keys(&self) -> &'static [&'static str] {
        &[]
    }
    /// The key of the options block it reads on its target or file entry, if any.
    fn options_key(&self) -> Option<&'static str> {
        None
    }
    /// The JSON Schema of that block (`regforge schema`), exactly when it has one.
    fn options_schema(
        &self,
        _generator: &mut schemars::SchemaGenerator,
    ) -> Option<schemars::Schema> {
        None
    }
    /// The keys of that block whose `regforge document --set` values are numbers or
    /// booleans; every other value is taken as a string.
    fn typed_options(&self) -> &'static [&'static str] {
        &[]
    }
    /// Its options, read and validated from that block (`None` when absent), with what
    /// the inventory knows besides.
    fn options(
        &self,
        _block: Option<serde_yaml::Value>,
        _given: &Given,
    ) -> Result<Options, OptionsError> {
        Ok(Options::none())
    }
    /// The files it points its consumer at, which a target placing it should place too
    /// (the inventory warns when one does not).
    fn needs(&self, _options: &Options) -> Vec<Need> {
        Vec::new()
    }
    /// What the user should know about a valid choice of options (a consumer's trap, a
    /// deprecation), as warnings.
    fn advise(&self, _options: &Options) -> Vec<String> {
        Vec::new()
    }
    /// The document's file(s), keyed the way its consumer looks registries up; an error
    /// says which registry it cannot carry and why. `at` is where a file entry places it
    /// on the node (None for a target or `regforge document`), for documents that name
    /// their own files inside them (hosts.toml's CA paths).
    fn build(
        &self,
        options: &Options,
        registries: &[RegistryCredential],
        at: Option<&str>,
    ) -> Result<Vec<DocFile>, String>;
}

/// How a registry logs in, as far as a document cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    Password,
    IdentityToken,
    /// A credential helper on the node; with AWS keys for Drone's ECR plugin, or not.
    Helper {
        aws_keys: bool,
    },
}

impl CredentialKind {
    pub fn of(credential: &Credential) -> CredentialKind {
        match credential {
            Credential::Basic { .. } => CredentialKind::Password,
            Credential::Token { .. } => CredentialKind::IdentityToken,
            Credential::Helper { aws, .. } => CredentialKind::Helper {
                aws_keys: aws.is_some(),
            },
        }
    }
}

/// The first registry `refusal` turns away, as an error.
fn refuse(
    registries: &[RegistryCredential],
    refusal: fn(&RegistryAddress, CredentialKind) -> Option<String>,
) -> Result<(), String> {
    match registries.iter().find_map(|r| {
        r.credential
            .as_ref()
            .and_then(|c| refusal(&r.address, CredentialKind::of(c)))
    }) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// What the inventory knows besides an options block.
pub struct Given<'a> {
    /// The target's name when the document is the target itself: it gives defaults that
    /// a file entry must spell out (a Secret's name).
    pub target: Option<&'a str>,
    /// The inventory's folder, which relative paths in a block are relative to.
    pub folder: &'a Path,
}

/// A document's validated options, opaque to all but the document's own module.
#[derive(Clone)]
pub struct Options(Arc<dyn Any + Send + Sync>);

impl Options {
    pub fn new<T: Any + Send + Sync>(options: T) -> Options {
        Options(Arc::new(options))
    }

    pub fn none() -> Options {
        Options::new(())
    }

    /// The options as the document's module made them.
    pub fn get<T: Any>(&self) -> &T {
        self.0
            .downcast_ref()
            .expect("a document reads back the options it made")
    }
}

/// A problem in a document's options: the field, relative to the target or file entry
/// (`secret.name`; empty for the entry itself), and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct OptionsError {
    pub field: String,
    pub message: String,
}

impl OptionsError {
    pub fn at(field: &str, message: impl Into<String>) -> OptionsError {
        OptionsError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One file of a document: its name in the document's folder (for a document made of
/// one file per registry), or none; its bytes; and the mode it gets unless the file
/// entry gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocFile {
    pub name: Option<String>,
    pub bytes: Vec<u8>,
    pub mode: FileMode,
}

impl DocFile {
    /// A file that holds credentials, readable by its owner only.
    pub fn credentials(name: Option<String>, bytes: Vec<u8>) -> DocFile {
        DocFile {
            name,
            bytes,
            mode: FileMode::CREDENTIALS,
        }
    }

    /// The one file of a single-file document of credentials.
    pub fn one(bytes: Vec<u8>) -> Vec<DocFile> {
        vec![DocFile::credentials(None, bytes)]
    }
}

/// Every document kind, in the order messages list them.
pub static DOCUMENTS: [&dyn Kind; 21] = [
    &docker_config::DockerConfig,
    &dockercfg::Dockercfg,
    &containers_auth::ContainersAuth,
    &kubernetes_secret::KubernetesSecret,
    &rkt::RktAuth,
    &mesos::MesosArchive,
    &marathon::MARATHON_APP,
    &marathon::MARATHON_POD,
    &drone::DroneRegistry,
    &containerd_config::ContainerdConfig,
    &containerd_hosts::ContainerdHosts,
    &k3s::K3S,
    &k3s::RKE2,
    &talos::Talos,
    &registries_conf::RegistriesConf,
    &certs_d::CertsD,
    &crio_config::CrioConfig,
    &kubelet_config::KubeletConfig,
    &kubelet_credential_provider::KubeletCredentialProvider,
    &gitlab::GitlabDockerAuthConfig,
    &nomad::NomadDockerPlugin,
];

/// A document kind, as the inventory names it.
pub type DocumentKind = &'static dyn Kind;

/// The kind the inventory's `name` spells, or a message listing the known ones.
pub fn lookup(name: &str) -> Result<DocumentKind, String> {
    DOCUMENTS
        .iter()
        .find(|k| k.name() == name)
        .copied()
        .ok_or_else(|| format!("unknown document `{name}`; accepted: {}", accepted()))
}

/// Every kind's name, for messages.
pub fn accepted() -> String {
    DOCUMENTS.map(|k| k.name()).join(", ")
}

/// The kinds that read the options block `key`, as a sentence lists them.
pub fn reading(key: &str) -> String {
    sentence(
        DOCUMENTS
            .iter()
            .filter(|k| k.options_key() == Some(key))
            .map(|k| k.name()),
    )
}

/// The keys of every kind's options block, each once, in list order; worked out once,
/// as every target and file entry asks.
pub fn option_keys() -> &'static [&'static str] {
    static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut keys = Vec::new();
        for key in DOCUMENTS.iter().filter_map(|k| k.options_key()) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    });
    &KEYS
}

/// The kinds that read an options block, as a sentence lists them.
pub fn with_options() -> String {
    sentence(
        DOCUMENTS
            .iter()
            .filter(|k| k.options_key().is_some())
            .map(|k| k.name()),
    )
}

// Kinds are told apart by name: the inventory's spelling is unique (a unit test checks).
impl PartialEq for dyn Kind {
    fn eq(&self, other: &dyn Kind) -> bool {
        self.name() == other.name()
    }
}

impl Eq for dyn Kind {}

impl fmt::Debug for dyn Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for dyn Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A document kind with the options the inventory gave for it.
#[derive(Clone)]
pub struct DocumentSpec {
    kind: DocumentKind,
    options: Options,
}

impl fmt::Debug for DocumentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentSpec({})", self.kind)
    }
}

impl DocumentSpec {
    pub fn new(kind: DocumentKind, options: Options) -> DocumentSpec {
        DocumentSpec { kind, options }
    }

    /// Whether the document was given options (otherwise it is built from its kind and
    /// registries alone).
    pub fn has_options(&self) -> bool {
        !self.options.0.is::<()>()
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The files it expects the same target to place (`Kind::needs`).
    pub fn needs(&self) -> Vec<Need> {
        self.kind.needs(&self.options)
    }
}

/// A file a document points its consumer at, which the same target should place: CRI-O's
/// `global_auth_file`, where a `containers-auth` goes.
#[derive(Debug, PartialEq, Eq)]
pub struct Need {
    pub path: String,
    /// The documents that can be that file.
    pub documents: &'static [&'static str],
}

/// The bytes of one auth file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    /// For kinds made of one file per registry (rkt-auth): the file's name in its folder.
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
    /// The sha512 of `bytes`: an artifact's name and a config's `verification.hash`, and
    /// what fingerprints of configs hash instead of the bytes.
    pub hash: Sha512Hash,
    /// The mode the document gives the file, which a file entry's `mode` overrides.
    pub mode: FileMode,
}

#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct DocumentError {
    pub kind: DocumentKind,
    pub message: String,
}

/// Whether `kind` takes `registry` by its token: it refuses the helper, not a password.
pub fn token_instead(
    kind: DocumentKind,
    address: &RegistryAddress,
    credential: CredentialKind,
) -> bool {
    kind.refuses(address, credential).is_some()
        && kind.refuses(address, CredentialKind::Password).is_none()
}

fn takes_token(kind: DocumentKind, r: &RegistryCredential) -> bool {
    match &r.credential {
        Some(c @ Credential::Helper { token: Some(_), .. }) => {
            token_instead(kind, &r.address, CredentialKind::of(c))
        }
        _ => false,
    }
}

/// The registry as `kind` takes it: by its token, where it takes the token.
fn with_token(kind: DocumentKind, r: &RegistryCredential) -> RegistryCredential {
    let mut r = r.clone();
    if takes_token(kind, &r)
        && let Some(Credential::Helper {
            token: Some((username, token)),
            ..
        }) = r.credential.take()
    {
        r.credential = Some(Credential::Basic {
            username,
            password: token,
        });
    }
    r
}

/// Builds the file(s) of one document: one file for most kinds, one per registry for rkt-auth.
pub fn build(
    spec: &DocumentSpec,
    registries: &[RegistryCredential],
    at: Option<&str>,
) -> Result<Vec<Document>, DocumentError> {
    let kind = spec.kind;
    // A helper registry with a token reaches a document whose consumer runs no helper
    // as a login with that token.
    let registries: Cow<[RegistryCredential]> = if registries.iter().any(|r| takes_token(kind, r)) {
        Cow::Owned(registries.iter().map(|r| with_token(kind, r)).collect())
    } else {
        Cow::Borrowed(registries)
    };
    let registries = registries.as_ref();
    // A registry that brings nothing this document carries is not its business (the
    // inventory warned): a mirror-only registry has no entry in a docker config.
    // The inventory refused these where the document is named; `regforge document`
    // gets here without a target.
    if let Some(message) = registries.iter().find_map(|r| {
        let credential = CredentialKind::of(r.credential.as_ref()?);
        kind.refuses(&r.address, credential)
    }) {
        return Err(DocumentError { kind, message });
    }
    let carries = |r: &RegistryCredential| Part::of(r).iter().any(|p| kind.carries().contains(p));
    let carried: Cow<[RegistryCredential]> = if registries.iter().all(carries) {
        Cow::Borrowed(registries)
    } else {
        Cow::Owned(registries.iter().filter(|r| carries(r)).cloned().collect())
    };
    kind.build(&spec.options, &carried, at)
        .map(|files| {
            files
                .into_iter()
                .map(|f| Document {
                    kind,
                    file_name: f.name,
                    hash: Sha512Hash::of(&f.bytes),
                    bytes: f.bytes,
                    mode: f.mode,
                })
                .collect()
        })
        .map_err(|message| DocumentError { kind, message })
}

/// Names as a sentence lists them: "a", "a and b", "a, b and c".
fn sentence<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// A document's options block read as `T`, or `None` when it is absent; a problem names
/// the field under `key` it concerns.
fn read_block<T: serde::de::DeserializeOwned>(
    key: &str,
    block: Option<serde_yaml::Value>,
) -> Result<Option<T>, OptionsError> {
    let Some(block) = block else {
        return Ok(None);
    };
    serde_path_to_error::deserialize(block)
        .map(Some)
        .map_err(|e| {
            let path = e.path().to_string();
            OptionsError {
                field: match path.as_str() {
                    "." => key.to_string(),
                    path => format!("{key}.{path}"),
                },
                message: e.into_inner().to_string(),
            }
        })
}

/// The `auth` value every docker-style consumer reads: padded standard base64 of `user:password`.
pub fn basic_auth<'a>(username: &'a str, password: &'a str) -> BasicAuth<'a> {
    BasicAuth { username, password }
}

/// Base64 of `user:password`, encoded as it is written: a document serializes it
/// straight into its text, so a megabyte password is not held a second time as base64.
#[derive(Clone, Copy)]
pub struct BasicAuth<'a> {
    username: &'a str,
    password: &'a str,
}

impl fmt::Display for BasicAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::io::Write;
        /// The encoder's output (base64, so text) passed on to the formatter.
        struct Text<'f, 'g>(&'f mut fmt::Formatter<'g>);
        impl std::io::Write for Text<'_, '_> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                let text = std::str::from_utf8(bytes).map_err(std::io::Error::other)?;
                self.0.write_str(text).map_err(std::io::Error::other)?;
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let engine = &base64::engine::general_purpose::STANDARD;
        let mut encoder = base64::write::EncoderWriter::new(Text(f), engine);
        encoder
            .write_all(self.username.as_bytes())
            .and_then(|()| encoder.write_all(b":"))
            .and_then(|()| encoder.write_all(self.password.as_bytes()))
            .and_then(|()| encoder.finish().map(drop))
            .map_err(|_| fmt::Error)
    }
}

impl Serialize for BasicAuth<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Collects entries under their consumer keys, refusing two registries on one key:
/// a consumer would pick one of them at random.
fn keyed<'r, T>(
    registries: &'r [RegistryCredential],
    key: impl Fn(&'r RegistryCredential) -> String,
    entry: impl Fn(&'r RegistryCredential) -> Result<T, String>,
) -> Result<BTreeMap<String, T>, String> {
    let mut map = BTreeMap::new();
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for registry in registries {
        let k = key(registry);
        if let Some(first) = owners.insert(k.clone(), registry.address.to_string()) {
            return Err(format!(
                "registries {first} and {} both need the key {k}; this document cannot tell them apart, so render them in separate targets",
                registry.address
            ));
        }
        map.insert(k, entry(registry)?);
    }
    Ok(map)
}

/// Docker's own layout: tab indentation, map keys sorted, plus a final line break.
fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    to_json_indented(value, b"\t")
}

/// Indented JSON with a final line break; the files people read (rkt, Marathon) use two spaces.
fn to_json_indented<T: Serialize>(value: &T, indent: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut ser)
        .expect("documents serialise to JSON");
    out.push(b'\n');
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::credentials::{Credential, RegistryCredential, Secret, Tls};

    /// A registry with `credential` and nothing else.
    pub fn with(address: &str, credential: Option<Credential>) -> RegistryCredential {
        RegistryCredential {
            address: address.parse().unwrap(),
            credential,
            email: None,
            insecure: false,
            mirrors: Vec::new(),
            tls: Tls::default(),
        }
    }

    pub fn basic(address: &str, user: &str, password: &str) -> RegistryCredential {
        with(
            address,
            Some(Credential::Basic {
                username: user.into(),
                password: Secret::new(password.into()),
            }),
        )
    }

    pub fn helper(address: &str, helper: &str) -> RegistryCredential {
        with(
            address,
            Some(Credential::Helper {
                helper: helper.into(),
                aws: None,
                token: None,
            }),
        )
    }

    pub fn token(address: &str, user: &str, token: &str) -> RegistryCredential {
        with(
            address,
            Some(Credential::Token {
                username: user.into(),
                identity_token: Secret::new(token.into()),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `regforge schema` describes exactly the options blocks the documents read.
    #[test]
    fn a_document_has_an_options_schema_exactly_when_it_reads_options() {
        let mut generator = schemars::SchemaGenerator::default();
        for kind in DOCUMENTS {
            let schema = kind.options_schema(&mut generator);
            assert_eq!(kind.options_key().is_some(), schema.is_some(), "{kind}");
        }
    }

    #[test]
    fn basic_auth_is_padded_standard_base64() {
        // Values checked with `printf %s 'alice:p:ss w' | base64`.
        assert_eq!(
            basic_auth("alice", "p:ss w").to_string(),
            "YWxpY2U6cDpzcyB3"
        );
        assert_eq!(basic_auth("alice", "pw").to_string(), "YWxpY2U6cHc=");
        assert_eq!(
            basic_auth("myapp+deployment", "x").to_string(),
            "bXlhcHArZGVwbG95bWVudDp4"
        );
        // Longer than the encoder's buffer, and split across its chunks.
        let long = "p".repeat(10_000);
        assert_eq!(
            basic_auth("u", &long).to_string(),
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("u:{long}")
            )
        );
    }

    #[test]
    fn kinds_parse_and_list_what_is_accepted() {
        assert_eq!(lookup("dockercfg").unwrap().name(), "dockercfg");
        let mut names = DOCUMENTS.map(|k| k.name()).to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DOCUMENTS.len(), "names are unique");
        let err = lookup("kube").unwrap_err();
        assert_eq!(
            err,
            "unknown document `kube`; accepted: docker-config, dockercfg, containers-auth, kubernetes-secret, rkt-auth, mesos-archive, marathon-app, marathon-pod, drone-registry, containerd-config, containerd-hosts, k3s-registries, rke2-registries, talos, registries-conf, certs-d, crio-config, kubelet-config, kubelet-credential-provider, gitlab-docker-auth-config, nomad-docker-plugin"
        );
    }
}
