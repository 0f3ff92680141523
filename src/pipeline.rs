//! The pipeline: the stages run in order for the selected targets, each handing typed values to the next.
//!
//! inventory → credentials (each used secret resolved once) → documents → delivery →
//! render → verify; the command layer writes, prints or compares what comes out.

use std::path::{Path, PathBuf};

use crate::credentials::{
    self, AwsKeys, ClientIdentity, Credential, CredentialError, EnvLookup, PemKind,
    RegistryCredential, Secret, Tls,
};
use crate::documents::{self, Document, DocumentSpec};
use crate::inventory::{self, Inventory, Login, Target, TargetFormat, TlsFiles};
use crate::model::{Memo, Sha512Hash};
use crate::output::OutputFile;
use crate::render::{self, RenderError};
use crate::{Error, delivery, formats, fsio, verify};

/// One rendered target: its file (or, for a document of one file per registry, its
/// folder of files) and the artifacts it refers to.
#[derive(Debug)]
pub struct RenderedTarget {
    pub name: String,
    pub files: Vec<OutputFile>,
    pub artifacts: Vec<Artifact>,
}

/// A document placed by reference, written beside the config: hosted for `remote`
/// delivery (with the URL nodes fetch it from), or for `butane --files-dir` (`local`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Under the output folder: `artifacts/<name>` or `files/<name>`.
    pub path: PathBuf,
    pub name: String,
    pub bytes: Vec<u8>,
    pub sha512: Sha512Hash,
    /// Where nodes fetch it: remote delivery only.
    pub url: Option<String>,
}

impl RenderedTarget {
    /// Every file the target writes, artifacts included, by path under the output folder.
    pub fn into_outputs(self) -> impl Iterator<Item = OutputFile> {
        let artifacts = self.artifacts.into_iter().map(|a| OutputFile {
            path: a.path,
            bytes: a.bytes,
        });
        self.files.into_iter().chain(artifacts)
    }
}

/// Validates inventory text (named `path` in messages; relative files from its folder)
/// and renders every target in memory, verified, as `render` would write them: each
/// file by its path under the output folder. For embedding, fuzzing and property tests.
pub fn render_text(
    path: &std::path::Path,
    text: &str,
    env: EnvLookup,
) -> Result<Vec<(PathBuf, Vec<u8>)>, Error> {
    let (inventory, _) = inventory::parse(path, text, inventory::Advice::Silent)?;
    let options = render::Options::default();
    Ok(render_targets(&inventory, &[], env, &options)?
        .into_iter()
        .flat_map(RenderedTarget::into_outputs)
        .map(|f| (f.path, f.bytes))
        .collect())
}

/// Renders the named targets (all when `names` is empty), fully in memory and verified.
pub fn render_targets(
    inventory: &Inventory,
    names: &[String],
    env: EnvLookup,
    options: &render::Options,
) -> Result<Vec<RenderedTarget>, Error> {
    render_with(inventory, names, env, options).map(|r| r.targets)
}

/// From this many targets on, rendering is spread over threads; below, a thread costs
/// more than it saves (a Terraform call renders one).
const PARALLEL_FROM: usize = 64;

/// Rendered targets, with the credentials resolved to make them.
#[derive(Debug)]
pub struct Rendering {
    pub targets: Vec<RenderedTarget>,
    /// Each registry the targets used, once, with its secrets resolved: what a
    /// `--check` diff must redact.
    pub credentials: Vec<RegistryCredential>,
}

/// Like `render_targets`, returning the resolved credentials too.
pub fn render_with(
    inventory: &Inventory,
    names: &[String],
    env: EnvLookup,
    options: &render::Options,
) -> Result<Rendering, Error> {
    let mut targets = Vec::new();
    let credentials = render_each(inventory, names, env, options, &mut |mut batch| {
        targets.append(&mut batch);
        Ok(())
    })?;
    Ok(Rendering {
        targets,
        credentials,
    })
}

/// How many targets are rendered before they are handed on: enough to keep every core
/// busy, few enough that a fleet's outputs are never all in memory at once.
const BATCH: usize = 1024;

/// Renders the selected targets in inventory order and hands them to `sink` a batch at
/// a time, so that memory does not grow with the fleet; returns each registry the
/// targets used, once, with its secrets resolved. Every secret is resolved before
/// anything is rendered, so a missing one fails the run before any output is made.
pub fn render_each(
    inventory: &Inventory,
    names: &[String],
    env: EnvLookup,
    options: &render::Options,
    sink: &mut dyn FnMut(Vec<RenderedTarget>) -> Result<(), Error>,
) -> Result<Vec<RegistryCredential>, Error> {
    let targets = select_targets(inventory, names)?;
    let mut resolver = Resolver::new(inventory, env);
    for target in &targets {
        resolver.resolve(&target.registries)?;
    }
    let resolved = resolver.cache;
    let template_env = render::environment();
    let shared = (targets.len() > 1).then(Shared::default);
    let render_all = |chunk: &[&Target]| {
        chunk
            .iter()
            .map(|target| {
                let registries = picked(&resolved, &target.registries);
                let rendered =
                    render_target(target, &registries, &template_env, shared.as_ref(), options);
                options.progress.tick();
                rendered
            })
            .collect::<Vec<_>>()
    };
    // Targets are independent: a large batch renders on every core, in contiguous
    // chunks joined in order, so the output (and the first error) is the same as serially.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for batch in targets.chunks(BATCH) {
        let rendered = if threads > 1 && batch.len() >= PARALLEL_FROM {
            std::thread::scope(|scope| {
                batch
                    .chunks(batch.len().div_ceil(threads))
                    .map(|chunk| scope.spawn(|| render_all(chunk)))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .flat_map(|handle| handle.join().expect("rendering a target does not panic"))
                    .collect::<Vec<_>>()
            })
        } else {
            render_all(batch)
        };
        sink(rendered.into_iter().collect::<Result<_, Error>>()?)?;
    }
    Ok(resolved.into_iter().flatten().collect())
}

/// What the targets of one render share, so that nodes with the same config are
/// rendered and read back once: only worth keeping for more than one target.
struct Shared {
    texts: render::Texts,
    verified: verify::Verified,
    /// Documents without options, by kind, the path they are placed at and the
    /// registries (by index) they carry: the nodes of a fleet mostly share theirs.
    documents: Memo<Vec<Document>>,
}

/// How many distinct documents a render keeps: a fleet has few; past this, documents
/// are built again rather than held.
const SHARED_DOCUMENTS: usize = 1024;

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            texts: render::Texts::default(),
            verified: verify::Verified::default(),
            documents: Memo::new(SHARED_DOCUMENTS),
        }
    }
}

fn render_target(
    target: &Target,
    registries: &[RegistryCredential],
    template_env: &minijinja::Environment,
    shared: Option<&Shared>,
    options: &render::Options,
) -> Result<RenderedTarget, Error> {
    let document = |spec: &DocumentSpec, at: Option<&str>| {
        let build = || {
            documents::build(spec, registries, at).map_err(|source| Error::Document {
                target: target.name.clone(),
                source,
            })
        };
        // Options have no fingerprint: a document that reads some is built every time.
        let Some(memo) = shared.filter(|_| !spec.has_options()).map(|s| &s.documents) else {
            return build();
        };
        let key = memo.fingerprint(&(spec.kind().name(), at, &target.registries));
        if let Some(built) = memo.get(key) {
            return Ok(built);
        }
        let built = build()?;
        memo.insert(key, built.clone());
        Ok(built)
    };
    let config = match (target.format, &target.document) {
        (TargetFormat::Config(config), _) => config,
        (TargetFormat::Document(kind), Some(spec)) => {
            let files = document(spec, None)?
                .into_iter()
                .map(|d| OutputFile {
                    path: formats::document::output_path(
                        &target.name,
                        kind.extension(),
                        d.file_name.as_deref(),
                    ),
                    bytes: d.bytes,
                })
                .collect();
            return Ok(RenderedTarget {
                name: target.name.clone(),
                files,
                artifacts: Vec::new(),
            });
        }
        (TargetFormat::Document(_), None) => unreachable!("a document target has its spec"),
    };
    let mut placed = Vec::new();
    for spec in target.files.iter() {
        let documents = document(&spec.document, Some(&spec.path))?;
        placed.extend(delivery::place(
            spec,
            documents,
            target.remote_url.as_deref(),
        ));
    }
    let directories = if config.format.declares_directories() {
        delivery::home_directories(&placed).map_err(|message| RenderError {
            target: target.name.clone(),
            message,
        })?
    } else {
        Vec::new()
    };
    let template = match target.template.as_deref() {
        Some((path, origin)) => {
            let source = std::fs::read_to_string(path).map_err(|e| RenderError {
                target: target.name.clone(),
                message: format!(
                    "{origin}: cannot read template {}: {}",
                    path.display(),
                    fsio::io_reason(&e)
                ),
            })?;
            render::Template::User {
                name: path.display().to_string(),
                source,
            }
        }
        None => render::Template::Builtin(shared.map(|s| &s.texts)),
    };
    let rendered = render::render(
        template_env,
        target,
        &placed,
        &directories,
        registries,
        template,
        options,
    )?;
    if !rendered.known {
        verify::verify_once(
            shared.map(|s| &s.verified),
            target,
            &rendered.text,
            &placed,
            &directories,
        )?;
    }
    let text = rendered.verified();
    let artifacts = placed
        .iter()
        .filter_map(|p| {
            let a = p.artifact.as_ref()?;
            Some(Artifact {
                path: PathBuf::from(a.folder).join(&a.name),
                name: a.name.clone(),
                bytes: p.document.bytes.clone(),
                sha512: p.document.hash.clone(),
                url: a.url.clone(),
            })
        })
        .collect();
    Ok(RenderedTarget {
        name: target.name.clone(),
        files: vec![OutputFile {
            path: format!("{}.{}", target.name, config.format.extension()).into(),
            bytes: text.into_bytes(),
        }],
        artifacts,
    })
}

fn select_targets<'a>(
    inventory: &'a Inventory,
    names: &[String],
) -> Result<Vec<&'a Target>, Error> {
    if names.is_empty() {
        if inventory.targets.is_empty() {
            return Err(Error::Input(format!(
                "{} defines no targets: nothing to render",
                inventory.path.display()
            )));
        }
        return Ok(inventory.targets.iter().collect());
    }
    names
        .iter()
        .map(|name| {
            inventory
                .targets
                .iter()
                .find(|t| &t.name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        inventory.targets.iter().map(|t| t.name.as_str()).collect();
                    Error::NotFound(format!(
                        "no target `{}` in {}; defined: {}",
                        crate::model::shown(name),
                        inventory.path.display(),
                        known.join(", ")
                    ))
                })
        })
        .collect()
}

/// Builds one document from all registries, or from those whose addresses are given.
pub fn build_document(
    inventory: &Inventory,
    spec: &DocumentSpec,
    addresses: &[String],
    env: EnvLookup,
) -> Result<Vec<Document>, Error> {
    let indexes = if addresses.is_empty() {
        (0..inventory.registries.len()).collect()
    } else {
        addresses
            .iter()
            .map(|a| {
                let wanted = a
                    .parse::<inventory::RegistryAddress>()
                    .map_err(|e| Error::Input(format!("--registry {a}: {e}")))?;
                inventory
                    .registries
                    .iter()
                    .position(|r| r.address.canonical() == wanted.canonical())
                    .ok_or_else(|| {
                        Error::NotFound(format!(
                            "no registry `{a}` in {}",
                            inventory.path.display()
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if indexes.is_empty() {
        return Err(Error::Input(format!(
            "{} defines no registries",
            inventory.path.display()
        )));
    }
    let mut resolver = Resolver::new(inventory, env);
    resolver.resolve(&indexes)?;
    let registries = picked(&resolver.cache, &indexes);
    // No target to name: the document and the registry it cannot carry say it all.
    documents::build(spec, &registries, None).map_err(|e| Error::Input(e.to_string()))
}

/// The registries at `indexes`, from a cache `Resolver::resolve` has filled for them.
fn picked(cache: &[Option<RegistryCredential>], indexes: &[usize]) -> Vec<RegistryCredential> {
    indexes
        .iter()
        .map(|&i| cache[i].clone().expect("resolved before use"))
        .collect()
}

/// Resolves each registry's secrets at most once, and only for registries that are used.
struct Resolver<'a> {
    inventory: &'a Inventory,
    env: EnvLookup<'a>,
    cache: Vec<Option<RegistryCredential>>,
}

impl<'a> Resolver<'a> {
    fn new(inventory: &'a Inventory, env: EnvLookup<'a>) -> Self {
        Resolver {
            inventory,
            env,
            cache: vec![None; inventory.registries.len()],
        }
    }

    /// The error with every secret resolved so far hidden: a failing program's stderr
    /// (shown, as the user's own tool talking) may repeat one.
    fn redacted(&self, mut error: CredentialError) -> CredentialError {
        let known: Vec<&RegistryCredential> = self.cache.iter().flatten().collect();
        let redactor = crate::output::redact::Redactor::new(
            known.iter().flat_map(|c| c.secrets()),
            known
                .iter()
                .filter_map(|c| c.credential.as_ref()?.username()),
        );
        error.message = redactor.redact(&error.message);
        error
    }

    /// Resolves the registries at `indexes` that are not resolved yet, into the cache.
    fn resolve(&mut self, indexes: &[usize]) -> Result<(), CredentialError> {
        let base = self
            .inventory
            .path
            .parent()
            .unwrap_or(std::path::Path::new(""));
        for &i in indexes {
            if self.cache[i].is_some() {
                continue;
            }
            let r = &self.inventory.registries[i];
            let credential = match &r.login {
                Some(login) => {
                    Some(credential(login, base, self.env).map_err(|e| self.redacted(e))?)
                }
                None => None,
            };
            self.cache[i] = Some(RegistryCredential {
                address: r.address.clone(),
                credential,
                email: r.email.clone(),
                insecure: r.insecure,
                mirrors: r.mirrors.clone(),
                tls: resolve_tls(&r.tls, base)?,
            });
        }
        Ok(())
    }
}

/// A login with its secrets resolved.
fn credential(login: &Login, base: &Path, env: EnvLookup) -> Result<Credential, CredentialError> {
    let secret = |source| credentials::resolve(source, base, env);
    Ok(match login {
        Login::Basic { username, password } => Credential::Basic {
            username: username.clone(),
            password: secret(password)?,
        },
        Login::Token {
            username,
            identity_token,
        } => Credential::Token {
            username: username.clone(),
            identity_token: secret(identity_token)?,
        },
        Login::Helper { helper, aws, token } => Credential::Helper {
            helper: helper.clone(),
            aws: match aws {
                Some((id, key)) => Some(AwsKeys {
                    access_key_id: secret(id)?,
                    secret_access_key: secret(key)?,
                }),
                None => None,
            },
            token: match token {
                Some((username, source)) => Some((username.to_string(), secret(source.as_ref())?)),
                None => None,
            },
        },
    })
}

/// A registry's TLS files, read and checked.
fn resolve_tls(files: &TlsFiles, base: &Path) -> Result<Tls, CredentialError> {
    let ca = match &files.ca {
        Some(ca) => Some(credentials::read_pem(ca, base, PemKind::Certificates)?),
        None => None,
    };
    let client = match &files.client {
        Some((cert, key)) => Some(ClientIdentity {
            certificate: credentials::read_pem(cert, base, PemKind::Certificates)?,
            key: Secret::new(credentials::read_pem(key, base, PemKind::PrivateKey)?),
        }),
        None => None,
    };
    Ok(Tls {
        ca,
        client,
        skip_verify: files.skip_verify,
    })
}

#[cfg(test)]
mod redaction;
mod streamed;

pub use streamed::{Stage, StreamedRender, render_streamed};

#[cfg(test)]
mod tests {
    use super::*;

    /// Targets of one render share a document only where its kind, its path on the node
    /// and its registries agree: each target renders as it does alone.
    #[test]
    fn a_shared_document_is_the_one_each_target_builds_alone() {
        let inventory = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nodes/regforge.yaml");
        let registries = "registries:
  - {address: a.example.com, username: u, password: pw-a, mirrors: [https://m.example.com], ca: {file: certs/registry-ca.pem}}
  - {address: b.example.com, username: v, password: pw-b}
targets:
";
        let target = |name: &str, registry: &str, hosts: &str| {
            format!(
                "  - {{name: {name}, format: cloud-config, registries: [{registry}], files: [{{document: docker-config, path: /etc/a.json}}, {{document: containerd-hosts, path: {hosts}}}]}}\n"
            )
        };
        let targets = [
            target("one", "a.example.com", "/etc/containerd/certs.d"),
            target("two", "a.example.com", "/etc/hosts.d"),
            target("three", "b.example.com", "/etc/containerd/certs.d"),
            target("four", "a.example.com", "/etc/containerd/certs.d"),
        ];
        let render = |targets: &str| {
            render_text(&inventory, &format!("{registries}{targets}"), &|_| None).unwrap()
        };
        let alone: Vec<_> = targets.iter().flat_map(|t| render(t)).collect();
        assert_eq!(render(&targets.concat()), alone);
    }
}
