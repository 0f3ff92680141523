//! The ground floor: small value types that parse from and print to text, used by every stage.

mod address;
mod hash;
mod memo;
mod mirror;
mod mode;
mod origin;
mod secret;

pub use address::RegistryAddress;
pub use hash::Sha512Hash;
pub use memo::{Fingerprint, Memo};
pub use mirror::MirrorUrl;
pub use mode::FileMode;
pub use origin::Origin;
pub use secret::{Exec, Secret, SecretRef};

/// How a document reaches the node inside a provisioning config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// In the config itself.
    Inline,
    /// As a hosted artifact, fetched by URL and checked against its `sha512-…` hash.
    Remote,
    /// As a file beside the config that `butane --files-dir` inlines.
    Local,
}

impl Delivery {
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Inline => "inline",
            Delivery::Remote => "remote",
            Delivery::Local => "local",
        }
    }
}

/// A value from the user's input as a message quotes it: whole when short, else its
/// first 64 characters and its length, so a hostile input cannot flood a CI log.
pub fn shown(value: &str) -> String {
    const MOST: usize = 64;
    match value.char_indices().nth(MOST) {
        None => value.to_string(),
        Some((end, _)) => format!("{}… ({} bytes)", &value[..end], value.len()),
    }
}
