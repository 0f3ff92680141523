//! Validating the file entries of provisioning targets: paths, modes, owners and delivery.

use super::*;
use crate::documents;

impl Validator<'_> {
    pub(super) fn files(
        &mut self,
        at: &str,
        count: usize,
        format: TargetFormat,
        has_remote: bool,
    ) -> Result<Vec<FileSpec>, InventoryError> {
        if count == 0 {
            return self.error(
                &format!("{at}.files"),
                "a provisioning target places at least one file",
            );
        }
        let mut out: Vec<FileSpec> = Vec::with_capacity(count);
        let mut failed = false;
        for j in 0..count {
            let fat = format!("{at}.files[{j}]");
            // A bad entry does not hide the next one's problems.
            let read = self.map.read_entry::<RawFile>(&fat);
            let spec = match read.and_then(|(f, blocks)| {
                self.file(&fat, f, RawOptions::new(blocks), format, has_remote)
            }) {
                Ok(spec) => spec,
                Err(problem) => {
                    self.problems.push(problem);
                    failed = true;
                    continue;
                }
            };
            // A target places a handful of files: looked for one by one.
            if out.iter().any(|placed| placed.path == spec.path) {
                return self.error(
                    &format!("{fat}.path"),
                    format!("{} is placed twice in this target", spec.path),
                );
            }
            out.push(spec);
        }
        if failed {
            return Err(InventoryError::reported());
        }
        Ok(out)
    }

    pub(super) fn file(
        &mut self,
        at: &str,
        f: RawFile,
        options: RawOptions,
        format: TargetFormat,
        has_remote: bool,
    ) -> Result<FileSpec, InventoryError> {
        let document = match documents::lookup(&f.document) {
            Ok(kind) if !kind.placeable() => {
                return self.error(
                    &format!("{at}.document"),
                    format!("{kind} is not placed on a node: render it as a target of its own (`format: {kind}`)"),
                );
            }
            Ok(kind) => self.document_spec(at, kind, options, None)?,
            Err(msg) => return self.error(&format!("{at}.document"), msg),
        };
        let path_field = || format!("{at}.path");
        let path = match (f.path, document.kind().default_path()) {
            (Some(path), _) => path,
            (None, Some(standard)) => standard.to_string(),
            (None, None) => {
                return self.error(
                    at,
                    format!(
                        "missing field `path`: {} has no standard place on a node",
                        document.kind()
                    ),
                );
            }
        };
        if !path.starts_with('/') {
            return self.error(
                &path_field(),
                format!("`{path}` is relative; a file on the node needs an absolute path"),
            );
        }
        if path.ends_with('/')
            || path.split('/').any(|c| c == ".." || c == ".")
            || path.contains("//")
        {
            return self.error(
                &path_field(),
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
        if f.user.is_none() && path.starts_with("/home/") {
            self.warn(
                Rule::HomeWithoutUser,
                &path_field(),
                "the file is under /home but has no `user`, so it will belong to root",
            );
        }
        Ok(FileSpec {
            document,
            path,
            mode,
            user: f.user,
            group: f.group,
            delivery,
        })
    }

    pub(super) fn mode(
        &mut self,
        field: &str,
        raw: Option<&serde_yaml::Value>,
    ) -> Result<Option<FileMode>, InventoryError> {
        let Some(value) = raw else {
            return Ok(None);
        };
        let mode = match (self.map.scalar(field), value) {
            (Some(scalar), _) => FileMode::from_yaml(&scalar.text, scalar.plain),
            (None, serde_yaml::Value::Number(n)) => FileMode::from_yaml(&n.to_string(), true),
            (None, _) => Err("a mode is a number such as 0600".to_string()),
        };
        match mode {
            Ok(mode) => {
                if mode.shared() {
                    self.warn(Rule::SharedMode, field, format!("mode {mode} lets other users on the node read these credentials; 0600 keeps them to the owner"));
                }
                Ok(Some(mode))
            }
            Err(msg) => self.error(field, msg),
        }
    }

    pub(super) fn delivery(
        &self,
        at: &str,
        raw: Option<&str>,
        format: TargetFormat,
        has_remote: bool,
    ) -> Result<Delivery, InventoryError> {
        let field = || format!("{at}.delivery");
        let delivery = match raw.unwrap_or("inline") {
            "inline" => Delivery::Inline,
            "remote" => Delivery::Remote,
            "local" => Delivery::Local,
            other => {
                return self.error(
                    &field(),
                    format!("unknown delivery `{other}`; accepted: inline, remote, local"),
                );
            }
        };
        if let TargetFormat::Config(config) = format
            && let Some(why) = config.format.refuses(delivery)
        {
            return self.error(&field(), why);
        }
        match (delivery, format) {
            (Delivery::Remote, _) if !has_remote => self.error(
                &field(),
                "remote delivery needs the target's `remote.url`, the folder URL where the artifacts will be hosted",
            ),
            _ => Ok(delivery),
        }
    }
}
