//! Every inventory shown in the README and docs/ renders: a `yaml` block that starts with
//! `registries:` is written out with fake secrets for its `{file}`/`{env}` references and rendered.

use std::path::{Path, PathBuf};

use crate::support::{regforge_in, root, text};

fn pages() -> Vec<PathBuf> {
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

/// The ```yaml blocks of a page that are whole inventories.
fn inventories(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in page.lines() {
        match (&mut block, line) {
            (None, "```yaml") => block = Some(String::new()),
            (Some(text), "```") => {
                if text.starts_with("registries:") {
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
