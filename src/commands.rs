//! Runs a parsed command line: calls the pipeline, prints data to stdout and diagnostics to stderr.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::documents::{self, Document, DocumentKind};
use crate::inventory::{self, Inventory};
use crate::model::Sha512Hash;
use crate::output::redact::Redactor;
use crate::pipeline::StreamedRender;
use crate::{Error, fsio, output, terraform};

/// Runs the command and maps the outcome to the exit status: 0 done, 1 failed. (Exit 2,
/// command-line misuse, is clap's, before this runs.)
pub fn run(cli: Cli) -> ExitCode {
    let env = |name: &str| -> Option<OsString> { std::env::var_os(name) };
    // Terraform shows a failing program's stderr as its message: keep it to one line.
    let one_line = matches!(cli.command, Command::Terraform);
    match execute(cli, &env) {
        Ok(()) | Err(Error::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            let messages: Vec<String> = match &e {
                Error::Inventory(problems) => {
                    problems.each().iter().map(|p| p.to_string()).collect()
                }
                other => vec![other.to_string()],
            };
            if one_line {
                let parts: Vec<&str> = messages
                    .iter()
                    .flat_map(|m| m.lines())
                    .map(str::trim)
                    .collect();
                eprintln!("error: {}", parts.join("; "));
            } else {
                for message in messages {
                    eprintln!("error: {message}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli, env: &dyn Fn(&str) -> Option<OsString>) -> Result<(), Error> {
    match cli.command {
        Command::Render {
            targets,
            out_dir,
            stdout,
            check,
            pretty,
            quiet,
        } => {
            // A terminal's progress bar needs the number of targets before the first
            // renders: there the inventory is read whole first.
            let streams =
                !stdout && targets.is_empty() && (quiet || !std::io::stderr().is_terminal());
            if streams
                && check
                && let Some(checked) = check_fleet(&cli.inventory, &out_dir, pretty, env)
            {
                return checked;
            }
            if streams
                && !check
                && let Some(written) = render_fleet(&cli.inventory, &out_dir, pretty, env)?
            {
                if !quiet {
                    eprintln!("wrote {written} file(s) to {}", out_dir.display());
                }
                return Ok(());
            }
            let inventory = load(&cli.inventory)?;
            if stdout && targets.len() != 1 && inventory.targets.len() != 1 {
                return Err(Error::Input(
                    "--stdout prints one target: name exactly one".into(),
                ));
            }
            let count = if targets.is_empty() {
                inventory.targets.len()
            } else {
                targets.len()
            };
            let bar = progress_bar(count, quiet);
            let ticking = bar.clone();
            let options = crate::render::Options {
                pretty,
                progress: crate::render::Progress::new(move || ticking.inc(1)),
                ..Default::default()
            };
            if check {
                let checked = check_tree(&inventory, &targets, &out_dir, env, &options);
                bar.finish_and_clear();
                return checked;
            }
            if stdout {
                let rendered = crate::pipeline::render_targets(&inventory, &targets, env, &options);
                bar.finish_and_clear();
                let rendered = rendered?;
                let target = &rendered[0];
                let [file] = &target.files[..] else {
                    return Err(Error::Input(format!(
                        "target {} renders {} files, one per registry; write them with --out-dir",
                        target.name,
                        target.files.len()
                    )));
                };
                if !target.artifacts.is_empty() {
                    eprintln!(
                        "note: {} artifact(s) of target {} were not written (--stdout)",
                        target.artifacts.len(),
                        target.name
                    );
                }
                return print(&file.bytes);
            }
            // Each batch of rendered targets is staged as it comes and dropped, so a
            // fleet's outputs are never all in memory; nothing is in place until commit.
            let mut writer = output::Writer::new(&out_dir, &inventory.inputs());
            let rendered =
                crate::pipeline::render_each(&inventory, &targets, env, &options, &mut |batch| {
                    Ok(writer.add(tree(batch))?)
                });
            bar.finish_and_clear();
            rendered?;
            let written = writer.commit()?;
            if !quiet {
                eprintln!("wrote {written} file(s) to {}", out_dir.display());
            }
            Ok(())
        }
        Command::Document {
            kind,
            registries,
            options,
            output: file,
        } => {
            let kind = documents::lookup(&kind).map_err(Error::Input)?;
            let (spec, advice) = inventory::document_spec_from_cli(kind, &options)
                .map_err(|e| Error::Input(e.to_string()))?;
            for advice in advice {
                eprintln!("warning: {kind}: {advice}");
            }
            let inventory = load(&cli.inventory)?;
            let documents = crate::pipeline::build_document(&inventory, &spec, &registries, env)?;
            if let Some(dest) = file.as_deref() {
                let inputs = inventory.inputs();
                if let Some(input) =
                    output::Writer::new(Path::new("."), &inputs).replaced_input(dest)
                {
                    return Err(Error::Conflict(format!(
                        "-o {} would replace {}, which this command reads (nothing was written)",
                        dest.display(),
                        input.display()
                    )));
                }
            }
            write_documents(kind, &documents, file.as_deref())
        }
        Command::Hash { file } => {
            let bytes = match file.as_deref() {
                None => read_stdin()?,
                Some(p) if p == Path::new("-") => read_stdin()?,
                Some(p) => fsio::read(p)?,
            };
            print(format!("{}\n", Sha512Hash::of(&bytes)).as_bytes())
        }
        Command::Check {
            strict,
            format,
            fetch,
        } => check(&cli.inventory, strict, fetch, format, env),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "regforge", &mut out);
            print(&out)
        }
        Command::Man => print(&crate::cli::man_page()),
        Command::Schema => print(format!("{:#}\n", inventory::schema()).as_bytes()),
        Command::Terraform => {
            let query = terraform::parse_query(&read_query()?)?;
            // Terraform shows a program's stderr only when it fails, and then wants one
            // line: warnings would only crowd out the error. `regforge check` shows them.
            let path = query.inventory.as_deref().unwrap_or(&cli.inventory);
            let (inventory, _) = inventory::load(path, inventory::Advice::Silent)?;
            print(terraform::respond(&inventory, &query, env)?.as_bytes())
        }
        Command::Registry(command) => {
            let mut messages = Vec::new();
            let result = crate::registry_cmd::run(
                &cli.inventory,
                command,
                crate::registry_cmd::Io {
                    env,
                    stdin: &mut read_stdin,
                    stdout: &mut print,
                    messages: &mut messages,
                },
            );
            for message in messages {
                eprintln!("{message}");
            }
            result
        }
    }
}

/// One file to stdout or `-o FILE`; a folder document's files (rkt-auth,
/// containerd-hosts) into the folder `-o DIR`.
fn write_documents(
    kind: DocumentKind,
    documents: &[Document],
    dest: Option<&Path>,
) -> Result<(), Error> {
    match (dest, documents) {
        (Some(dir), _) if kind.is_folder() || documents.len() > 1 => {
            // A document's own file, beside its named ones (k3s's CA files), keeps the
            // name its consumer reads it by.
            let own = kind
                .default_path()
                .and_then(|p| p.rsplit('/').next())
                .map_or_else(|| format!("{kind}.{}", kind.extension()), String::from);
            let files: Vec<_> = documents
                .iter()
                .map(|d| output::OutputFile {
                    path: d.file_name.clone().unwrap_or_else(|| own.clone()).into(),
                    bytes: d.bytes.clone(),
                })
                .collect();
            let mut writer = output::Writer::new(dir, &[]);
            writer.add(files)?;
            writer.commit()?;
            Ok(())
        }
        (Some(path), [document]) => {
            // Missing folders are made as render makes them: the file holds credentials.
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fsio::create_dir_all(folder, 0o700)?;
            }
            Ok(fsio::write_file(path, &document.bytes, 0o600)?)
        }
        (None, [document]) if std::str::from_utf8(&document.bytes).is_ok() => {
            print(&document.bytes)
        }
        (None, [_]) => Err(Error::Input(format!(
            "{kind} is binary; write it with -o FILE"
        ))),
        (_, many) => Err(Error::Input(format!(
            "{kind} is a folder of {} files: give -o DIR",
            many.len()
        ))),
    }
}

/// `render --out-dir` of every target, each rendered and staged as soon as it is read
/// (`pipeline::render_streamed`), committed once all are: how many files were written.
/// `None` when it must be done the whole way, which then reports the inventory's
/// problems; the writer, dropped on a failure, leaves the folder as it was.
fn render_fleet(
    inventory: &Path,
    out_dir: &Path,
    pretty: bool,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<usize>, Error> {
    let mut staging = Staging {
        out_dir,
        writer: None,
    };
    let streamed = render_streamed(inventory, pretty, env, &mut staging);
    let (Some(streamed), Some(writer)) = (streamed, staging.writer) else {
        return Ok(None);
    };
    streamed.outcome?;
    Ok(Some(writer.commit()?))
}

/// Renders every target into `stage` as the inventory is read, and prints the
/// inventory's warnings; `None` when it must be done the whole way.
fn render_streamed(
    inventory: &Path,
    pretty: bool,
    env: &dyn Fn(&str) -> Option<OsString>,
    stage: &mut dyn crate::pipeline::Stage,
) -> Option<StreamedRender> {
    let options = crate::render::Options {
        pretty,
        ..Default::default()
    };
    let streamed = crate::pipeline::render_streamed(
        inventory,
        inventory::Advice::Shown,
        env,
        &options,
        stage,
    )?;
    for warning in &streamed.warnings {
        eprintln!("warning: {warning}");
    }
    Some(streamed)
}

/// `render --check` of every target, each compared as soon as it is rendered
/// (`pipeline::render_streamed`), so that only what differs is held. `None` when it
/// must be done the whole way, which then reports the inventory's problems.
fn check_fleet(
    inventory: &Path,
    out_dir: &Path,
    pretty: bool,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Option<Result<(), Error>> {
    let mut comparing = Comparing(output::check::Comparison::new(out_dir));
    let streamed = render_streamed(inventory, pretty, env, &mut comparing)?;
    let checked = streamed.outcome.and_then(|()| {
        let redactor = redactor_for(&streamed.credentials);
        show_report(out_dir, comparing.0.finish(true, &redactor)?)
    });
    Some(checked)
}

/// Compares a streamed render's files with the output folder as they come.
struct Comparing<'a>(output::check::Comparison<'a>);

impl crate::pipeline::Stage for Comparing<'_> {
    fn begin(&mut self, _: &Inventory) -> Result<(), Error> {
        Ok(())
    }

    fn add(
        &mut self,
        _: &inventory::Target,
        rendered: crate::pipeline::RenderedTarget,
    ) -> Result<(), Error> {
        for file in rendered.into_outputs() {
            self.0.add(file.path, file.bytes)?;
        }
        Ok(())
    }
}

/// Stages a streamed render's files under the output folder; nothing is in place until
/// the writer commits.
struct Staging<'a> {
    out_dir: &'a Path,
    writer: Option<output::Writer<'a>>,
}

impl crate::pipeline::Stage for Staging<'_> {
    fn begin(&mut self, head: &Inventory) -> Result<(), Error> {
        self.writer = Some(output::Writer::new(self.out_dir, &head.inputs()));
        Ok(())
    }

    fn add(
        &mut self,
        target: &inventory::Target,
        rendered: crate::pipeline::RenderedTarget,
    ) -> Result<(), Error> {
        let writer = self.writer.as_mut().expect("the head comes first");
        // The head's inputs lack the templates, which come with their targets.
        if let Some(template) = target.template.as_deref() {
            writer.add_input(&template.0)?;
        }
        Ok(writer.add(rendered.into_outputs().collect())?)
    }
}

/// Every file of the rendered targets, by path.
fn tree(rendered: Vec<crate::pipeline::RenderedTarget>) -> Vec<output::OutputFile> {
    let mut files: Vec<_> = rendered
        .into_iter()
        .flat_map(crate::pipeline::RenderedTarget::into_outputs)
        .collect();
    // Targets sharing a document share its content-named artifact: write it once.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    files
}

/// `render --check`: the redacted diff on stdout and exit 1 on drift; never writes.
fn check_tree(
    inventory: &Inventory,
    targets: &[String],
    out_dir: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
    options: &crate::render::Options,
) -> Result<(), Error> {
    let rendering = crate::pipeline::render_with(inventory, targets, env, options)?;
    let redactor = redactor_for(&rendering.credentials);
    let files = tree(rendering.targets);
    // Named targets: other targets' files are expected in the folder, so extras are not judged.
    let report = output::check::compare(out_dir, files, targets.is_empty(), &redactor)?;
    show_report(out_dir, report)
}

/// What hides the secrets of `credentials` in a diff.
fn redactor_for(credentials: &[crate::credentials::RegistryCredential]) -> Redactor {
    Redactor::new(
        credentials.iter().flat_map(|c| c.secrets()),
        credentials
            .iter()
            .filter_map(|c| c.credential.as_ref()?.username()),
    )
}

/// A `--check` report: a line on stderr when nothing drifted; else the diff on stdout
/// and a drift error, exit 1.
fn show_report(out_dir: &Path, report: output::check::Report) -> Result<(), Error> {
    if report.drifted == 0 {
        eprintln!(
            "{} is up to date: {} file(s) match",
            out_dir.display(),
            report.compared
        );
        return Ok(());
    }
    print(report.diff.as_bytes())?;
    Err(Error::Drift {
        out_dir: out_dir.to_path_buf(),
        files: report.drifted,
    })
}

/// From this many targets on, a render shows a progress bar on a terminal: smaller ones
/// finish before a bar would be read.
const PROGRESS_FROM: usize = 1000;

/// A progress bar over `targets` on stderr, drawn only on a terminal, for a long render,
/// without `--quiet`; otherwise one that draws nothing.
fn progress_bar(targets: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet || targets < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(targets as u64);
    let style =
        indicatif::ProgressStyle::with_template("rendering {pos}/{len} targets {wide_bar} {eta}")
            .expect("the template is valid");
    bar.set_style(style);
    bar
}

fn load(path: &Path) -> Result<Inventory, Error> {
    let (inventory, warnings) = inventory::load(path, inventory::Advice::Shown)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    Ok(inventory)
}

/// One finding of `regforge check`.
#[derive(serde::Serialize)]
struct Finding {
    level: &'static str,
    /// A warning's lint rule; `invalid`, `render` or `fetch` for errors.
    rule: &'static str,
    file: String,
    line: usize,
    column: usize,
    field: String,
    message: String,
}

impl Finding {
    fn at(
        level: &'static str,
        rule: &'static str,
        origin: Option<&crate::model::Origin>,
        message: String,
    ) -> Finding {
        Finding {
            level,
            rule,
            file: origin.map_or_else(String::new, |o| o.file.display().to_string()),
            line: origin.map_or(0, |o| o.line),
            column: origin.map_or(0, |o| o.column),
            field: origin.map_or_else(String::new, |o| o.field.clone()),
            message,
        }
    }
}

/// Each hosted artifact's URL, fetched: an error finding where it serves other bytes
/// than the config's sha512 (nodes would refuse them) or cannot be fetched.
fn fetched(rendered: &[crate::pipeline::RenderedTarget]) -> Vec<Finding> {
    let mut out = Vec::new();
    for target in rendered {
        for artifact in &target.artifacts {
            let Some(url) = &artifact.url else { continue };
            let problem = match crate::fetch::served_hash(url) {
                Some(Ok(hash)) if hash == artifact.sha512 => None,
                Some(Ok(_)) => Some(format!(
                    "{url} serves other bytes than the config's sha512 (nodes will refuse it); upload {}",
                    artifact.path.display()
                )),
                Some(Err(reason)) => Some(format!("cannot fetch {url}: {reason}")),
                None => None,
            };
            if let Some(message) = problem {
                out.push(Finding::at(
                    "error",
                    "fetch",
                    None,
                    format!("target {}: {message}", target.name),
                ));
            }
        }
    }
    out
}

/// `regforge check`: validation and an in-memory render of every target, every
/// problem and warning reported as a finding; exit 1 on an error (or, `--strict`, a
/// warning).
fn check(
    path: &Path,
    strict: bool,
    fetch: bool,
    format: crate::cli::CheckFormat,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), Error> {
    let mut findings = Vec::new();
    let mut targets = 0;
    match inventory::load(path, inventory::Advice::All) {
        Err(e) => {
            for problem in e.each() {
                let finding = match problem {
                    inventory::InventoryError::Invalid { origin, message } => {
                        Finding::at("error", "invalid", Some(origin), message.clone())
                    }
                    other => Finding::at("error", "invalid", None, other.to_string()),
                };
                findings.push(finding);
            }
        }
        Ok((inventory, warnings)) => {
            for w in warnings {
                findings.push(Finding::at(
                    "warning",
                    w.rule.name(),
                    Some(&w.origin),
                    w.message,
                ));
            }
            if !inventory.targets.is_empty() {
                let options = crate::render::Options::default();
                match crate::pipeline::render_targets(&inventory, &[], env, &options) {
                    Ok(rendered) => {
                        targets = rendered.len();
                        if fetch {
                            findings.extend(fetched(&rendered));
                        }
                    }
                    Err(Error::Credential(e)) => {
                        findings.push(Finding::at("error", "render", Some(&e.origin), e.message))
                    }
                    Err(e) => findings.push(Finding::at("error", "render", None, e.to_string())),
                }
            }
        }
    }
    let errors = findings.iter().filter(|f| f.level == "error").count();
    let warnings = findings.len() - errors;
    let failed = errors > 0 || (strict && warnings > 0);
    let text = match format {
        crate::cli::CheckFormat::Json => {
            let report = serde_json::json!({
                "ok": !failed,
                "targets_rendered": targets,
                "errors": errors,
                "warnings": warnings,
                "findings": findings,
            });
            format!("{report:#}\n")
        }
        crate::cli::CheckFormat::Text => findings
            .iter()
            .map(|f| {
                let place = match (f.file.is_empty(), f.line) {
                    (true, _) => String::new(),
                    (false, 0) => format!("{}: ", f.file),
                    (false, line) => format!("{}:{line}:{}: ", f.file, f.column),
                };
                let field = if f.field.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", f.field)
                };
                format!("{}: {place}{field}{} [{}]\n", f.level, f.message, f.rule)
            })
            .collect(),
    };
    print(text.as_bytes())?;
    eprintln!(
        "{}: {targets} target(s) render and verify; {errors} error(s), {warnings} warning(s)",
        path.display()
    );
    if failed {
        return Err(Error::Input(format!(
            "check failed: {errors} error(s){}",
            if strict {
                format!(", {warnings} warning(s) (--strict)")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

fn print(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Error::StdoutClosed,
            _ => output_error("stdout", &e),
        })
}

/// Terraform's query: a small JSON object, read up to a bound so that a runaway input
/// neither fills memory nor floods the error.
fn read_query() -> Result<Vec<u8>, Error> {
    const MOST: u64 = 1 << 20;
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MOST + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| output_error("stdin", &e))?;
    if bytes.len() as u64 > MOST {
        return Err(Error::Input(format!(
            "terraform query: stdin holds more than {} MiB; Terraform's external data source sends a small JSON object",
            MOST >> 20
        )));
    }
    Ok(bytes)
}

fn read_stdin() -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| output_error("stdin", &e))?;
    Ok(bytes)
}

fn output_error(what: &str, e: &std::io::Error) -> Error {
    let action = if what == "stdin" { "read" } else { "write" };
    Error::Output(fsio::IoError::new(action, Path::new(what), e))
}
