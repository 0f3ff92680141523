//! Output: the rendered files by path, written all or nothing (through `fsio`) or compared with `--check`.

pub mod check;
pub mod redact;

use std::path::{Path, PathBuf};

use crate::fsio::{Batch, IoError};

/// One file to write, relative to the output folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The first output that would replace one of `inputs` (the inventory, a secret, a
/// template…), as (output, input). Paths are compared as the file system resolves
/// them, so `--out-dir .` and a target named `regforge` are caught.
pub fn replaces_input(
    out_dir: &Path,
    files: &[OutputFile],
    inputs: &[PathBuf],
) -> Option<(PathBuf, PathBuf)> {
    let inputs: Vec<(PathBuf, &PathBuf)> = inputs
        .iter()
        .filter_map(|p| Some((p.canonicalize().ok()?, p)))
        .collect();
    files.iter().find_map(|file| {
        let dest = out_dir.join(&file.path);
        let resolved = resolved(&dest)?;
        inputs
            .iter()
            .find(|(input, _)| *input == resolved)
            .map(|(_, written)| (dest, (*written).clone()))
    })
}

/// Where `path` lands: its folder resolved, its name kept; None when the folder does
/// not exist yet (nothing there can be an input).
fn resolved(path: &Path) -> Option<PathBuf> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(folder.canonicalize().ok()?.join(path.file_name()?))
}

/// The first part of `relative` under `out_dir` that is a symbolic link, if any.
pub fn link_within(out_dir: &Path, relative: &Path) -> Option<PathBuf> {
    let mut at = PathBuf::new();
    for part in relative.components() {
        at.push(part);
        let meta = std::fs::symlink_metadata(out_dir.join(&at)).ok()?;
        if meta.file_type().is_symlink() {
            return Some(at);
        }
    }
    None
}

/// Writes every file under `out_dir`, all or nothing: files are 0600 and new folders
/// 0700, because the outputs hold credentials. A symbolic link where a file or its
/// folder goes is refused before anything is written: writing through it would put
/// credentials wherever it points.
pub fn write_tree(out_dir: &Path, files: &[OutputFile]) -> Result<(), IoError> {
    for file in files {
        if let Some(link) = link_within(out_dir, &file.path) {
            return Err(IoError {
                action: "write",
                path: out_dir.join(link),
                reason: "it is a symbolic link; regforge does not write through links in the output folder (nothing was written)".into(),
            });
        }
    }
    let mut batch = Batch::new(out_dir);
    for file in files {
        batch.stage(&file.path, &file.bytes)?;
    }
    batch.commit().map(drop)
}
