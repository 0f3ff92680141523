//! What a rendered config places, as typed values: the common ground of every format's read-back and `verify`.

use crate::model::FileMode;
use crate::model::Sha512Hash;

/// The files and directories a config places, as its consumer will write them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadBack {
    pub files: Vec<FileBack>,
    pub directories: Vec<DirectoryBack>,
}

/// One file the config places.
#[derive(Debug, PartialEq, Eq)]
pub struct FileBack {
    pub path: String,
    /// `None` when the config gives none, or gives it in a form its consumer misreads.
    pub mode: Option<FileMode>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub overwrite: bool,
    pub contents: Contents,
}

/// Where a placed file's bytes come from.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    /// In the config (text, base64 or a data: URL), with the hash it states, if any.
    Inline {
        bytes: Vec<u8>,
        hash: Option<Sha512Hash>,
    },
    /// Fetched from a URL and checked against the hash the config states.
    Remote {
        url: String,
        hash: Option<Sha512Hash>,
    },
    /// A file beside the config, by name (Butane's `local`).
    Local { name: String },
}

/// One directory the config declares.
#[derive(Debug, PartialEq, Eq)]
pub struct DirectoryBack {
    pub path: String,
    pub mode: Option<FileMode>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// What is wrong with a rendered config: `config` or the path concerned, and how.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub problem: String,
}

impl Problem {
    pub fn config(problem: impl Into<String>) -> Problem {
        Problem {
            what: "config".into(),
            problem: problem.into(),
        }
    }

    pub fn at(path: &str, problem: impl Into<String>) -> Problem {
        Problem {
            what: path.into(),
            problem: problem.into(),
        }
    }
}
