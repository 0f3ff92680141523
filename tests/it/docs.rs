//! Every inventory shown in the README and docs/ renders: a `yaml` block that starts with
//! `registries:` is written out with fake secrets for its `{file}`/`{env}` references and rendered.

use std::path::{Path, PathBuf};

use crate::support::{regforge_in, root, text};

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

fn render(dir: &Path, inventory: &str) -> Result<(), String> {
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
    let env: Vec<(String, String)> = references(inventory, "env")
        .into_iter()
        .map(|name| (name.clone(), format!("fake-{name}")))
        .collect();
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

#[test]
fn every_inventory_in_the_docs_renders() {
    let mut rendered = 0;
    let mut failures = Vec::new();
    for page in pages() {
        for (i, inventory) in inventories(&std::fs::read_to_string(&page).unwrap())
            .into_iter()
            .enumerate()
        {
            let dir = tempfile::tempdir().unwrap();
            match render(dir.path(), &inventory) {
                Ok(()) => rendered += 1,
                Err(stderr) => {
                    failures.push(format!("{} block {}: {stderr}", page.display(), i + 1))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        rendered >= 10,
        "only {rendered} inventories found in the docs"
    );
    eprintln!("docs: {rendered} inventories rendered");
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
