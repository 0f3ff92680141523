//! Integration tests: the `regforge` binary against fixtures and real tools.

mod butane;
mod check;
mod cli;
mod determinism;
mod errors;
mod golden;
mod real_tools;
mod support;
mod terraform;
