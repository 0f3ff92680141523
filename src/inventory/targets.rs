//! Validating targets: names, formats with their Butane variant and version, registry selections, remote URLs.

use super::*;
use crate::{documents, formats};

impl Validator<'_> {
    /// The target at `targets[i]`, valid, or `None` with its problem kept in `problems`.
    pub(super) fn target_at(
        &mut self,
        i: usize,
        registries: &[Registry],
        names: &mut BTreeSet<String>,
    ) -> Option<Target> {
        // An unreadable target's problem is kept already.
        let (t, options) = self.read_entry(&format!("targets[{i}]"))?;
        match self.named_target(i, t, options, registries, names) {
            Ok(target) => Some(target),
            Err(problem) if problem.is_reported() => None,
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    fn named_target(
        &mut self,
        i: usize,
        t: RawTarget,
        options: RawOptions,
        registries: &[Registry],
        names: &mut BTreeSet<String>,
    ) -> Result<Target, InventoryError> {
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
        self.target(&at, t, options, registries)
    }

    pub(super) fn target(
        &mut self,
        at: &str,
        t: RawTarget,
        options: RawOptions,
        registries: &[Registry],
    ) -> Result<Target, InventoryError> {
        let format = self.format(at, &t)?;
        let selected = self.select(at, t.registries, registries)?;
        if t.remote.is_some() && !format.fetches() {
            return self.error(
                &format!("{at}.remote"),
                format!(
                    "`remote` is for {} targets, the only formats that fetch artifacts",
                    formats::names_where(|f| f.fetches())
                ),
            );
        }
        let remote_url = match t.remote {
            Some(remote) => Some(self.remote_url(&format!("{at}.remote.url"), remote.url)?),
            None => None,
        };
        let files = match (t.files, format.places_files()) {
            (Some(files), true) => self.files(at, files.len(), format, remote_url.is_some())?,
            (None, true) => {
                return self.error(
                    at,
                    "missing field `files`: a provisioning target places documents on a node",
                );
            }
            (Some(_), false) => {
                return self.error(
                    &format!("{at}.files"),
                    format!(
                        "`files` is for {} targets; a document target writes the document itself",
                        formats::names_where(|_| true)
                    ),
                );
            }
            (None, false) => Vec::new(),
        };
        let document = match format {
            TargetFormat::Document(kind) => {
                let mut options = options;
                if let (Some(version), Some(key)) = (t.version.clone(), kind.options_key())
                    && kind.takes_version()
                    && !options.give_version(key, version)
                {
                    return self.error(
                        &format!("{at}.{key}.version"),
                        "the version is given twice: keep the target's `version`",
                    );
                }
                Some(self.document_spec(at, kind, options, Some(&t.name))?)
            }
            _ => {
                if let Some(key) = options.first_key() {
                    return self.error(
                        &format!("{at}.{key}"),
                        format!("`{key}` belongs on the file entry that places the document"),
                    );
                }
                None
            }
        };
        let template = t.template.map(|p| {
            Box::new((
                self.base_dir.join(p),
                self.map.origin(&format!("{at}.template")),
            ))
        });
        if template.is_some() && !format.places_files() {
            return self.error(
                &format!("{at}.template"),
                format!(
                    "`template` is for {} targets",
                    formats::names_where(|_| true)
                ),
            );
        }
        self.carried(at, document.as_ref(), &files, &selected, registries)?;
        self.needed(at, &files);
        self.inline_secrets(at, &files, &selected, registries);
        Ok(Target {
            name: t.name,
            format,
            document,
            registries: self.repeats.registries(selected),
            files: self.repeats.files(files),
            remote_url: remote_url.map(|url| self.repeats.remote_url(url)),
            template,
        })
    }

    pub(super) fn format(&self, at: &str, t: &RawTarget) -> Result<TargetFormat, InventoryError> {
        if let Some(format) = formats::lookup(&t.format) {
            let version = if format.versions().is_empty() {
                self.no_version(at, t)?;
                None
            } else {
                Some(self.version(at, t, format.versions())?)
            };
            return Ok(TargetFormat::Config(Config { format, version }));
        }
        match documents::lookup(&t.format) {
            Ok(kind) => {
                if kind.takes_version() {
                    self.no_variant(at, t)?;
                } else {
                    self.no_version(at, t)?;
                }
                Ok(TargetFormat::Document(kind))
            }
            Err(_) => self.error(
                &format!("{at}.format"),
                format!(
                    "unknown format `{}`; accepted: {}, {}",
                    t.format,
                    formats::accepted(),
                    documents::accepted()
                ),
            ),
        }
    }

    /// Every selected registry is one that each of the target's documents can carry: a
    /// refusal names the document, the registry and why. What a document leaves out of a
    /// registry (a password in hosts.toml) is a warning, once per document and registry.
    fn carried(
        &mut self,
        at: &str,
        document: Option<&DocumentSpec>,
        files: &[FileSpec],
        selected: &[usize],
        registries: &[Registry],
    ) -> Result<(), InventoryError> {
        // Each field named only when something is said of it.
        let own = document.map(|d| (None, d.kind()));
        let placed = files
            .iter()
            .enumerate()
            .map(|(j, f)| (Some(j), f.document.kind()));
        for (file, kind) in own.into_iter().chain(placed) {
            let field = || match file {
                None => format!("{at}.format"),
                Some(j) => format!("{at}.files[{j}].document"),
            };
            for &i in selected {
                let r = &registries[i];
                if let Some(login) = &r.login
                    && let Some(why) = kind.refuses(&r.address, login.kind())
                    && !(login.has_token()
                        && documents::token_instead(kind, &r.address, login.kind()))
                {
                    return self.error(&field(), format!("{kind}: {why}"));
                }
                if let Some(warning) = documents::left_out(kind, &r.address, &r.parts())
                    && self.left_out.insert((kind.name(), i))
                {
                    self.warn(Rule::LeftOut, &field(), warning);
                }
            }
        }
        Ok(())
    }

    /// Each file a placed document points its consumer at is placed by the same target,
    /// or a warning says what the consumer will miss.
    fn needed(&mut self, at: &str, files: &[FileSpec]) {
        for (j, file) in files.iter().enumerate() {
            for need in file.document.needs() {
                let placed = files.iter().any(|f| {
                    f.path == need.path && need.documents.contains(&f.document.kind().name())
                });
                if !placed {
                    self.warn(
                        Rule::UnplacedCompanion,
                        &format!("{at}.files[{j}].document"),
                        format!(
                            "{} points its consumer at {}, where this target places no {}",
                            file.document.kind(),
                            need.path,
                            need.documents.join(" or ")
                        ),
                    );
                }
            }
        }
    }

    /// Warns about each document placed inline that carries a password, token or client
    /// key: a provisioning config is the node's user data, which cloud metadata services
    /// serve to every process on the node.
    fn inline_secrets(
        &mut self,
        at: &str,
        files: &[FileSpec],
        selected: &[usize],
        registries: &[Registry],
    ) {
        // One warning per file of every target: not worked out when it is not shown.
        if !self.advice.wants(Rule::InlineUserData) {
            return;
        }
        for (j, file) in files.iter().enumerate() {
            let kind = file.document.kind();
            let secret = selected
                .iter()
                .any(|&i| places_secret(kind, &registries[i]));
            if file.delivery == Delivery::Inline && secret {
                self.warn(
                    Rule::InlineUserData,
                    &format!("{at}.files[{j}].delivery"),
                    format!(
                        "{kind} goes inline into the node's user data, which cloud metadata services serve to every process on the node; `delivery: remote` from a URL only the nodes can reach keeps its secrets out of it"
                    ),
                );
            }
        }
    }

    /// A document that takes a version has no variant.
    fn no_variant(&self, at: &str, t: &RawTarget) -> Result<(), InventoryError> {
        if t.variant.is_some() {
            return self.error(
                &format!("{at}.variant"),
                format!("`{}` takes a `version` but no `variant`", t.format),
            );
        }
        Ok(())
    }

    /// A format without variants and versions refuses them.
    fn no_version(&self, at: &str, t: &RawTarget) -> Result<(), InventoryError> {
        for (field, value) in [("variant", &t.variant), ("version", &t.version)] {
            if value.is_some() {
                return self.error(
                    &format!("{at}.{field}"),
                    format!(
                        "`{field}` is only for {} targets",
                        formats::names_where(|f| !f.versions().is_empty())
                    ),
                );
            }
        }
        Ok(())
    }

    /// The variant and version a target chose, among those its format accepts.
    fn version(
        &self,
        at: &str,
        t: &RawTarget,
        versions: &'static [Version],
    ) -> Result<&'static Version, InventoryError> {
        let format = &t.format;
        let supported = || {
            versions
                .iter()
                .map(|s| format!("{} {}", s.variant, s.version))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (Some(variant), Some(version)) = (&t.variant, &t.version) else {
            return self.error(
                at,
                format!(
                    "`format: {format}` needs `variant` and `version`; supported: {}",
                    supported()
                ),
            );
        };
        if let Some(found) = versions
            .iter()
            .find(|s| s.variant == variant && s.version == version)
        {
            return Ok(found);
        }
        let field = if versions.iter().any(|s| s.variant == variant) {
            "version"
        } else {
            "variant"
        };
        self.error(
            &format!("{at}.{field}"),
            format!(
                "{format} {variant} {version} is not supported; supported: {}",
                supported()
            ),
        )
    }

    pub(super) fn select(
        &self,
        at: &str,
        wanted: Option<Vec<String>>,
        registries: &[Registry],
    ) -> Result<Vec<usize>, InventoryError> {
        let Some(wanted) = wanted else {
            if registries.is_empty() && !self.unusable.is_empty() {
                return Err(InventoryError::reported());
            }
            if registries.is_empty() {
                return self.error(at, "the inventory has no registries for this target to use; add one under `registries`");
            }
            return Ok((0..registries.len()).collect());
        };
        let mut picked = BTreeSet::new();
        let mut failed = false;
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
                // Its own problem is reported already.
                None if self.unusable.contains(name) => failed = true,
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
        if failed {
            return Err(InventoryError::reported());
        }
        if picked.is_empty() {
            return self.error(&format!("{at}.registries"), "the target selects no registries; name at least one, or leave `registries` out for all");
        }
        // Inventory order, whatever order the target lists them in.
        Ok(picked.into_iter().collect())
    }

    pub(super) fn remote_url(
        &mut self,
        field: &str,
        url: String,
    ) -> Result<String, InventoryError> {
        const SCHEMES: [&str; 5] = ["http", "https", "tftp", "s3", "gs"];
        let not_fetchable = || {
            self.error(
                field,
                format!(
                    "`{}` is not a URL Ignition can fetch; use one of {}:// with a host",
                    crate::model::shown(&url),
                    SCHEMES.join("://, ")
                ),
            )
        };
        let Ok(parsed) = url::Url::parse(&url) else {
            return not_fetchable();
        };
        // The written text must be the URL itself: `url` would quietly repair spaces or a
        // missing host, and nodes fetch exactly what the config says.
        let host_ok = parsed.host_str().is_some_and(|h| !h.is_empty());
        if !SCHEMES.contains(&parsed.scheme()) || !host_ok || url.chars().any(char::is_whitespace) {
            return not_fetchable();
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return self.error(
                field,
                "the artifact URL holds a user or password, which every node config would show; serve the artifacts without one (they are verified by sha512)",
            );
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return self.error(
                field,
                "the artifact URL is this URL plus the artifact name: it takes no query or fragment",
            );
        }
        if !url.ends_with('/') {
            return self.error(field, format!("the artifact URL is this URL plus the artifact name, so it must end with `/`: write {url}/"));
        }
        if matches!(parsed.scheme(), "http" | "tftp") {
            self.warn(
                Rule::PlainArtifactUrl,
                field,
                format!(
                    "nodes fetch the artifacts over plain {}: their sha512 keeps them from being changed, but anyone on the path can read the credentials in them; serve them over https://",
                    parsed.scheme()
                ),
            );
        }
        Ok(url)
    }
}

/// Whether a document of `kind` written for `registry` holds one of its secrets: a
/// password or identity token (a helper's short-lived token where the consumer runs no
/// helper), or a client key.
fn places_secret(kind: DocumentKind, registry: &Registry) -> bool {
    let carries = |part| kind.carries().contains(&part);
    let login = registry.login.as_ref().is_some_and(|login| match login {
        Login::Basic { .. } | Login::Token { .. } => true,
        Login::Helper { .. } => {
            login.has_token() && documents::token_instead(kind, &registry.address, login.kind())
        }
    });
    (carries(Part::Credential) && login)
        || (carries(Part::ClientCertificate) && registry.tls.client.is_some())
}
