//! The inventory: parsing `regforge.yaml` and validating it into the model every later stage uses.

mod endpoints;
mod files;
mod locate;
mod login;
pub mod managed;
mod options;
mod raw;
mod schema;
mod stream;
mod targets;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::model::{Delivery, FileMode, MirrorUrl, Origin, RegistryAddress};
pub use locate::SourceMap;
pub use schema::schema;
pub use stream::Streamed;

use crate::credentials::{FileSource, SecretSource};
use crate::documents::{CredentialKind, DocumentKind, DocumentSpec, Part};
use crate::formats::{Format, Version};
use crate::fsio::io_reason;
use crate::yaml;
use options::RawOptions;
pub use options::document_spec_from_cli;
use raw::{RawFile, RawRegistry, RawTarget, RawTop};

#[derive(Debug)]
pub struct Inventory {
    pub path: PathBuf,
    /// Shared with the reader while targets stream (`stream`).
    pub registries: Arc<[Registry]>,
    pub targets: Vec<Target>,
    /// The file `regforge registry` keeps its registries in, when the inventory names one;
    /// its registries follow the hand-written ones in `registries`.
    pub managed_registries: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Registry {
    pub address: RegistryAddress,
    /// None for a registry that only brings mirrors or TLS settings.
    pub login: Option<Login>,
    pub email: Option<String>,
    pub insecure: bool,
    pub mirrors: Vec<MirrorUrl>,
    pub tls: TlsFiles,
}

impl Inventory {
    /// Every file regforge reads for this inventory: itself, its managed registries,
    /// secret and TLS files, templates. No output may replace one of them.
    pub fn inputs(&self) -> Vec<PathBuf> {
        let folder = self.path.parent().unwrap_or(Path::new(""));
        let mut out = vec![self.path.clone()];
        out.extend(self.managed_registries.clone());
        for r in self.registries.iter() {
            let secrets: Vec<&SecretSource> = match &r.login {
                Some(Login::Basic { password, .. }) => vec![password],
                Some(Login::Token { identity_token, .. }) => vec![identity_token],
                Some(Login::Helper { aws, token, .. }) => aws
                    .iter()
                    .flat_map(|(id, key)| [id, key])
                    .chain(token.iter().map(|(_, t)| t.as_ref()))
                    .collect(),
                None => Vec::new(),
            };
            for secret in secrets {
                match &secret.reference {
                    crate::credentials::SecretRef::File(path) => out.push(folder.join(path)),
                    crate::credentials::SecretRef::Age { file, identity } => {
                        out.push(folder.join(file));
                        out.push(folder.join(identity));
                    }
                    _ => {}
                }
            }
            let tls = &r.tls;
            let files = tls
                .ca
                .iter()
                .chain(tls.client.iter().flat_map(|(c, k)| [c, k]));
            out.extend(files.map(|f| folder.join(&f.path)));
        }
        out.extend(
            self.targets
                .iter()
                .filter_map(|t| Some(t.template.as_ref()?.0.clone())),
        );
        out
    }
}

impl Registry {
    /// What it brings besides its address, for the documents that carry only part of it.
    pub fn parts(&self) -> Vec<Part> {
        Part::present([
            self.login.is_some(),
            !self.mirrors.is_empty(),
            self.tls.ca.is_some(),
            self.tls.client.is_some(),
            self.tls.skip_verify,
        ])
    }
}

/// The TLS files a registry names, unread.
#[derive(Debug, Default)]
pub struct TlsFiles {
    pub ca: Option<FileSource>,
    /// The client certificate and its key.
    pub client: Option<(FileSource, FileSource)>,
    pub skip_verify: bool,
}

/// How a registry is logged in to, with secrets still unresolved.
#[derive(Debug)]
pub enum Login {
    Basic {
        username: String,
        password: SecretSource,
    },
    Token {
        username: String,
        identity_token: SecretSource,
    },
    Helper {
        helper: String,
        /// AWS access key id and secret key, for Drone's ECR password refresh.
        aws: Option<(SecretSource, SecretSource)>,
        /// A short-lived token and its username, for documents whose consumer runs no
        /// helper.
        token: Option<(&'static str, Box<SecretSource>)>,
    },
}

impl Login {
    /// The kind of credential, which decides the documents that can carry it.
    pub fn kind(&self) -> CredentialKind {
        match self {
            Login::Basic { .. } => CredentialKind::Password,
            Login::Token { .. } => CredentialKind::IdentityToken,
            Login::Helper { aws, .. } => CredentialKind::Helper {
                aws_keys: aws.is_some(),
            },
        }
    }

    /// Whether a helper login also brings a token that documents without helpers take.
    pub fn has_token(&self) -> bool {
        matches!(self, Login::Helper { token: Some(_), .. })
    }
}

#[derive(Debug)]
pub struct Target {
    pub name: String,
    pub format: TargetFormat,
    /// What a document target writes (exactly when `format` is `Document`), with its options.
    pub document: Option<DocumentSpec>,
    /// Indexes into `Inventory::registries`, in inventory order.
    pub registries: Arc<[usize]>,
    pub files: Arc<[FileSpec]>,
    /// Artifact URL prefix for remote delivery; ends with `/`.
    pub remote_url: Option<Arc<str>>,
    pub template: Option<Box<(PathBuf, Origin)>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetFormat {
    /// A provisioning config that places documents on a node (`formats::FORMATS`).
    Config(Config),
    /// A document written as the target's own output (`formats::document`).
    Document(DocumentKind),
}

/// A provisioning format and the variant and version a target chose of it.
#[derive(Clone, Copy)]
pub struct Config {
    pub format: &'static dyn Format,
    pub version: Option<&'static Version>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("format", &self.format.name())
            .field("version", &self.version)
            .finish()
    }
}

impl PartialEq for Config {
    fn eq(&self, other: &Config) -> bool {
        self.format.name() == other.format.name() && self.version == other.version
    }
}

impl Eq for Config {}

impl TargetFormat {
    pub fn places_files(self) -> bool {
        !matches!(self, TargetFormat::Document(_))
    }

    /// Whether the node fetches artifacts, so that the target may give `remote.url`.
    pub fn fetches(self) -> bool {
        match self {
            TargetFormat::Config(config) => config.format.fetches(),
            TargetFormat::Document(_) => false,
        }
    }
}

#[derive(Debug)]
pub struct FileSpec {
    pub document: DocumentSpec,
    pub path: String,
    /// The entry's `mode`; without one, each file gets the mode its document gives it.
    pub mode: Option<FileMode>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub delivery: Delivery,
}

impl FileSpec {
    /// Whether the entries place the same document the same way: those with options
    /// (which do not compare) never are.
    fn same_as(&self, other: &FileSpec) -> bool {
        !self.document.has_options()
            && !other.document.has_options()
            && self.document.kind() == other.document.kind()
            && (
                &self.path,
                self.mode,
                &self.user,
                &self.group,
                self.delivery,
            ) == (
                &other.path,
                other.mode,
                &other.user,
                &other.group,
                other.delivery,
            )
    }

    /// cloud-config's `owner`: `user:group`, `user`, or `:group` (keep the user, set the group).
    pub fn owner(&self) -> Option<String> {
        match (&self.user, &self.group) {
            (Some(u), Some(g)) => Some(format!("{u}:{g}")),
            (Some(u), None) => Some(u.clone()),
            (None, Some(g)) => Some(format!(":{g}")),
            (None, None) => None,
        }
    }
}

/// Something worth telling the user that does not stop the run.
#[derive(Debug)]
pub struct Warning {
    pub origin: Origin,
    pub rule: Rule,
    pub message: String,
}

/// The lint rule behind a warning: its name in `regforge check` findings, so CI can
/// count or look up one kind of warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    LiteralSecret,
    SharedMode,
    HomeWithoutUser,
    SkipVerify,
    ExpiringToken,
    StaticEcrPassword,
    PlainArtifactUrl,
    LeftOut,
    UnplacedCompanion,
    DocumentAdvice,
    InlineUserData,
    MirrorLogin,
    Insecure,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::LiteralSecret => "literal-secret",
            Rule::SharedMode => "shared-mode",
            Rule::HomeWithoutUser => "home-without-user",
            Rule::SkipVerify => "skip-verify",
            Rule::ExpiringToken => "expiring-token",
            Rule::StaticEcrPassword => "static-ecr-password",
            Rule::PlainArtifactUrl => "plain-artifact-url",
            Rule::LeftOut => "left-out",
            Rule::UnplacedCompanion => "unplaced-companion",
            Rule::DocumentAdvice => "document-advice",
            Rule::InlineUserData => "inline-user-data",
            Rule::MirrorLogin => "mirror-login",
            Rule::Insecure => "insecure",
        }
    }

    /// Whether only `regforge check` reports it: advice about a default choice (inline
    /// delivery) or about `regforge registry` alone (`insecure`) would otherwise repeat
    /// on every render.
    pub fn check_only(self) -> bool {
        matches!(self, Rule::InlineUserData | Rule::Insecure)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read inventory {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{origin}: {message}")]
    Invalid { origin: Origin, message: String },
    /// Several entries' problems, in the order they are written: validation goes on
    /// to the next registry or target after a problem, so one run reports them all.
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Problems { problems: Vec<InventoryError> },
}

impl InventoryError {
    /// A problem that follows from one reported already (a target naming a registry
    /// that had a problem of its own): it is not reported again.
    fn reported() -> InventoryError {
        InventoryError::Problems {
            problems: Vec::new(),
        }
    }

    fn is_reported(&self) -> bool {
        matches!(self, InventoryError::Problems { problems } if problems.is_empty())
    }

    /// Each problem on its own: several for `Problems`, else this one.
    pub fn each(&self) -> Vec<&InventoryError> {
        match self {
            InventoryError::Problems { problems } => problems.iter().collect(),
            other => vec![other],
        }
    }

    /// The problems found, one error: none, one, or several in line order.
    fn gather(mut problems: Vec<InventoryError>) -> Result<(), InventoryError> {
        let place = |e: &InventoryError| match e {
            InventoryError::Invalid { origin, .. } => (origin.line, origin.column),
            _ => (0, 0),
        };
        problems.sort_by_key(place);
        match problems.len() {
            0 => Ok(()),
            1 => Err(problems.remove(0)),
            _ => Err(InventoryError::Problems { problems }),
        }
    }
}

/// The largest inventory read: 100,000 targets take about 34 MiB.
pub const MAX_INVENTORY_BYTES: u64 = 256 << 20;

/// Which warnings a reading of the inventory gathers. Some rules warn once per target,
/// which at a fleet's scale costs time and memory: a command asks only for those it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    /// Every rule: `regforge check`.
    All,
    /// All but the check-only rules: commands that show warnings beside their work.
    Shown,
    /// None: Terraform's call and in-memory renders, which show no warnings.
    Silent,
}

impl Advice {
    fn wants(self, rule: Rule) -> bool {
        match self {
            Advice::All => true,
            Advice::Shown => !rule.check_only(),
            Advice::Silent => false,
        }
    }
}

/// Reads and validates the inventory at `path`, with the warnings `advice` asks for.
pub fn load(path: &Path, advice: Advice) -> Result<(Inventory, Vec<Warning>), InventoryError> {
    validate_text(path, &read_text(path)?, advice)
}

/// Reads the inventory at `path` as a stream, handing `send` its head and then each
/// target as soon as it is valid: for a render that works while the rest is read.
/// `None` when it must be read whole with [`load`], which reports any problem; what
/// was sent is then to be dropped (see `stream::streamed`).
pub fn stream(
    path: &Path,
    advice: Advice,
    send: &mut dyn FnMut(Streamed) -> bool,
) -> Option<Vec<Warning>> {
    // Read a line at a time: a fleet's text (34 MB for 100,000 targets) is never held.
    let file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    if size > MAX_INVENTORY_BYTES {
        return None;
    }
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let (chars, failure) = yaml::LineChars::new(reader, MAX_INVENTORY_BYTES);
    let limits = yaml::Limits::for_length(usize::try_from(size).ok()?);
    let warnings = stream::streamed(
        path,
        yaml::Stream::from_chars(chars, limits, stream::TARGETS),
        advice,
        send,
    )?;
    // Text that ended early is not the inventory, however well it read.
    (!failure.failed()).then_some(warnings)
}

/// The inventory's text, refused past [`MAX_INVENTORY_BYTES`] or when not UTF-8.
fn read_text(path: &Path) -> Result<String, InventoryError> {
    use std::io::Read;
    let fail = |reason: String| InventoryError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            // Sized up front: a growing buffer would double past a fleet's 34 MB text.
            let size = f
                .metadata()
                .map_or(0, |m| m.len().min(MAX_INVENTORY_BYTES + 1));
            bytes.reserve_exact(usize::try_from(size).unwrap_or(0));
            f.take(MAX_INVENTORY_BYTES + 1).read_to_end(&mut bytes)
        })
        .map_err(|e| fail(io_reason(&e)))?;
    if bytes.len() as u64 > MAX_INVENTORY_BYTES {
        return Err(fail(format!(
            "it is larger than {} MiB, the most regforge reads",
            MAX_INVENTORY_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
        fail(format!("line {line} is not valid UTF-8"))
    })
}

/// Validates inventory text; `path` names it in messages and anchors relative paths.
pub fn parse(
    path: &Path,
    text: &str,
    advice: Advice,
) -> Result<(Inventory, Vec<Warning>), InventoryError> {
    validate_text(path, text, advice)
}

/// The inventory `text` holds, read as a stream of targets when it validates that way,
/// else as a whole tree, which reports every problem.
fn validate_text(
    path: &Path,
    text: &str,
    advice: Advice,
) -> Result<(Inventory, Vec<Warning>), InventoryError> {
    refuse_blank(path, text)?;
    match stream::collected(path, text, advice) {
        Some(valid) => Ok(valid),
        None => validate(SourceMap::read(path, text)?, path, advice),
    }
}

/// An empty text is refused: a truncated or emptied file must not render nothing and
/// succeed.
fn refuse_blank(path: &Path, text: &str) -> Result<(), InventoryError> {
    let blank = |line: &str| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    };
    if text.lines().all(blank) {
        return Err(InventoryError::Read {
            path: path.to_path_buf(),
            reason: "it is empty; an inventory is a mapping with `registries` and `targets`".into(),
        });
    }
    Ok(())
}

/// The inventory the tree holds, with the warnings `advice` asks for.
fn validate(
    map: SourceMap,
    path: &Path,
    advice: Advice,
) -> Result<(Inventory, Vec<Warning>), InventoryError> {
    map.require_mapping(
        "the inventory",
        "it must be a mapping with `registries` and `targets`",
    )?;
    let raw: RawTop = map.deserialize()?;
    let mut v = Validator::new(map, path.parent().unwrap_or(Path::new("")), advice);
    let (registries, managed_registries) = v.all_registries(path, &raw)?;
    let mut names = BTreeSet::new();
    let targets = (0..raw.targets.len())
        .filter_map(|i| v.target_at(i, &registries, &mut names))
        .collect();
    InventoryError::gather(v.problems)?;
    let inventory = Inventory {
        path: path.to_path_buf(),
        registries: registries.into(),
        targets,
        managed_registries,
    };
    Ok((inventory, v.warnings))
}

struct Validator<'a> {
    map: SourceMap,
    base_dir: &'a Path,
    advice: Advice,
    warnings: Vec<Warning>,
    /// Problems of entries already passed; the next entry is validated all the same.
    problems: Vec<InventoryError>,
    /// Addresses of registries that had a problem: a target naming one is not blamed
    /// for it again.
    unusable: Vec<String>,
    /// The documents and registries (by index) a left-out warning was given for.
    left_out: BTreeSet<(&'static str, usize)>,
    /// The advice (`documents::Kind::advise`) already given, by document kind.
    advised: BTreeSet<(&'static str, String)>,
    repeats: stream::Repeats,
}

impl<'a> Validator<'a> {
    fn new(map: SourceMap, base_dir: &'a Path, advice: Advice) -> Validator<'a> {
        Validator {
            map,
            base_dir,
            advice,
            warnings: Vec::new(),
            problems: Vec::new(),
            unusable: Vec::new(),
            left_out: BTreeSet::new(),
            advised: BTreeSet::new(),
            repeats: stream::Repeats::default(),
        }
    }

    /// The registries written in the inventory, then those of the managed file it names;
    /// each problem is kept in `problems`, but the managed file's stop the reading.
    fn all_registries(
        &mut self,
        path: &Path,
        raw: &RawTop,
    ) -> Result<(Vec<Registry>, Option<PathBuf>), InventoryError> {
        let written: Vec<Option<RawRegistry>> = (0..raw.registries.len())
            .map(|i| self.read(&format!("registries[{i}]")))
            .collect();
        let (mut registries, fields) = self.registries(written);
        let managed_registries = match &raw.managed_registries {
            Some(declared) => Some(managed::load_into(
                path,
                &self.map,
                declared,
                &mut registries,
                &mut self.warnings,
                self.advice,
            )?),
            None => None,
        };
        self.mirror_logins(&registries, &fields);
        Ok((registries, managed_registries))
    }

    fn error<T>(&self, field: &str, message: impl Into<String>) -> Result<T, InventoryError> {
        Err(InventoryError::Invalid {
            origin: self.map.origin(field),
            message: message.into(),
        })
    }

    /// The target or file entry at `field` as written, with its options blocks, or
    /// `None` with its problem kept.
    fn read_entry<T: serde::de::DeserializeOwned>(
        &mut self,
        field: &str,
    ) -> Option<(T, RawOptions)> {
        match self.map.read_entry(field) {
            Ok((value, blocks)) => Some((value, RawOptions::new(blocks))),
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    /// The entry at `field` as written, or `None` with its problem kept.
    fn read<T: serde::de::DeserializeOwned>(&mut self, field: &str) -> Option<T> {
        match self.map.deserialize_at(field) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    fn warn(&mut self, rule: Rule, field: &str, message: impl Into<String>) {
        if !self.advice.wants(rule) {
            return;
        }
        self.warnings.push(Warning {
            origin: self.map.origin(field),
            rule,
            message: message.into(),
        });
    }

    /// The valid registries, and the index of each among `registries` as written; each
    /// problem is kept in `problems`.
    fn registries(&mut self, raw: Vec<Option<RawRegistry>>) -> (Vec<Registry>, Vec<usize>) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        let mut fields = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            let Some(r) = r else {
                // Unreadable: its problem is kept; a target naming it is not blamed.
                if let Some(address) = self.map.scalar(&format!("registries[{i}].address")) {
                    self.unusable.push(address.text);
                }
                continue;
            };
            let written = r.address.clone();
            match self.registry(i, r, &mut seen) {
                Ok(registry) => {
                    out.push(registry);
                    fields.push(i);
                }
                Err(problem) => {
                    self.problems.push(problem);
                    self.unusable.push(written);
                }
            }
        }
        (out, fields)
    }

    fn registry(
        &mut self,
        i: usize,
        mut r: RawRegistry,
        seen: &mut HashMap<String, usize>,
    ) -> Result<Registry, InventoryError> {
        let at = format!("registries[{i}]");
        let address: RegistryAddress = match r.address.parse() {
            Ok(a) => a,
            Err(msg) => return self.error(&format!("{at}.address"), msg),
        };
        if let Some(first) = seen.insert(address.canonical(), i) {
            return self.error(
                &format!("{at}.address"),
                format!("registry {address} is already defined at registries[{first}]; each registry appears once"),
            );
        }
        let mirrors = self.mirrors(&at, &address, &mut r)?;
        let tls = self.tls(&at, &mut r)?;
        let (email, insecure) = (r.email.clone(), r.insecure);
        if insecure {
            self.warn(
                Rule::Insecure,
                &format!("{at}.insecure"),
                "`regforge registry add` and `update` check this login without verifying the registry's certificate, so anyone on the path can read the password; pin the registry's CA with `--ca-cert` instead",
            );
        }
        let login = self.login(&at, &address, r)?;
        let registry = Registry {
            address,
            login,
            email,
            insecure,
            mirrors,
            tls,
        };
        if registry.parts().is_empty() {
            return self.error(
                &at,
                "the registry brings nothing: give username and password (or identity_token), or helper; or mirrors, ca or client_cert and client_key",
            );
        }
        Ok(registry)
    }
}
