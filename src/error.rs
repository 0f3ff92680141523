//! The crate's one error type: what went wrong in any stage, shown with its context.

use std::path::PathBuf;

use crate::credentials::CredentialError;
use crate::documents::DocumentError;
use crate::fsio::IoError;
use crate::inventory::InventoryError;
use crate::login;
use crate::output::WriteError;
use crate::render::RenderError;
use crate::verify::VerifyError;

/// Everything that can go wrong; every variant exits 1 (exit 2 is clap's, for misuse).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("target {target}: {source}")]
    Document {
        target: String,
        source: DocumentError,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Output(#[from] IoError),
    /// `render --check` found files that differ from what would be rendered.
    #[error(
        "{files} file(s) under {} differ from what regforge renders; run `regforge render` to update them",
        out_dir.display()
    )]
    Drift { out_dir: PathBuf, files: usize },
    /// A registry refused the credential, or could not be asked (`registry add|update`).
    #[error("cannot log in to {address}: {source}")]
    Login {
        address: String,
        source: login::LoginError,
    },
    /// The command line named a target or registry the inventory does not have.
    #[error("{0}")]
    NotFound(String),
    /// The change would clash with what is there: a registry that exists, is written by
    /// hand, is still named by a target, or was added by another command meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// What the command was given cannot be used: an empty or non-UTF-8 password, a
    /// Terraform query that is not one, a binary document for a terminal, …
    #[error("{0}")]
    Input(String),
    /// Whoever read stdout stopped (`regforge man | head`): the command has nothing left
    /// to do for anyone, so it ends quietly with exit 0, as ripgrep does.
    #[error("stdout was closed by its reader")]
    StdoutClosed,
}

impl From<WriteError> for Error {
    fn from(e: WriteError) -> Error {
        match e {
            WriteError::ReplacesInput { output, input } => Error::Conflict(format!(
                "{} would replace {}, which this render reads; choose another --out-dir or target name (nothing was written)",
                output.display(),
                input.display()
            )),
            WriteError::Io(e) => Error::Output(e),
        }
    }
}
