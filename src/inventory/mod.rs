//! The inventory: parsing `regforge.yaml` and validating it into the model every later stage uses.

mod address;
mod locate;
mod login;
pub mod managed;
mod mode;
mod options;
mod raw;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

pub use address::RegistryAddress;
pub use locate::{Origin, SourceMap};
pub use mode::FileMode;

use crate::credentials::{SecretSource, io_reason};
use crate::documents::{DocumentKind, DocumentSpec};
use options::RawOptions;
pub use options::document_spec_from_cli;
use raw::{RawFile, RawInventory, RawRegistry, RawTarget};

#[derive(Debug)]
pub struct Inventory {
    pub path: PathBuf,
    pub registries: Vec<Registry>,
    pub targets: Vec<Target>,
    /// The file `regforge registry` keeps its registries in, when the inventory names one;
    /// its registries follow the hand-written ones in `registries`.
    pub managed_registries: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Registry {
    pub address: RegistryAddress,
    pub login: Login,
    pub email: Option<String>,
    pub insecure: bool,
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
    },
}

#[derive(Debug)]
pub struct Target {
    pub name: String,
    pub format: TargetFormat,
    /// What a document target writes (exactly when `format` is `Document`), with its options.
    pub document: Option<DocumentSpec>,
    /// Indexes into `Inventory::registries`, in inventory order.
    pub registries: Vec<usize>,
    pub files: Vec<FileSpec>,
    /// Artifact URL prefix for remote delivery; ends with `/`.
    pub remote_url: Option<String>,
    pub template: Option<(PathBuf, Origin)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetFormat {
    Butane(ButaneSpec),
    /// Ignition JSON for the spec the Butane variant and version translate to.
    Ignition(ButaneSpec),
    CloudConfig,
    Document(DocumentKind),
}

impl TargetFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TargetFormat::Butane(_) => "bu",
            TargetFormat::Ignition(_) => "ign",
            TargetFormat::CloudConfig => "yaml",
            TargetFormat::Document(kind) => kind.extension(),
        }
    }

    pub fn places_files(self) -> bool {
        !matches!(self, TargetFormat::Document(_))
    }

    /// The variant and version of the formats that end up as Ignition (butane, ignition).
    pub fn butane_spec(self) -> Option<ButaneSpec> {
        match self {
            TargetFormat::Butane(spec) | TargetFormat::Ignition(spec) => Some(spec),
            _ => None,
        }
    }
}

/// A Butane variant and version, with the Ignition spec it translates to (FORMATS.md §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ButaneSpec {
    pub variant: &'static str,
    pub version: &'static str,
    pub ignition: &'static str,
}

pub const BUTANE_SPECS: [ButaneSpec; 4] = [
    ButaneSpec {
        variant: "flatcar",
        version: "1.0.0",
        ignition: "3.3.0",
    },
    ButaneSpec {
        variant: "flatcar",
        version: "1.1.0",
        ignition: "3.4.0",
    },
    ButaneSpec {
        variant: "fcos",
        version: "1.4.0",
        ignition: "3.3.0",
    },
    ButaneSpec {
        variant: "fcos",
        version: "1.5.0",
        ignition: "3.4.0",
    },
];

#[derive(Debug)]
pub struct FileSpec {
    pub document: DocumentSpec,
    pub path: String,
    pub mode: FileMode,
    pub user: Option<String>,
    pub group: Option<String>,
    pub delivery: Delivery,
}

impl FileSpec {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Inline,
    Remote,
    Local,
}

impl Delivery {
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Inline => "inline",
            Delivery::Remote => "remote",
            Delivery::Local => "local",
        }
    }
}

/// Something worth telling the user that does not stop the run.
#[derive(Debug)]
pub struct Warning {
    pub origin: Origin,
    pub message: String,
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
}

/// Reads and validates the inventory at `path`.
pub fn load(path: &Path) -> Result<(Inventory, Vec<Warning>), InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|e| InventoryError::Read {
        path: path.to_path_buf(),
        reason: io_reason(&e),
    })?;
    parse(path, &text)
}

/// Validates inventory text; `path` names it in messages and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<(Inventory, Vec<Warning>), InventoryError> {
    // Two independent reads of the same text: the positions for messages are indexed on a
    // second thread while serde builds the values (about half of a large inventory's load).
    let (map, raw) = std::thread::scope(|scope| {
        let map = scope.spawn(|| SourceMap::build(path, text));
        let raw = serde_yaml::from_str::<RawInventory>(text);
        (
            map.join().expect("indexing the inventory does not panic"),
            raw,
        )
    });
    let raw = raw.map_err(|e| serde_error(&map, &e))?;
    let mut v = Validator {
        map: &map,
        base_dir: path.parent().unwrap_or(Path::new("")),
        warnings: Vec::new(),
    };
    let mut registries = v.registries(raw.registries)?;
    let managed_registries = match &raw.managed_registries {
        Some(declared) => Some(managed::load_into(
            path,
            &map,
            declared,
            &mut registries,
            &mut v.warnings,
        )?),
        None => None,
    };
    let targets = v.targets(raw.targets, &registries)?;
    let inventory = Inventory {
        path: path.to_path_buf(),
        registries,
        targets,
        managed_registries,
    };
    Ok((inventory, v.warnings))
}

fn serde_error(map: &SourceMap, e: &serde_yaml::Error) -> InventoryError {
    let text = without_positions(&e.to_string());
    let message = text.as_str();
    let (field, message) = match message.split_once(": ") {
        Some((field, rest)) if !field.contains(' ') => (field.trim_start_matches('.'), rest),
        _ => ("", message),
    };
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    InventoryError::Invalid {
        origin: Origin {
            file: map.file().clone(),
            line,
            column,
            field: field.to_string(),
        },
        message: message.to_string(),
    }
}

/// serde_yaml writes positions into its messages (" at line L column C"); the
/// origin carries the position in front instead, so drop them from the text.
fn without_positions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" at line ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + " at line ".len()..];
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let line_len = digits(tail);
        match tail[line_len..].strip_prefix(" column ") {
            Some(col) if line_len > 0 && digits(col) > 0 => rest = &col[digits(col)..],
            _ => {
                out.push_str(" at line ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

struct Validator<'a> {
    map: &'a SourceMap,
    base_dir: &'a Path,
    warnings: Vec<Warning>,
}

impl Validator<'_> {
    fn error<T>(&self, field: &str, message: impl Into<String>) -> Result<T, InventoryError> {
        Err(InventoryError::Invalid {
            origin: self.map.origin(field),
            message: message.into(),
        })
    }

    fn warn(&mut self, field: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            origin: self.map.origin(field),
            message: message.into(),
        });
    }

    fn registries(&mut self, raw: Vec<RawRegistry>) -> Result<Vec<Registry>, InventoryError> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
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
            let (email, insecure) = (r.email.clone(), r.insecure);
            let login = self.login(&at, &address, r)?;
            out.push(Registry {
                address,
                login,
                email,
                insecure,
            });
        }
        Ok(out)
    }

    fn targets(
        &mut self,
        raw: Vec<RawTarget>,
        registries: &[Registry],
    ) -> Result<Vec<Target>, InventoryError> {
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        for (i, t) in raw.into_iter().enumerate() {
            let at = format!("targets[{i}]");
            let valid_name = t
                .name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
                && t.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !valid_name {
                return self.error(
                    &format!("{at}.name"),
                    "a target name is a file name: letters, digits, `.`, `_`, `-`",
                );
            }
            if !names.insert(t.name.clone()) {
                return self.error(
                    &format!("{at}.name"),
                    format!("target `{}` is defined twice", t.name),
                );
            }
            out.push(self.target(&at, t, registries)?);
        }
        Ok(out)
    }

    fn target(
        &mut self,
        at: &str,
        t: RawTarget,
        registries: &[Registry],
    ) -> Result<Target, InventoryError> {
        let format = self.format(at, &t)?;
        let selected = self.select(at, t.registries, registries)?;
        if t.remote.is_some() && format.butane_spec().is_none() {
            return self.error(
                &format!("{at}.remote"),
                "`remote` is for butane and ignition targets, the only formats that fetch artifacts",
            );
        }
        let remote_url = match t.remote {
            Some(remote) => Some(self.remote_url(&format!("{at}.remote.url"), remote.url)?),
            None => None,
        };
        let files = match (t.files, format.places_files()) {
            (Some(files), true) => self.files(at, files, format, remote_url.is_some())?,
            (None, true) => return self.error(at, "missing field `files`: a provisioning target places documents on a node"),
            (Some(_), false) => {
                return self.error(&format!("{at}.files"), "`files` is for butane, ignition and cloud-config targets; a document target writes the document itself")
            }
            (None, false) => Vec::new(),
        };
        let options = RawOptions {
            secret: t.secret,
            rkt: t.rkt,
            marathon: t.marathon,
        };
        let document = match format {
            TargetFormat::Document(kind) => {
                Some(self.document_spec(at, kind, options, Some(&t.name))?)
            }
            _ => {
                for (key, given) in [
                    ("secret", options.secret.is_some()),
                    ("rkt", options.rkt.is_some()),
                    ("marathon", options.marathon.is_some()),
                ] {
                    if given {
                        return self.error(
                            &format!("{at}.{key}"),
                            format!("`{key}` belongs on the file entry that places the document"),
                        );
                    }
                }
                None
            }
        };
        let template = t.template.map(|p| {
            (
                self.base_dir.join(p),
                self.map.origin(&format!("{at}.template")),
            )
        });
        if template.is_some() && !format.places_files() {
            return self.error(
                &format!("{at}.template"),
                "`template` is for butane, ignition and cloud-config targets",
            );
        }
        Ok(Target {
            name: t.name,
            format,
            document,
            registries: selected,
            files,
            remote_url,
            template,
        })
    }

    fn format(&self, at: &str, t: &RawTarget) -> Result<TargetFormat, InventoryError> {
        let format = match t.format.as_str() {
            "butane" => TargetFormat::Butane(self.butane_spec(at, t)?),
            "ignition" => TargetFormat::Ignition(self.butane_spec(at, t)?),
            "cloud-config" => TargetFormat::CloudConfig,
            other => match other.parse::<DocumentKind>() {
                Ok(kind) => TargetFormat::Document(kind),
                Err(_) => {
                    return self.error(
                        &format!("{at}.format"),
                        format!(
                            "unknown format `{other}`; accepted: butane, ignition, cloud-config, {}",
                            DocumentKind::accepted()
                        ),
                    );
                }
            },
        };
        if format.butane_spec().is_none() {
            for (field, value) in [("variant", &t.variant), ("version", &t.version)] {
                if value.is_some() {
                    return self.error(
                        &format!("{at}.{field}"),
                        format!("`{field}` is only for butane and ignition targets"),
                    );
                }
            }
        }
        Ok(format)
    }

    /// The Butane variant and version of a butane or ignition target (`t.format`).
    fn butane_spec(&self, at: &str, t: &RawTarget) -> Result<ButaneSpec, InventoryError> {
        let format = &t.format;
        let (Some(variant), Some(version)) = (&t.variant, &t.version) else {
            return self.error(
                at,
                format!(
                    "`format: {format}` needs `variant` and `version`; supported: {}",
                    butane_specs()
                ),
            );
        };
        match BUTANE_SPECS
            .iter()
            .find(|s| s.variant == variant && s.version == version)
        {
            Some(spec) => Ok(*spec),
            None => {
                let field = if BUTANE_SPECS.iter().any(|s| s.variant == variant) {
                    "version"
                } else {
                    "variant"
                };
                self.error(
                    &format!("{at}.{field}"),
                    format!(
                        "{format} {variant} {version} is not supported; supported: {}",
                        butane_specs()
                    ),
                )
            }
        }
    }

    fn select(
        &self,
        at: &str,
        wanted: Option<Vec<String>>,
        registries: &[Registry],
    ) -> Result<Vec<usize>, InventoryError> {
        let Some(wanted) = wanted else {
            if registries.is_empty() {
                return self.error(at, "the inventory has no registries for this target to use; add one under `registries`");
            }
            return Ok((0..registries.len()).collect());
        };
        let mut picked = BTreeSet::new();
        for (j, name) in wanted.iter().enumerate() {
            let field = format!("{at}.registries[{j}]");
            let found = name.parse::<RegistryAddress>().ok().and_then(|a| {
                registries
                    .iter()
                    .position(|r| r.address.canonical() == a.canonical())
            });
            match found {
                Some(index) => {
                    picked.insert(index);
                }
                None => {
                    let known: Vec<String> =
                        registries.iter().map(|r| r.address.to_string()).collect();
                    return self.error(
                        &field,
                        format!(
                            "no registry `{name}` in the inventory; defined: {}",
                            known.join(", ")
                        ),
                    );
                }
            }
        }
        if picked.is_empty() {
            return self.error(&format!("{at}.registries"), "the target selects no registries; name at least one, or leave `registries` out for all");
        }
        // Inventory order, whatever order the target lists them in.
        Ok(picked.into_iter().collect())
    }

    fn remote_url(&self, field: &str, url: String) -> Result<String, InventoryError> {
        const SCHEMES: [&str; 5] = ["http", "https", "tftp", "s3", "gs"];
        let scheme_ok = url
            .split_once("://")
            .is_some_and(|(s, rest)| SCHEMES.contains(&s) && !rest.is_empty());
        if !scheme_ok || url.chars().any(char::is_whitespace) {
            return self.error(
                field,
                format!(
                    "`{url}` is not a URL Ignition can fetch; use one of {}://",
                    SCHEMES.join("://, ")
                ),
            );
        }
        if !url.ends_with('/') {
            return self.error(field, format!("the artifact URL is this URL plus the artifact name, so it must end with `/`: write {url}/"));
        }
        Ok(url)
    }

    fn files(
        &mut self,
        at: &str,
        raw: Vec<RawFile>,
        format: TargetFormat,
        has_remote: bool,
    ) -> Result<Vec<FileSpec>, InventoryError> {
        if raw.is_empty() {
            return self.error(
                &format!("{at}.files"),
                "a provisioning target places at least one file",
            );
        }
        let mut paths = BTreeSet::new();
        let mut out = Vec::new();
        for (j, f) in raw.into_iter().enumerate() {
            let fat = format!("{at}.files[{j}]");
            let spec = self.file(&fat, f, format, has_remote)?;
            if !paths.insert(spec.path.clone()) {
                return self.error(
                    &format!("{fat}.path"),
                    format!("{} is placed twice in this target", spec.path),
                );
            }
            out.push(spec);
        }
        Ok(out)
    }

    fn file(
        &mut self,
        at: &str,
        f: RawFile,
        format: TargetFormat,
        has_remote: bool,
    ) -> Result<FileSpec, InventoryError> {
        let options = RawOptions {
            secret: f.secret,
            rkt: f.rkt,
            marathon: f.marathon,
        };
        let document = match f.document.parse::<DocumentKind>() {
            Ok(kind) => self.document_spec(at, kind, options, None)?,
            Err(msg) => return self.error(&format!("{at}.document"), msg),
        };
        let path_field = format!("{at}.path");
        if !f.path.starts_with('/') {
            return self.error(
                &path_field,
                format!(
                    "`{}` is relative; a file on the node needs an absolute path",
                    f.path
                ),
            );
        }
        if f.path.ends_with('/')
            || f.path.split('/').any(|c| c == ".." || c == ".")
            || f.path.contains("//")
        {
            return self.error(
                &path_field,
                "write a normalised absolute file path, without `.`, `..`, `//` or a trailing `/`",
            );
        }
        let mode = self.mode(&format!("{at}.mode"), f.mode.as_ref())?;
        for (field, name) in [("user", &f.user), ("group", &f.group)] {
            if let Some(name) = name
                && (name.is_empty() || name.contains(':') || name.chars().any(char::is_whitespace))
            {
                return self.error(
                    &format!("{at}.{field}"),
                    format!("`{name}` is not a {field} name"),
                );
            }
        }
        let delivery = self.delivery(at, f.delivery.as_deref(), format, has_remote)?;
        if f.user.is_none() && f.path.starts_with("/home/") {
            self.warn(
                &path_field,
                "the file is under /home but has no `user`, so it will belong to root",
            );
        }
        Ok(FileSpec {
            document,
            path: f.path,
            mode,
            user: f.user,
            group: f.group,
            delivery,
        })
    }

    fn mode(
        &mut self,
        field: &str,
        raw: Option<&serde_yaml::Value>,
    ) -> Result<FileMode, InventoryError> {
        let Some(value) = raw else {
            return Ok(FileMode::CREDENTIALS);
        };
        let mode = match (self.map.scalar(field), value) {
            (Some(scalar), _) => FileMode::from_yaml(&scalar.text, scalar.plain),
            (None, serde_yaml::Value::Number(n)) => FileMode::from_yaml(&n.to_string(), true),
            (None, _) => Err("a mode is a number such as 0600".to_string()),
        };
        match mode {
            Ok(mode) => {
                if mode.shared() {
                    self.warn(field, format!("mode {mode} lets other users on the node read these credentials; 0600 keeps them to the owner"));
                }
                Ok(mode)
            }
            Err(msg) => self.error(field, msg),
        }
    }

    fn delivery(
        &self,
        at: &str,
        raw: Option<&str>,
        format: TargetFormat,
        has_remote: bool,
    ) -> Result<Delivery, InventoryError> {
        let field = format!("{at}.delivery");
        let delivery = match raw.unwrap_or("inline") {
            "inline" => Delivery::Inline,
            "remote" => Delivery::Remote,
            "local" => Delivery::Local,
            other => {
                return self.error(
                    &field,
                    format!("unknown delivery `{other}`; accepted: inline, remote, local"),
                );
            }
        };
        match (delivery, format) {
            (Delivery::Remote, TargetFormat::CloudConfig) | (Delivery::Local, TargetFormat::CloudConfig) => self.error(
                &field,
                format!("cloud-config can only place files inline (coreos-cloudinit cannot fetch); `{}` needs a {} target", delivery.name(), if delivery == Delivery::Remote { "butane or ignition" } else { "butane" }),
            ),
            (Delivery::Local, TargetFormat::Ignition(_)) => self.error(
                &field,
                "`local` delivery is for butane targets (`butane --files-dir` inlines the file); an ignition target places it `inline` (a data: URL in the config) or `remote` (with the target's `remote.url`)",
            ),
            (Delivery::Remote, _) if !has_remote => self.error(
                &field,
                "remote delivery needs the target's `remote.url`, the folder URL where the artifacts will be hosted",
            ),
            _ => Ok(delivery),
        }
    }
}

fn butane_specs() -> String {
    BUTANE_SPECS
        .iter()
        .map(|s| format!("{} {}", s.variant, s.version))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions_are_dropped_from_parser_messages() {
        assert_eq!(
            super::without_positions(
                "did not find expected '-' indicator at line 3 column 4, while parsing a block collection at line 2 column 3"
            ),
            "did not find expected '-' indicator, while parsing a block collection"
        );
        assert_eq!(super::without_positions("x at line y"), "x at line y");
    }
}
