//! Render: lays out provisioning configs with minijinja; every value comes from code.

use crate::yaml;

use std::hash::{Hash, Hasher};

use base64::Engine;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::credentials::{Credential, RegistryCredential};
use crate::data_url;
use crate::delivery::{Directory, PlacedFile};
use crate::inventory::{Config, FileMode, Target, TargetFormat};
use crate::model::{Fingerprint, Memo, Sha512Hash};

#[derive(Debug, thiserror::Error)]
#[error("target {target}: {message}")]
pub struct RenderError {
    pub target: String,
    pub message: String,
}

/// The template engine shared by all targets: strict about undefined values, no
/// auto-escaping for any file name (the outputs are YAML and JSON, not HTML; JSON values go
/// through `tojson`), block tags on their own lines vanish.
/// The most work one template may do for one target (minijinja's instructions): the
/// built-in templates need a few thousand; a user's loop over a huge range stops here
/// with an error instead of hanging a Terraform plan.
pub const TEMPLATE_FUEL: u64 = 10_000_000;

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    env.add_filter("b64encode", |v: Value| {
        bytes_of(&v).map(|b| base64::engine::general_purpose::STANDARD.encode(b))
    });
    env.add_filter("sha512", |v: Value| {
        bytes_of(&v).map(|b| Sha512Hash::of(&b).to_string())
    });
    env.add_filter("data_url", |v: Value| {
        bytes_of(&v).map(|b| data_url::encode(&b))
    });
    env.add_filter("yaml_string", |v: String, indent: Option<usize>| {
        yaml::scalar(&v, indent.unwrap_or(0))
    });
    // Compiled when first used: a Terraform call renders one target, and should not pay
    // for the templates of the others.
    env.set_loader(|name| Ok(builtin_template(name).map(str::to_owned)));
    env
}

fn builtin_template(name: &str) -> Option<&'static str> {
    crate::formats::lookup(name).map(|format| format.template())
}

fn bytes_of(v: &Value) -> Result<Vec<u8>, minijinja::Error> {
    if let Some(b) = v.as_bytes() {
        return Ok(b.to_vec());
    }
    v.as_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "expects a string or bytes",
        )
    })
}

/// Values the caller hands to user templates as `variables` (a JSON object; empty unless
/// `regforge terraform` was given some).
pub type Variables = serde_json::Map<String, serde_json::Value>;

#[derive(Serialize)]
struct Context<'a> {
    target: TargetContext<'a>,
    files: Vec<FileContext<'a>>,
    directories: Vec<DirectoryContext<'a>>,
    registries: Vec<RegistryContext>,
    variables: &'a Variables,
}

#[derive(Serialize)]
struct TargetContext<'a> {
    name: &'a str,
    format: &'static str,
    variant: Option<&'static str>,
    version: Option<&'static str>,
    ignition_version: Option<&'static str>,
}

#[derive(Serialize)]
struct ModeContext {
    octal: String,
    decimal: u32,
}

impl From<FileMode> for ModeContext {
    fn from(mode: FileMode) -> Self {
        ModeContext {
            octal: mode.to_string(),
            decimal: mode.bits(),
        }
    }
}

#[derive(Serialize)]
struct FileContext<'a> {
    path: &'a str,
    document: &'static str,
    mode: ModeContext,
    user: Option<&'a str>,
    group: Option<&'a str>,
    owner: Option<String>,
    overwrite: bool,
    delivery: &'static str,
    contents: Option<&'a str>,
    contents_base64: String,
    data_url: String,
    plain_text: bool,
    sha512: String,
    artifact: Option<&'a str>,
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct DirectoryContext<'a> {
    path: &'a str,
    mode: ModeContext,
    user: Option<&'a str>,
    group: Option<&'a str>,
}

#[derive(Serialize)]
struct RegistryContext {
    address: String,
    docker_key: String,
    username: Option<String>,
    email: Option<String>,
    insecure: bool,
    helper: Option<String>,
}

/// What the caller chooses about rendering: layout where the format leaves a choice,
/// values for user templates, and who hears of each rendered target.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Ignition JSON indented by two spaces instead of on one line.
    pub pretty: bool,
    /// Handed to templates as `variables` (`regforge terraform`); empty otherwise.
    pub variables: Variables,
    pub progress: Progress,
}

/// Called once per rendered target, from any rendering thread: the command layer's
/// progress bar. The library itself prints nothing.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<dyn Fn() + Send + Sync>>);

impl Progress {
    pub fn new(tick: impl Fn() + Send + Sync + 'static) -> Progress {
        Progress(Some(std::sync::Arc::new(tick)))
    }

    pub fn tick(&self) {
        if let Some(tick) = &self.0 {
            tick();
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}

/// A rendered config, exactly what is verified and written.
pub struct Rendered<'a> {
    pub text: String,
    /// The text came from `Texts`: it was verified when it was first rendered.
    pub known: bool,
    /// Where the text is kept once verified, for the targets after.
    keep: Option<(&'a Texts, Fingerprint)>,
}

impl Rendered<'_> {
    /// The text, kept for the targets that share it: call once it is verified, so that
    /// `Texts` holds only verified texts.
    pub fn verified(self) -> String {
        if let Some((Texts(memo), key)) = self.keep {
            memo.insert(key, self.text.clone());
        }
        self.text
    }
}

/// Renders one provisioning target with the built-in template, or with `user_template`
/// (its name for messages, and its source). The format then lays the text out where code
/// must (Ignition's JSON), so the text returned is exactly what is verified and written.
pub fn render<'a>(
    env: &Environment,
    target: &Target,
    files: &[PlacedFile],
    directories: &[Directory],
    registries: &[RegistryCredential],
    template: Template<'a>,
    options: &Options,
) -> Result<Rendered<'a>, RenderError> {
    let TargetFormat::Config(config) = target.format else {
        unreachable!("document targets are not templated")
    };
    let (user_template, texts) = match template {
        Template::User { name, source } => (Some((name, source)), None),
        // Variables come from Terraform, which renders one target: nothing to share.
        Template::Builtin(texts) if options.variables.is_empty() => (None, texts),
        Template::Builtin(_) => (None, None),
    };
    let key = texts.map(|Texts(memo)| {
        memo.fingerprint(&Inputs {
            config,
            pretty: options.pretty,
            files,
            directories,
            registries,
        })
    });
    if let (Some(Texts(memo)), Some(key)) = (texts, key)
        && let Some(text) = memo.get(key)
    {
        return Ok(Rendered {
            text,
            known: true,
            keep: None,
        });
    }
    let ctx = Value::from(minijinja::value::Serde(context(
        target,
        config,
        files,
        directories,
        registries,
        &options.variables,
    )));
    let fail = |e: minijinja::Error| RenderError {
        target: target.name.clone(),
        message: describe(&e),
    };
    let text = match user_template {
        Some((name, source)) => {
            // An owned copy of the environment, so messages can name the user's file.
            let mut env = env.clone();
            env.add_template_owned(name.clone(), source)
                .and_then(|()| env.get_template(&name)?.render(ctx))
                .map_err(fail)
        }
        None => env
            .get_template(config.format.name())
            .and_then(|t| t.render(ctx))
            .map_err(fail),
    }?;
    let text = config
        .format
        .lay_out(text, options.pretty)
        .map_err(|message| RenderError {
            target: target.name.clone(),
            message,
        })?;
    Ok(Rendered {
        text,
        known: false,
        keep: texts.zip(key),
    })
}

/// The template a target is rendered with.
pub enum Template<'a> {
    /// The format's own, with the texts it rendered already for other targets, if any.
    Builtin(Option<&'a Texts>),
    /// The target's `template:` file: its name for messages, and its source.
    User { name: String, source: String },
}

/// Configs the built-in templates rendered and that were verified, by everything those
/// templates read (a test holds them to not reading the target's name): a fleet's nodes
/// that share a config render it and read it back once.
#[derive(Debug)]
pub struct Texts(Memo<String>);

impl Default for Texts {
    fn default() -> Texts {
        // Enough for the roles of a fleet, few enough that memory stays flat when every
        // target differs.
        Texts(Memo::new(256))
    }
}

/// What a built-in template reads besides the target's name: the format and its
/// version, the layout, the placed files and directories, the registries.
struct Inputs<'a> {
    config: Config,
    pretty: bool,
    files: &'a [PlacedFile<'a>],
    directories: &'a [Directory],
    registries: &'a [RegistryCredential],
}

impl Hash for Inputs<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.config.format.name().hash(h);
        let version = self.config.version;
        version
            .map(|v| (v.variant, v.version, v.translates_to))
            .hash(h);
        self.pretty.hash(h);
        self.files.hash(h);
        self.directories.hash(h);
        self.registries.len().hash(h);
        for r in self.registries {
            // What `registry_context` makes of it, without making it: its address and
            // docker key come from the address, the rest are fields.
            r.address.hash(h);
            let login = match &r.credential {
                Some(Credential::Basic { username, .. } | Credential::Token { username, .. }) => {
                    (Some(username), None)
                }
                Some(Credential::Helper { helper, .. }) => (None, Some(helper)),
                None => (None, None),
            };
            login.hash(h);
            (&r.email, r.insecure).hash(h);
        }
    }
}

fn describe(e: &minijinja::Error) -> String {
    if e.kind() == minijinja::ErrorKind::TemplateNotFound {
        // The name is not shown: a template that includes a value (a document's
        // contents) as a template name would print the document, secrets and all.
        let place = match (e.name(), e.line()) {
            (Some(name), Some(line)) => format!(" (in {name}:{line})"),
            _ => String::new(),
        };
        return format!(
            "a template includes or extends a template regforge does not have; only the target's own template and the built-in ones exist{place}"
        );
    }
    if e.kind() == minijinja::ErrorKind::OutOfFuel {
        return format!(
            "the template did more work than regforge allows ({TEMPLATE_FUEL} steps): a loop over a huge range?"
        );
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    text
}

fn context<'a>(
    target: &'a Target,
    config: Config,
    files: &'a [PlacedFile],
    directories: &'a [Directory],
    registries: &[RegistryCredential],
    variables: &'a Variables,
) -> Context<'a> {
    let spec = config.version;
    Context {
        target: TargetContext {
            name: &target.name,
            format: config.format.name(),
            variant: spec.map(|s| s.variant),
            version: spec.map(|s| s.version),
            ignition_version: spec.map(|s| s.translates_to),
        },
        files: files.iter().map(file_context).collect(),
        directories: directories
            .iter()
            .map(|d| DirectoryContext {
                path: &d.path,
                mode: d.mode.into(),
                user: d.user.as_deref(),
                group: d.group.as_deref(),
            })
            .collect(),
        registries: registries.iter().map(registry_context).collect(),
        variables,
    }
}

fn file_context<'a>(file: &'a PlacedFile) -> FileContext<'a> {
    let spec = file.spec;
    let contents = std::str::from_utf8(&file.document.bytes).ok();
    let owner = spec.owner();
    FileContext {
        path: &file.path,
        document: file.document.kind.name(),
        mode: file.mode.into(),
        user: spec.user.as_deref(),
        group: spec.group.as_deref(),
        owner,
        overwrite: true,
        delivery: spec.delivery.name(),
        contents,
        contents_base64: base64::engine::general_purpose::STANDARD.encode(&file.document.bytes),
        data_url: data_url::encode(&file.document.bytes),
        plain_text: contents.is_some_and(yaml::is_literal_safe),
        sha512: file.document.hash.to_string(),
        artifact: file.artifact.as_ref().map(|a| a.name.as_str()),
        url: file.artifact.as_ref().and_then(|a| a.url.as_deref()),
    }
}

/// A registry as templates see it: never a secret.
/// A registry as templates see it; `Inputs::hash` follows every field it reads.
fn registry_context(r: &RegistryCredential) -> RegistryContext {
    let (username, helper) = match &r.credential {
        Some(Credential::Basic { username, .. } | Credential::Token { username, .. }) => {
            (Some(username.clone()), None)
        }
        Some(Credential::Helper { helper, .. }) => (None, Some(helper.clone())),
        None => (None, None),
    };
    RegistryContext {
        address: r.address.to_string(),
        docker_key: r.address.docker_key(),
        username,
        email: r.email.clone(),
        insecure: r.insecure,
        helper,
    }
}

#[cfg(test)]
mod tests {
    /// `Texts` shares a built-in template's text between targets that differ only in
    /// name and in the Terraform variables: no built-in template may read those.
    #[test]
    fn no_builtin_template_reads_the_target_name_or_variables() {
        for format in crate::formats::FORMATS {
            let source = format.template();
            let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
            for read in ["target.name", "target[", "variables", "target|", "target}"] {
                assert!(!compact.contains(read), "{}: reads `{read}`", format.name());
            }
        }
    }

    /// Only verified texts are shared: a text is kept when it is declared verified.
    #[test]
    fn texts_keep_a_config_once_it_is_verified() {
        let texts = super::Texts::default();
        let key = texts.0.fingerprint(&"inputs");
        let rendered = super::Rendered {
            text: "config".into(),
            known: false,
            keep: Some((&texts, key)),
        };
        assert_eq!(texts.0.get(key), None);
        assert_eq!(rendered.verified(), "config");
        assert_eq!(texts.0.get(key).as_deref(), Some("config"));
    }

    #[test]
    fn every_builtin_template_compiles() {
        let env = super::environment();
        for format in crate::formats::FORMATS {
            env.get_template(format.name())
                .unwrap_or_else(|e| panic!("built-in {} template: {e}", format.name()));
        }
    }
}
