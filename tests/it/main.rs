//! Integration tests: the `regforge` binary against fixtures and real tools.

mod butane;
mod cli;
mod determinism;
mod errors;
mod golden;
mod real_tools;
mod registry_cli;
mod registry_server;
mod support;
