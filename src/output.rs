//! Output: the rendered files by path, written all or nothing (through `fsio`) or compared with `--check`.

pub mod check;
pub mod redact;

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
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
    // Each folder is resolved once: a fleet writes thousands of files into a few.
    let mut folders: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    files.iter().find_map(|file| {
        let dest = out_dir.join(&file.path);
        let folder = folder_of(&dest).to_path_buf();
        let resolved = folders
            .entry(folder)
            .or_insert_with_key(|folder| folder.canonicalize().ok())
            .as_ref()?
            .join(dest.file_name()?);
        inputs
            .iter()
            .find(|(input, _)| *input == resolved)
            .map(|(_, written)| (dest, (*written).clone()))
    })
}

/// The folder of `path`, `.` for a bare name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Finds the symbolic links that paths under one output folder pass through, looking at
/// each folder once: its parts one by one, then its names in one listing. A fleet
/// writes thousands of files into a few folders.
pub struct Links<'a> {
    out_dir: &'a Path,
    /// Per folder (relative), the link it passes through, or the links in it.
    folders: HashMap<PathBuf, Result<HashSet<OsString>, PathBuf>>,
}

impl<'a> Links<'a> {
    pub fn new(out_dir: &'a Path) -> Links<'a> {
        Links {
            out_dir,
            folders: HashMap::new(),
        }
    }

    /// The first part of `relative` that is a symbolic link, if any.
    pub fn within(&mut self, relative: &Path) -> Option<PathBuf> {
        let folder = relative.parent().unwrap_or(Path::new(""));
        let out_dir = self.out_dir;
        let links = self
            .folders
            .entry(folder.to_path_buf())
            .or_insert_with(|| {
                let mut at = PathBuf::new();
                for part in folder.components() {
                    at.push(part);
                    if fs::symlink_metadata(out_dir.join(&at)).is_ok_and(|m| m.is_symlink()) {
                        return Err(at);
                    }
                }
                Ok(links_in(&out_dir.join(folder)))
            });
        match links {
            Err(link) => Some(link.clone()),
            Ok(names) => names
                .contains(relative.file_name()?)
                .then(|| relative.to_path_buf()),
        }
    }
}

/// The names of the symbolic links in `folder`; none when it does not exist yet.
fn links_in(folder: &Path) -> HashSet<OsString> {
    let Ok(entries) = fs::read_dir(folder) else {
        return HashSet::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .map(|e| e.file_name())
        .collect()
}

/// Writes every file under `out_dir`, all or nothing: files are 0600 and new folders
/// 0700, because the outputs hold credentials. A symbolic link where a file or its
/// folder goes is refused before anything is written: writing through it would put
/// credentials wherever it points.
pub fn write_tree(out_dir: &Path, files: &[OutputFile]) -> Result<(), IoError> {
    let mut links = Links::new(out_dir);
    if let Some(link) = files.iter().find_map(|file| links.within(&file.path)) {
        return Err(IoError {
            action: "write",
            path: out_dir.join(link),
            reason: "it is a symbolic link; regforge does not write through links in the output folder (nothing was written)".into(),
        });
    }
    let mut batch = Batch::new(out_dir);
    for file in files {
        batch.stage(&file.path, &file.bytes)?;
    }
    batch.commit().map(drop)
}
