//! The docs as a user meets them: every inventory shown renders and its consumers accept
//! the output, getting-started runs as printed, and every command line shown parses.

use std::path::{Path, PathBuf};

use crate::butane;
use crate::real_tools::{cloud_init_schema, ignition_validate};
use crate::support::{copy_tree, regforge_in, require_tool, root, text};

pub fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    for dir in [root().join("docs"), root().join("docs/platforms")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// The first line of every example inventory: editors with a YAML language server
/// validate and complete it with `regforge schema`'s output.
pub const SCHEMA_LINE: &str = "# yaml-language-server: $schema=";

/// The ```yaml blocks of a page that are whole inventories: they start with
/// `registries:`, after the schema line.
pub fn inventories(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in page.lines() {
        match (&mut block, line) {
            (None, "```yaml") => block = Some(String::new()),
            (Some(text), "```") => {
                let body = match text.strip_prefix(SCHEMA_LINE) {
                    Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
                    None => text.as_str(),
                };
                if body.starts_with("registries:") {
                    out.push(std::mem::take(text));
                }
                block = None;
            }
            (Some(text), line) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// The values of `{key: VALUE}` references in an inventory, e.g. every `{file: …}`.
fn references(inventory: &str, key: &str) -> Vec<String> {
    let marker = format!("{{{key}: ");
    inventory
        .match_indices(&marker)
        .map(|(at, _)| {
            let rest = &inventory[at + marker.len()..];
            rest[..rest.find('}').unwrap()].trim().to_string()
        })
        .collect()
}

/// The PEM file a `{file}` reference under `key` must hold, if the key names one: the
/// fixture's certificates, since regforge checks them.
fn pem_for(inventory: &str, file: &str) -> Option<PathBuf> {
    let certs = root().join("fixtures/nodes/certs");
    let line = inventory
        .lines()
        .find(|l| l.contains(&format!("{{file: {file}}}")))?;
    let key = line
        .trim_start()
        .trim_start_matches("- ")
        .split(':')
        .next()?;
    match key {
        "ca" | "client_cert" => Some(certs.join("node.pem")),
        "client_key" => Some(certs.join("node-key.pem")),
        _ => None,
    }
}

/// Writes `inventory` into `dir` with fake secrets for its `{file}` references (the
/// fixture's certificates where a PEM is expected) and a containerd base config; returns
/// fake values for its `{env}` references.
fn set_up(dir: &Path, inventory: &str) -> Vec<(String, String)> {
    std::fs::write(dir.join("regforge.yaml"), inventory).unwrap();
    for file in references(inventory, "file") {
        let path = dir.join(&file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match pem_for(inventory, &file) {
            Some(pem) => std::fs::copy(pem, &path).map(drop).unwrap(),
            None => std::fs::write(&path, format!("fake-{}\n", file.replace('/', "-"))).unwrap(),
        }
    }
    // A containerd base config: the node's own, which regforge merges into.
    for file in references(inventory, "base") {
        std::fs::write(dir.join(file), "version = 2\n").unwrap();
    }
    references(inventory, "env")
        .into_iter()
        .map(|name| (name.clone(), format!("fake-{name}")))
        .collect()
}

fn render(dir: &Path, inventory: &str) -> Result<(), String> {
    let env = set_up(dir, inventory);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // An inventory of registries alone is validated by listing them.
    let args: &[&str] = if inventory.contains("\ntargets:") {
        &["render", "--out-dir", "out"]
    } else {
        &["registry", "list"]
    };
    let out = regforge_in(dir, args, &env, None);
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out.stderr))
    }
}

/// How many rendered files each real consumer accepted.
#[derive(Default)]
struct Judged {
    cloud_configs: usize,
    butane: usize,
    ignition: usize,
}

/// Each config rendered into `out` passes its consumer: `cloud-init schema` for
/// cloud-config, the strict Butane read and `ignition-validate` for Butane and
/// Ignition (specs up to 3.3.0, what Debian's ignition 2.14 knows).
fn judge(out: &Path, judged: &mut Judged) {
    let cloud_init = require_tool("cloud-init", "cloud-init");
    let validate = require_tool("ignition-validate", "ignition");
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml") if bytes.starts_with(b"#cloud-config") => {
                cloud_init_schema(&cloud_init, &path);
                judged.cloud_configs += 1;
            }
            Some("bu") => {
                let (config, _) = butane::translate(&text(&bytes), out);
                judged.butane += 1;
                if config["ignition"]["version"] == "3.3.0" {
                    let json = path.with_extension("bu.ign");
                    std::fs::write(&json, serde_json::to_vec(&config).unwrap()).unwrap();
                    ignition_validate(&validate, &json);
                    judged.ignition += 1;
                }
            }
            Some("ign") => {
                let config: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                if config["ignition"]["version"] == "3.3.0" {
                    ignition_validate(&validate, &path);
                    judged.ignition += 1;
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_inventory_in_the_docs_renders_and_its_consumers_accept_it() {
    let mut rendered = 0;
    let mut judged = Judged::default();
    let mut failures = Vec::new();
    for page in pages() {
        for (i, inventory) in inventories(&std::fs::read_to_string(&page).unwrap())
            .into_iter()
            .enumerate()
        {
            let dir = tempfile::tempdir().unwrap();
            match render(dir.path(), &inventory) {
                Ok(()) => {
                    rendered += 1;
                    let out = dir.path().join("out");
                    if out.is_dir() {
                        judge(&out, &mut judged);
                    }
                }
                Err(stderr) => {
                    failures.push(format!("{} block {}: {stderr}", page.display(), i + 1))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        rendered >= 25,
        "only {rendered} inventories found in the docs"
    );
    let Judged {
        cloud_configs,
        butane,
        ignition,
    } = judged;
    assert!(
        cloud_configs >= 3 && butane >= 5 && ignition >= 5,
        "cloud-init {cloud_configs}, butane {butane}, ignition-validate {ignition}"
    );
    eprintln!(
        "docs: {rendered} inventories rendered; cloud-init schema accepted {cloud_configs}, the strict Butane read {butane}, ignition-validate {ignition}"
    );
}

/// The `$ regforge …` commands of a page's ```console blocks, each with the lines shown
/// after it.
fn sessions(page: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in page.lines() {
        match (inside, line) {
            (false, "```console") => inside = true,
            (true, "```") => inside = false,
            (true, line) => match line.strip_prefix("$ ") {
                Some(command) => out.push((command.to_string(), String::new())),
                None => {
                    let (_, shown) = out.last_mut().expect("a console block starts with `$ `");
                    shown.push_str(line);
                    shown.push('\n');
                }
            },
            (false, _) => {}
        }
    }
    out
}

/// getting-started.md as a new user follows it: its inventory written out, then each
/// command run in order in one folder, its stdout and stderr together compared with
/// the page.
#[test]
fn getting_started_runs_as_printed() {
    let page = std::fs::read_to_string(root().join("docs/getting-started.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let [inventory] = &inventories(&page)[..] else {
        panic!("getting-started.md shows one inventory");
    };
    std::fs::write(dir.path().join("regforge.yaml"), inventory).unwrap();
    let commands = sessions(&page);
    assert!(commands.len() >= 3, "{commands:?}");
    for (command, shown) in commands {
        let args: Vec<&str> = command.split_whitespace().collect();
        let ["regforge", args @ ..] = &args[..] else {
            panic!("`{command}` is not a regforge command");
        };
        // `> FILE` as a shell does it: stdout into the file.
        let (args, into) = match args {
            [args @ .., ">", file] => (args, Some(file)),
            args => (args, None),
        };
        let out = regforge_in(dir.path(), args, &[("QUAY_TOKEN", "fake-token")], None);
        let stdout = match into {
            Some(file) => {
                std::fs::write(dir.path().join(file), &out.stdout).unwrap();
                String::new()
            }
            None => text(&out.stdout),
        };
        let printed = format!("{stdout}{}", text(&out.stderr));
        assert!(out.status.success(), "$ {command}\n{printed}");
        assert_eq!(printed, shown, "$ {command}");
    }
    for file in ["out/workers.bu", "out/laptop.json", "regforge.schema.json"] {
        assert!(dir.path().join(file).is_file(), "the page names {file}");
    }
}

/// The `regforge …` command lines in a text: each segment of a line (split at `|`,
/// `&&`, `;`) that starts with `regforge`, without prompt, comment or redirection.
fn command_lines(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches("$ ");
        let line = line.split(" #").next().unwrap_or_default();
        for segment in line.split(['|', ';']).flat_map(|s| s.split("&&")) {
            let Some(words) = shlex::split(segment.trim()) else {
                continue;
            };
            if words.first().is_none_or(|w| w != "regforge") {
                continue;
            }
            let mut args = Vec::new();
            let mut words = words.into_iter();
            while let Some(word) = words.next() {
                match word.as_str() {
                    ">" | "<" | "2>" => drop(words.next()),
                    w if w.starts_with('>') || w.starts_with("2>") => {}
                    _ => args.push(word),
                }
            }
            out.push(args);
        }
    }
    out
}

/// The fenced shell blocks (`sh`, `console`) of a page, as text.
fn shell_blocks(page: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in page.lines() {
        match (inside, line) {
            (false, "```sh" | "```console") => inside = true,
            (true, "```") => inside = false,
            (true, line) => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// Every regforge command line the docs and the README show, and every example in
/// `--help`, is accepted by the argument parser as written: a renamed flag or
/// subcommand fails here, not in a user's terminal.
#[test]
fn every_documented_command_line_parses() {
    use clap::{CommandFactory, Parser};
    let mut sources: Vec<(String, String)> = pages()
        .into_iter()
        .map(|page| {
            let text = std::fs::read_to_string(&page).unwrap();
            (page.display().to_string(), shell_blocks(&text))
        })
        .collect();
    let command = regforge::cli::Cli::command();
    let mut helps = vec![command.clone()];
    helps.extend(command.get_subcommands().cloned());
    for sub in command.get_subcommands() {
        helps.extend(sub.get_subcommands().cloned());
    }
    for mut help in helps {
        let name = help.get_name().to_string();
        let text = help.render_long_help().to_string();
        let examples = text.split("Examples:").nth(1).unwrap_or_default();
        let examples = examples.split("\n\n").next().unwrap_or_default();
        sources.push((format!("--help of {name}"), examples.to_string()));
    }
    // The oracle looks: a line with a flag regforge lacks is refused.
    let bogus = command_lines("$ printf x | regforge render --no-such-flag > x.txt # note");
    assert_eq!(bogus, [["regforge", "render", "--no-such-flag"]]);
    assert!(regforge::cli::Cli::try_parse_from(&bogus[0]).is_err());
    let (mut parsed, mut failures) = (0, Vec::new());
    for (source, text) in sources {
        for args in command_lines(&text) {
            match regforge::cli::Cli::try_parse_from(&args) {
                Ok(_) => parsed += 1,
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => parsed += 1,
                Err(e) => failures.push(format!("{source}: `{}`: {e}", args.join(" "))),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(parsed >= 60, "only {parsed} command lines found");
    eprintln!("docs: {parsed} documented command lines parse");
}

/// Whether a documented command is run by `every_documented_command_runs`: not the ones
/// that need a registry on the network (`registry add`, `update`, `check --fetch`), a
/// query on stdin (`terraform`, `hash -`), or a file fetched from elsewhere (`hash
/// /tmp/…`); nor `delete` of a registry the page adds, since its `add` does not run.
fn runnable(args: &[String], added: &[String]) -> bool {
    let has = |word: &str| args.iter().any(|a| a == word);
    let deletes_added = has("delete") && added.iter().any(|a| has(a));
    let fetched = args.iter().any(|a| a.starts_with("/tmp/"));
    let networked = has("add") || has("update") || has("--fetch");
    let stdin = has("terraform") || has("-");
    !(networked || stdin || deletes_added || fetched)
}

/// `args` made safe to run in a scratch folder: `-o` paths become names in it, and an
/// inventory path of this repository becomes absolute.
fn in_scratch(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        out.push(arg.clone());
        match arg.as_str() {
            "-o" | "--output" => {
                let path = args.next().expect("-o takes a path");
                let name = Path::new(path).file_name().unwrap().to_string_lossy();
                out.push(format!("scratch-{name}"));
            }
            "-i" | "--inventory" => {
                let path = args.next().expect("-i takes a path");
                let repo = root().join(path);
                out.push(if repo.exists() {
                    repo.display().to_string()
                } else {
                    path.clone()
                });
            }
            _ => {}
        }
    }
    out
}

/// `args` with a `*` pattern expanded in `dir`, as a shell would (the first match).
fn globbed(dir: &Path, args: Vec<String>) -> Vec<String> {
    args.into_iter()
        .map(|arg| {
            let Some((head, tail)) = arg.split_once('*') else {
                return arg;
            };
            let folder = dir.join(Path::new(head).parent().unwrap_or(Path::new("")));
            let prefix = Path::new(head)
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            let found = std::fs::read_dir(&folder).ok().and_then(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .find(|name| name.starts_with(&prefix) && name.ends_with(tail))
            });
            match found {
                Some(name) => Path::new(head)
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(name)
                    .display()
                    .to_string(),
                None => arg,
            }
        })
        .collect()
}

/// Whether a run did what its command is for: exit 0, or exit 1 with a report (`check`
/// with findings on stdout, `render --check` with a diff of drift).
fn did_its_job(args: &[&str], out: &std::process::Output) -> bool {
    match out.status.code() {
        Some(0) => true,
        Some(1) if args.contains(&"check") => {
            !out.stdout.is_empty() && text(&out.stderr).contains("check failed")
        }
        Some(1) if args.contains(&"--check") => {
            text(&out.stderr).contains("differ from what regforge renders")
        }
        _ => false,
    }
}

/// Every regforge command line a page shows, run in order as a reader following the
/// page would, does its job in a folder holding one of the page's inventories (with
/// fake secrets) or, for a page without one, the quickstart's.
#[test]
fn every_documented_command_runs() {
    let (mut ran, mut failures) = (0, Vec::new());
    for page in pages() {
        let text_of_page = std::fs::read_to_string(&page).unwrap();
        let all = command_lines(&shell_blocks(&text_of_page));
        let added: Vec<String> = all
            .iter()
            .filter_map(|args| match &args[..] {
                [_, registry, add, address, ..] if registry == "registry" && add == "add" => {
                    Some(address.clone())
                }
                _ => None,
            })
            .collect();
        let lines: Vec<Vec<String>> = all
            .into_iter()
            .filter(|args| runnable(args, &added))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let mut folders: Vec<(tempfile::TempDir, Vec<(String, String)>)> =
            inventories(&text_of_page)
                .iter()
                .map(|inventory| {
                    let dir = tempfile::tempdir().unwrap();
                    let env = set_up(dir.path(), inventory);
                    (dir, env)
                })
                .collect();
        if folders.is_empty() {
            let dir = tempfile::tempdir().unwrap();
            copy_tree(&root().join("fixtures/quickstart"), dir.path());
            folders.push((dir, Vec::new()));
        }
        for args in lines {
            let mut errors = Vec::new();
            let mut passed = false;
            // Every folder runs every command, so each keeps the state the page builds up.
            for (dir, env) in &folders {
                let args = globbed(dir.path(), in_scratch(&args));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let out = regforge_in(dir.path(), &args, &env, None);
                if did_its_job(&args, &out) {
                    passed = true;
                } else {
                    errors.push(text(&out.stderr));
                }
            }
            if passed {
                ran += 1;
            } else {
                failures.push(format!(
                    "{}: `regforge {}`: {}",
                    page.display(),
                    args[1..].join(" "),
                    errors.join(" | ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 35, "only {ran} documented commands ran");
    eprintln!("docs: {ran} documented command lines ran");
}
