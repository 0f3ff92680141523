//! Runs a parsed command line: calls the pipeline, prints data to stdout and diagnostics to stderr.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::documents::DocumentKind;
use crate::hash::Sha512Hash;
use crate::inventory::{self, Inventory};
use crate::{Error, output};

/// Runs the command and maps the outcome to the exit status: 0 done, 1 failed, 2 usage error.
pub fn run(cli: Cli) -> ExitCode {
    let env = |name: &str| -> Option<OsString> { std::env::var_os(name) };
    match execute(cli, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if matches!(e, Error::Usage(_)) { 2 } else { 1 })
        }
    }
}

fn execute(cli: Cli, env: &dyn Fn(&str) -> Option<OsString>) -> Result<(), Error> {
    match cli.command {
        Command::Render {
            targets,
            out_dir,
            stdout,
        } => {
            let inventory = load(&cli.inventory)?;
            if stdout && targets.len() != 1 && inventory.targets.len() != 1 {
                return Err(Error::Usage(
                    "--stdout prints one target: name exactly one".into(),
                ));
            }
            let rendered = crate::render_targets(&inventory, &targets, env)?;
            if stdout {
                let target = &rendered[0];
                if !target.artifacts.is_empty() {
                    eprintln!(
                        "note: {} artifact(s) of target {} were not written (--stdout)",
                        target.artifacts.len(),
                        target.name
                    );
                }
                return print(&target.file.bytes);
            }
            let mut files: Vec<_> = rendered
                .into_iter()
                .flat_map(|t| std::iter::once(t.file).chain(t.artifacts))
                .collect();
            // Targets sharing a document share its content-named artifact: write it once.
            files.sort_by(|a, b| a.path.cmp(&b.path));
            files.dedup_by(|a, b| a.path == b.path);
            output::write_tree(&out_dir, &files)?;
            eprintln!("wrote {} file(s) to {}", files.len(), out_dir.display());
            Ok(())
        }
        Command::Document {
            kind,
            registries,
            output: file,
        } => {
            let kind: DocumentKind = kind.parse().map_err(Error::Usage)?;
            let inventory = load(&cli.inventory)?;
            let document = crate::build_document(&inventory, kind, &registries, env)?;
            match file {
                Some(path) => Ok(output::write_file(&path, &document.bytes)?),
                None => print(&document.bytes),
            }
        }
        Command::Hash { file } => {
            let bytes = match file.as_deref() {
                None => read_stdin()?,
                Some(p) if p == Path::new("-") => read_stdin()?,
                Some(p) => output::read(p)?,
            };
            print(format!("{}\n", Sha512Hash::of(&bytes)).as_bytes())
        }
        Command::Registry(command) => crate::registry_cmd::run(
            &cli.inventory,
            command,
            crate::registry_cmd::Io {
                env,
                stdin: &mut read_stdin,
                stdout: &mut print,
            },
        ),
    }
}

fn load(path: &Path) -> Result<Inventory, Error> {
    let (inventory, warnings) = inventory::load(path)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    Ok(inventory)
}

fn print(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| output_error("stdout", &e))
}

fn read_stdin() -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| output_error("stdin", &e))?;
    Ok(bytes)
}

fn output_error(what: &str, e: &std::io::Error) -> Error {
    Error::Output(output::OutputError {
        action: if what == "stdin" { "read" } else { "write" },
        path: what.into(),
        reason: crate::credentials::io_reason(e),
    })
}
