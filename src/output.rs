//! Output: atomic, all-or-nothing writes of rendered files, readable only by their owner.

pub mod check;
pub mod redact;

use std::fs::{self, DirBuilder, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::credentials::io_reason;

/// One file to write, relative to the output folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {reason}", path.display())]
pub struct OutputError {
    pub action: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

fn fail(path: &Path, e: &std::io::Error) -> OutputError {
    OutputError {
        action: "write",
        path: path.to_path_buf(),
        reason: io_reason(e),
    }
}

/// Writes every file under `out_dir`: each goes to a temporary file beside its
/// destination first, and only when all are written are they renamed into place, so a
/// reader never sees a half-written file. Files are 0600 and new folders 0700, because
/// the outputs hold credentials. Rendered files are not fsynced one by one: they can be
/// rendered again, and a flush per file made large renders I/O-bound (bench/render.sh);
/// the folders are synced once at the end so the renames persist.
pub fn write_tree(out_dir: &Path, files: &[OutputFile]) -> Result<(), OutputError> {
    let mut staged = Vec::with_capacity(files.len());
    for file in files {
        let dest = out_dir.join(&file.path);
        staged.push((stage(&dest, &file.bytes, false)?, dest));
    }
    let mut folders = std::collections::BTreeSet::new();
    for (temp, dest) in staged {
        temp.persist(&dest).map_err(|e| fail(&dest, &e.error))?;
        folders.insert(dest.parent().map(Path::to_path_buf).unwrap_or_default());
    }
    for folder in folders {
        fs::File::open(&folder)
            .and_then(|d| d.sync_all())
            .map_err(|e| fail(&folder, &e))?;
    }
    Ok(())
}

/// Writes one file atomically (temporary file, fsync, rename), mode 0600.
pub fn write_file(dest: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    stage(dest, bytes, true)?
        .persist(dest)
        .map_err(|e| fail(dest, &e.error))?;
    Ok(())
}

fn stage(dest: &Path, bytes: &[u8], flush: bool) -> Result<NamedTempFile, OutputError> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(|e| fail(parent, &e))?;
    let mut temp = NamedTempFile::new_in(parent).map_err(|e| fail(dest, &e))?;
    temp.write_all(bytes).map_err(|e| fail(dest, &e))?;
    temp.as_file()
        .set_permissions(Permissions::from_mode(0o600))
        .map_err(|e| fail(dest, &e))?;
    if flush {
        temp.as_file().sync_all().map_err(|e| fail(dest, &e))?;
    }
    Ok(temp)
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, OutputError> {
    fs::read(path).map_err(|e| OutputError {
        action: "read",
        ..fail(path, &e)
    })
}
