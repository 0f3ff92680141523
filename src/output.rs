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

/// Writes every file under `out_dir`, all or nothing: files are 0600 and new folders
/// 0700, because the outputs hold credentials.
pub fn write_tree(out_dir: &Path, files: &[OutputFile]) -> Result<(), IoError> {
    let mut batch = Batch::new(out_dir);
    for file in files {
        batch.stage(&file.path, &file.bytes)?;
    }
    batch.commit().map(drop)
}
