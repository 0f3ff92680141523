//! The one way regforge writes files (atomically, durably, with few descriptors open) and the inventory's lock.
//!
//! One rule for every write: the bytes go to a temporary file beside the destination,
//! are flushed to disk, the temporary file is renamed over the destination, and the
//! folder is flushed so that the rename survives a crash. A reader sees the old file or
//! the new one, never half of one.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::TempPath;

/// What went wrong with which file.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {reason}", path.display())]
pub struct IoError {
    pub action: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

impl IoError {
    pub fn new(action: &'static str, path: &Path, e: &std::io::Error) -> IoError {
        IoError {
            action,
            path: path.to_path_buf(),
            reason: io_reason(e),
        }
    }
}

/// The reason of an I/O error without its Rust formatting ("No such file or directory").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// The prefix of every temporary file regforge creates, so that one left behind by
/// `kill -9` is recognisable as regforge's (and `--check` reports it).
const TEMP_PREFIX: &str = ".regforge-";
const TEMP_SUFFIX: &str = ".tmp";

/// Whether a file name is one of regforge's temporary files.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, IoError> {
    fs::read(path).map_err(|e| IoError::new("read", path, &e))
}

/// Replaces `dest` atomically and durably with `bytes` and the given permission bits.
pub fn write_file(dest: &Path, bytes: &[u8], mode: u32) -> Result<(), IoError> {
    let folder = folder_of(dest);
    let temp = temp_file(folder, dest, bytes, mode)?;
    File::open(&temp)
        .and_then(|file| file.sync_all())
        .map_err(|e| IoError::new("write", dest, &e))?;
    temp.persist(dest)
        .map_err(|e| IoError::new("write", dest, &e.error))?;
    sync_folder(folder)
}

/// Creates `dest`, which must not exist yet, with `bytes` and the given permission bits,
/// durably; `Ok(false)` when the name is taken. For files two writers must never share
/// (stored secrets), where a rename could replace another writer's file.
pub fn create_new(dest: &Path, bytes: &[u8], mode: u32) -> Result<bool, IoError> {
    let fail = |e: &std::io::Error| IoError::new("write", dest, e);
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dest);
    let mut file = match created {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(fail(&e)),
    };
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = fs::remove_file(dest);
        return Err(fail(&e));
    }
    sync_folder(folder_of(dest))?;
    Ok(true)
}

/// Files written all or nothing under one folder.
///
/// Each staged file is written to a temporary file beside its destination and closed at
/// once, so a batch of any size holds at most two descriptors (the file being written and,
/// at the commit, one folder); `commit` makes them durable with one flush of the file
/// system, renames them all into place and flushes their folders. A batch dropped without
/// `commit`, or a failed commit, removes the temporary files it still holds.
pub struct Batch {
    /// The folder as given, which messages name.
    root: PathBuf,
    /// The same folder made absolute once, so that creating each temporary file does
    /// not ask for the current folder again.
    absolute: PathBuf,
    staged: Vec<(TempPath, PathBuf)>,
    /// Folders known to exist, each with the names of the folders in it: created and
    /// listed once, so that staging a file costs no lookup of its own.
    folders: BTreeMap<PathBuf, BTreeSet<OsString>>,
    /// The folders staging created, outermost first: a batch dropped before its commit
    /// removes them with its temporary files, so the output folder is left as it was.
    created: Vec<PathBuf>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Temporary files first: a folder is only removed once empty.
        self.staged.clear();
        for folder in self.created.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

impl Batch {
    pub fn new(root: &Path) -> Batch {
        Batch {
            root: root.to_path_buf(),
            absolute: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
            staged: Vec::new(),
            folders: BTreeMap::new(),
            created: Vec::new(),
        }
    }

    /// Stages `bytes` for `relative` (under the batch's folder), mode 0600: rendered
    /// files hold credentials. New folders are 0700.
    pub fn stage(&mut self, relative: &Path, bytes: &[u8]) -> Result<(), IoError> {
        let dest = self.root.join(relative);
        let folder = folder_of(&self.absolute.join(relative)).to_path_buf();
        if !self.folders.contains_key(&folder) {
            let missing: Vec<PathBuf> = folder
                .ancestors()
                .take_while(|f| !f.exists())
                .map(Path::to_path_buf)
                .collect();
            create_dir_all(&folder, 0o700)?;
            self.created.extend(missing.into_iter().rev());
            let folders = subfolders(&folder).map_err(|e| IoError::new("list", &folder, &e))?;
            self.folders.insert(folder.clone(), folders);
        }
        // A folder in a file's place would fail the rename half-way through the commit,
        // after earlier files were replaced: refuse it before anything is replaced.
        if relative
            .file_name()
            .is_some_and(|name| self.folders[&folder].contains(name))
        {
            return Err(IoError {
                action: "write",
                path: dest,
                reason: "a folder is in the way".into(),
            });
        }
        let temp = temp_file(&folder, &dest, bytes, 0o600)?;
        self.staged.push((temp, dest));
        Ok(())
    }

    /// Makes every staged file durable and renames it into place; returns how many.
    pub fn commit(mut self) -> Result<usize, IoError> {
        // The folders stay, whatever happens next: files may be in place in them.
        self.created.clear();
        let count = self.staged.len();
        if count == 0 {
            return Ok(0);
        }
        // One flush of the file system holding the folder instead of one fsync per file:
        // the same durability for a fleet of files at the cost of one.
        let root = File::open(&self.root).map_err(|e| IoError::new("write", &self.root, &e))?;
        rustix::fs::syncfs(&root).map_err(|e| IoError::new("write", &self.root, &e.into()))?;
        drop(root);
        let mut touched = BTreeSet::new();
        for (temp, dest) in std::mem::take(&mut self.staged) {
            temp.persist(&dest)
                .map_err(|e| IoError::new("write", &dest, &e.error))?;
            touched.insert(folder_of(&dest).to_path_buf());
        }
        for folder in touched {
            sync_folder(&folder)?;
        }
        Ok(count)
    }
}

/// Creates `dir` and its missing parents with the given permission bits.
pub fn create_dir_all(dir: &Path, mode: u32) -> Result<(), IoError> {
    DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| IoError::new("create", dir, &e))
}

/// A closed temporary file beside `dest` holding `bytes` with the given mode.
fn temp_file(folder: &Path, dest: &Path, bytes: &[u8], mode: u32) -> Result<TempPath, IoError> {
    let fail = |e: &std::io::Error| IoError::new("write", dest, e);
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(folder)
        .map_err(|e| fail(&e))?;
    temp.write_all(bytes).map_err(|e| fail(&e))?;
    // Set exactly: the mode a file is created with is filtered by the umask. The
    // temporary file is created 0600, which most umasks leave as it is.
    if mode != CREATED_MODE || umask() & CREATED_MODE != 0 {
        temp.as_file()
            .set_permissions(Permissions::from_mode(mode))
            .map_err(|e| fail(&e))?;
    }
    Ok(temp.into_temp_path())
}

/// The mode tempfile creates files with, before the umask.
const CREATED_MODE: u32 = 0o600;

/// The process's umask, read once from /proc/self/status (umask(2) can only read it by
/// setting it, which would race with other threads creating files); when that cannot be
/// read, one that masks everything, so that every mode is set explicitly.
fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("Umask:"))
            .and_then(|octal| u32::from_str_radix(octal.trim(), 8).ok())
            .unwrap_or(0o777)
    })
}

/// The names of the folders (not links to them) in `folder`, from one listing.
fn subfolders(folder: &Path) -> std::io::Result<BTreeSet<OsString>> {
    let mut out = BTreeSet::new();
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.insert(entry.file_name());
        }
    }
    Ok(out)
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_folder(folder: &Path) -> Result<(), IoError> {
    File::open(folder)
        .and_then(|d| d.sync_all())
        .map_err(|e| IoError::new("write", folder, &e))
}

/// An exclusive lock on one inventory and its managed file, held until dropped. The lock
/// file stays: removing it would let two writers lock two different files.
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn acquire(inventory: &Path) -> Result<Lock, IoError> {
        let name = inventory
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "regforge.yaml".into());
        let path = folder_of(inventory).join(format!(".{name}.lock"));
        let fail = |e: std::io::Error| IoError::new("lock", &path, &e);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(fail)?;
        file.lock().map_err(fail)?;
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            }
            out.push(path);
        }
        out
    }

    #[test]
    fn a_dropped_batch_leaves_the_folder_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("kept")).unwrap();
        let out = dir.path().join("new/out");
        let mut batch = Batch::new(&out);
        batch.stage(Path::new("a/b.json"), b"{}").unwrap();
        batch.stage(Path::new("c.yaml"), b"x").unwrap();
        let mut beside = Batch::new(dir.path());
        beside.stage(Path::new("kept/d.json"), b"{}").unwrap();
        // Staged files are hidden temporaries until the commit.
        assert!(!out.join("c.yaml").exists());
        assert!(out.join("a").is_dir());
        drop((batch, beside));
        // The folders staging created are gone, those that were there stay.
        assert_eq!(walk(dir.path()), vec![dir.path().join("kept")]);
    }

    #[test]
    fn a_committed_batch_writes_0600_files_in_0700_folders() {
        let dir = tempfile::tempdir().unwrap();
        let mut batch = Batch::new(dir.path());
        batch.stage(Path::new("a/b.json"), b"{}").unwrap();
        batch.stage(Path::new("a/c.json"), b"[]").unwrap();
        assert_eq!(batch.commit().unwrap(), 2);
        let written = dir.path().join("a/b.json");
        assert_eq!(fs::read(&written).unwrap(), b"{}");
        assert_eq!(fs::read(dir.path().join("a/c.json")).unwrap(), b"[]");
        assert_eq!(mode(&written), 0o600);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(walk(dir.path()).len(), 3);
    }

    #[test]
    fn a_folder_in_a_files_place_fails_at_staging() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("b.json")).unwrap();
        let mut batch = Batch::new(dir.path());
        batch.stage(Path::new("a.json"), b"{}").unwrap();
        let e = batch.stage(Path::new("b.json"), b"{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot write {}: a folder is in the way",
                dir.path().join("b.json").display()
            )
        );
        drop(batch);
        assert_eq!(walk(dir.path()), vec![dir.path().join("b.json")]);
    }

    #[test]
    fn write_file_replaces_with_the_mode_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_file(&path, b"one", 0o644).unwrap();
        assert_eq!(mode(&path), 0o644);
        write_file(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(walk(dir.path()), vec![path]);
    }

    #[test]
    fn create_new_refuses_a_taken_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        assert!(create_new(&path, b"one", 0o600).unwrap());
        assert!(!create_new(&path, b"two", 0o600).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(mode(&path), 0o600);
    }
}
