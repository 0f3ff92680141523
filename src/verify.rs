//! Verify: compares what a format reads back from its rendered config with every file and directory regforge placed.

use std::hash::{Hash, Hasher};

use crate::delivery::{Directory, PlacedFile};
use crate::formats::{Contents, DirectoryBack, FileBack, Problem, ReadBack};
use crate::inventory::{Delivery, FileMode, Target, TargetFormat};
use crate::model::{Memo, Sha512Hash};

#[derive(Debug, thiserror::Error)]
#[error(
    "target {target}: the rendered {what} does not match what regforge computed: {problem}\n  {blame}"
)]
pub struct VerifyError {
    pub target: String,
    pub what: String,
    pub problem: String,
    pub blame: &'static str,
}

pub fn verify(
    target: &Target,
    rendered: &str,
    files: &[PlacedFile],
    directories: &[Directory],
) -> Result<(), VerifyError> {
    let fail = |what: &str, problem: String| VerifyError {
        target: target.name.clone(),
        what: what.to_string(),
        problem,
        blame: if target.template.is_some() {
            "check the target's template: it must place every file with the values it is given"
        } else {
            "this is a bug in regforge; please report it with the target's inventory (without secrets)"
        },
    };
    // A document target writes the document's own bytes: there is nothing to read back.
    let TargetFormat::Config(config) = target.format else {
        return Ok(());
    };
    let placed = |path: &str| {
        files.iter().any(|f| f.path == path) || directories.iter().any(|d| d.path == path)
    };
    config
        .format
        .read_back(rendered, config.version, &placed)
        .and_then(|back| placements(&back, files, directories))
        .map_err(|p| fail(&p.what, p.problem))
}

/// Configs verified already, by fingerprint. Reading a config back is a pure function
/// of its text and of what was placed, and costs more than rendering it: a fleet of
/// nodes that share a config reads it back once. Only successes are remembered.
#[derive(Debug)]
pub struct Verified(Memo<()>);

impl Default for Verified {
    fn default() -> Verified {
        // 16 bytes a config: a million distinct ones in 16 MiB.
        Verified(Memo::new(1 << 20))
    }
}

/// `verify`, skipped for a config whose text and placements were verified already.
/// Without `verified` (a render of one target, such as a Terraform call), nothing is
/// fingerprinted: there is nothing to share.
pub fn verify_once(
    verified: Option<&Verified>,
    target: &Target,
    rendered: &str,
    files: &[PlacedFile],
    directories: &[Directory],
) -> Result<(), VerifyError> {
    let Some(Verified(memo)) = verified else {
        return verify(target, rendered, files, directories);
    };
    let key = memo.fingerprint(&Input {
        target,
        rendered,
        files,
        directories,
    });
    if memo.get(key).is_some() {
        return Ok(());
    }
    verify(target, rendered, files, directories)?;
    memo.insert(key, ());
    Ok(())
}

/// Everything `verify` looks at: the format and its version, the text, and each placed
/// file's and directory's path, mode, owner, delivery and contents.
struct Input<'a> {
    target: &'a Target,
    rendered: &'a str,
    files: &'a [PlacedFile<'a>],
    directories: &'a [Directory],
}

impl Hash for Input<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        if let TargetFormat::Config(config) = self.target.format {
            config.format.name().hash(h);
            config.version.map(|v| (v.variant, v.version)).hash(h);
        }
        self.rendered.hash(h);
        self.files.hash(h);
        self.directories.hash(h);
    }
}

/// Every file and directory regforge placed is in the read-back exactly once, as computed.
fn placements(
    back: &ReadBack,
    files: &[PlacedFile],
    directories: &[Directory],
) -> Result<(), Problem> {
    for file in files {
        let got = only(&back.files, &file.path, |f| &f.path, "the file is placed")?;
        placed_file(got, file).map_err(|problem| Problem::at(&file.path, problem))?;
    }
    for dir in directories {
        let got = only(
            &back.directories,
            &dir.path,
            |d| &d.path,
            "the directory is declared",
        )?;
        placed_directory(got, dir).map_err(|problem| Problem::at(&dir.path, problem))?;
    }
    Ok(())
}

fn only<'a, T>(
    entries: &'a [T],
    path: &str,
    path_of: fn(&T) -> &String,
    what: &str,
) -> Result<&'a T, Problem> {
    let matching: Vec<&T> = entries.iter().filter(|e| path_of(e) == path).collect();
    match matching[..] {
        [entry] => Ok(entry),
        _ => Err(Problem::at(
            path,
            format!("{what} {} times, not once", matching.len()),
        )),
    }
}

fn owner(
    mode: Option<FileMode>,
    user: &Option<String>,
    group: &Option<String>,
    want: (FileMode, &Option<String>, &Option<String>),
) -> Result<(), String> {
    if mode != Some(want.0) {
        return Err(format!("mode is not {}", want.0));
    }
    for (key, got, want) in [("user", user, want.1), ("group", group, want.2)] {
        if got != want {
            return Err(format!(
                "{key} is not {}",
                want.as_deref().unwrap_or("unset")
            ));
        }
    }
    Ok(())
}

fn placed_directory(got: &DirectoryBack, dir: &Directory) -> Result<(), String> {
    owner(
        got.mode,
        &got.user,
        &got.group,
        (dir.mode, &dir.user, &dir.group),
    )
}

fn placed_file(got: &FileBack, file: &PlacedFile) -> Result<(), String> {
    let spec = file.spec;
    owner(
        got.mode,
        &got.user,
        &got.group,
        (file.mode, &spec.user, &spec.group),
    )?;
    if !got.overwrite {
        return Err("overwrite is not true".into());
    }
    let artifact = file.artifact.as_ref();
    let same_hash = |hash: &Option<Sha512Hash>| match hash {
        Some(hash) if *hash != file.document.hash => {
            Err("the stated hash is not the document's sha512")
        }
        _ => Ok(()),
    };
    match (spec.delivery, &got.contents) {
        (Delivery::Inline, Contents::Inline { bytes, hash }) => {
            same_bytes(bytes, &file.document.bytes)?;
            Ok(same_hash(hash)?)
        }
        (Delivery::Remote, Contents::Remote { url, hash }) => {
            let want = artifact.and_then(|a| a.url.as_deref());
            if Some(url.as_str()) != want {
                return Err(format!(
                    "the source is not {}",
                    want.unwrap_or("the artifact URL")
                ));
            }
            if hash.is_none() {
                return Err("the verification hash is missing".into());
            }
            Ok(same_hash(hash)?)
        }
        (Delivery::Local, Contents::Local { name }) => match artifact {
            Some(a) if a.name == *name => Ok(()),
            _ => Err("the local file is not the artifact in files/".into()),
        },
        (want, _) => Err(format!("it is not delivered {}", want.name())),
    }
}

fn same_bytes(got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "the placed content ({} bytes) differs from the document ({} bytes)",
            got.len(),
            want.len()
        ))
    }
}
