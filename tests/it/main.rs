//! Integration tests: the `regforge` binary against fixtures and real tools.

mod butane;
mod cli;
mod determinism;
mod errors;
mod golden;
mod ignition;
mod real_tools;
mod support;
