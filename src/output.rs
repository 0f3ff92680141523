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
        let links = self.folders.entry(folder.to_path_buf()).or_insert_with(|| {
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

/// Why the output cannot be written; nothing was.
#[derive(Debug)]
pub enum WriteError {
    /// An output would replace one of the inputs (the inventory, a secret, a template…).
    ReplacesInput {
        output: PathBuf,
        input: PathBuf,
    },
    Io(IoError),
}

impl From<IoError> for WriteError {
    fn from(e: IoError) -> WriteError {
        WriteError::Io(e)
    }
}

/// Writes the files of a render under `out_dir`, all or nothing, as they come: files
/// are 0600 and new folders 0700, because the outputs hold credentials. Each file is
/// staged (written to a temporary file) when it is added, so the rendered bytes need
/// not stay in memory; `commit` renames them all into place. A writer dropped before
/// `commit` leaves the folder as it was.
pub struct Writer<'a> {
    out_dir: &'a Path,
    batch: Batch,
    links: Links<'a>,
    /// The inputs as the file system resolves them, with the paths as given.
    inputs: Vec<(PathBuf, PathBuf)>,
    /// Each folder resolved once: a fleet writes thousands of files into a few.
    folders: HashMap<PathBuf, Option<PathBuf>>,
    /// Paths staged already: targets sharing a document share its content-named
    /// artifact, which is written once.
    staged: HashSet<PathBuf>,
}

impl<'a> Writer<'a> {
    pub fn new(out_dir: &'a Path, inputs: &[PathBuf]) -> Writer<'a> {
        Writer {
            out_dir,
            batch: Batch::new(out_dir),
            links: Links::new(out_dir),
            inputs: inputs
                .iter()
                .filter_map(|p| Some((p.canonicalize().ok()?, p.clone())))
                .collect(),
            folders: HashMap::new(),
            staged: HashSet::new(),
        }
    }

    /// Stages `files`. Refused, before anything is renamed: a file that would replace
    /// an input (`--out-dir .` and a target named `regforge` are caught, paths being
    /// compared as the file system resolves them), and a symbolic link where a file or
    /// its folder goes, since writing through it would put credentials wherever it
    /// points.
    pub fn add(&mut self, files: Vec<OutputFile>) -> Result<(), WriteError> {
        for file in files {
            if self.staged.contains(&file.path) {
                continue;
            }
            let dest = self.out_dir.join(&file.path);
            if let Some(input) = self.replaced_input(&dest) {
                return Err(WriteError::ReplacesInput {
                    output: dest,
                    input,
                });
            }
            if let Some(link) = self.links.within(&file.path) {
                return Err(WriteError::Io(IoError {
                    action: "write",
                    path: self.out_dir.join(link),
                    reason: "it is a symbolic link; regforge does not write through links in the output folder (nothing was written)".into(),
                }));
            }
            self.batch.stage(&file.path, &file.bytes)?;
            self.staged.insert(file.path);
        }
        Ok(())
    }

    /// Adds an input known only after files were staged (a later target's template):
    /// refused when a staged file would replace it.
    pub fn add_input(&mut self, input: &Path) -> Result<(), WriteError> {
        // A template that cannot be resolved fails its own render.
        let Ok(resolved) = input.canonicalize() else {
            return Ok(());
        };
        if self.inputs.iter().any(|(known, _)| *known == resolved) {
            return Ok(());
        }
        self.inputs.push((resolved, input.to_path_buf()));
        let staged: Vec<PathBuf> = self.staged.iter().cloned().collect();
        for path in staged {
            let output = self.out_dir.join(path);
            if let Some(input) = self.replaced_input(&output) {
                return Err(WriteError::ReplacesInput { output, input });
            }
        }
        Ok(())
    }

    /// The input `dest` (a path as given, not under the output folder) would replace,
    /// if any.
    pub fn replaced_input(&mut self, dest: &Path) -> Option<PathBuf> {
        let folder = folder_of(dest).to_path_buf();
        let resolved = self
            .folders
            .entry(folder)
            .or_insert_with_key(|folder| folder.canonicalize().ok())
            .as_ref()?
            .join(dest.file_name()?);
        self.inputs
            .iter()
            .find(|(input, _)| *input == resolved)
            .map(|(_, written)| written.clone())
    }

    /// Renames every staged file into place; returns how many.
    pub fn commit(self) -> Result<usize, IoError> {
        self.batch.commit()
    }
}
