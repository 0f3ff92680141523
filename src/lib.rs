//! regforge: one inventory of container registries in; node configs and registry auth files out.
//!
//! The stages, in the order data flows through them (docs/architecture.md):
//! inventory → credentials → documents → delivery → render → verify → output, run by
//! `pipeline`. Each module imports only modules below it.

// Values and tools every stage uses.
pub(crate) mod data_url;
pub(crate) mod encoding;
pub(crate) mod fsio;
pub(crate) mod model;
pub mod yaml;

// The stages.
pub(crate) mod credentials;
pub(crate) mod delivery;
pub(crate) mod documents;
pub(crate) mod formats;
pub(crate) mod inventory;
pub(crate) mod output;
pub(crate) mod pipeline;
pub(crate) mod render;
pub(crate) mod verify;

// What runs them: logging in to registries, Terraform's protocol, the registry
// commands, the command line.
pub mod cli;
pub mod commands;
mod error;
pub(crate) mod fetch;
pub(crate) mod login;
mod pinned_tls;
pub(crate) mod registry_cmd;
pub(crate) mod terraform;

pub use error::Error;
pub use pipeline::render_text;
