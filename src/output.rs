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

/// Writes every file under `out_dir`, all or nothing: files are 0600 and new folders
/// 0700, because the outputs hold credentials.
pub fn write_tree(out_dir: &Path, files: &[OutputFile]) -> Result<(), IoError> {
    let mut batch = Batch::new(out_dir);
    for file in files {
        batch.stage(&file.path, &file.bytes)?;
    }
    batch.commit().map(drop)
}
