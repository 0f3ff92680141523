//! Integration tests: the `regforge` binary against fixtures and real tools.

mod butane;
mod check;
mod cli;
mod containerd;
mod containers;
mod determinism;
mod docs;
mod documents;
mod errors;
mod exit_codes;
mod fleet;
mod golden;
mod ignition;
mod k3s;
mod kubelet;
mod kubernetes;
mod real_tools;
mod registry_cli;
mod registry_fields;
mod registry_server;
mod skopeo;
mod snapshots;
mod support;
mod talos;
mod tamper;
mod terraform;
