//! Micro-benchmarks of the hot paths, through the library's entry (`cargo bench`):
//! reading an inventory into the positioned YAML tree, and rendering in memory (parse,
//! validate, documents, render, verify) a Terraform-sized inventory and fleets of one
//! config. `bench/run` times whole processes against floors; these time the functions.

use std::ffi::OsString;
use std::path::Path;

fn main() {
    divan::main();
}

/// `targets` Butane targets × 3 registries, each placing a remote docker-config and an
/// inline dockercfg: the inventory `bench/run` renders.
fn inventory(targets: usize) -> String {
    let mut text = String::from(
        "registries:
  - {address: quay.io, username: myapp+deployment, password: {env: PW}}
  - {address: docker.io, username: octocat, password: {env: PW}}
  - {address: registry.example.com:5000, username: johndoe, password: {env: PW}}
targets:
",
    );
    for i in 0..targets {
        text.push_str(&format!(
            "  - name: node-{i}
    format: butane
    variant: flatcar
    version: 1.0.0
    remote: {{url: https://infra.example.com/regforge/}}
    files:
      - {{document: docker-config, path: /home/core/.docker/config.json, user: core, group: core, delivery: remote}}
      - {{document: dockercfg, path: /home/core/.dockercfg, user: core, group: core}}
"
        ));
    }
    text
}

fn env(name: &str) -> Option<OsString> {
    (name == "PW").then(|| OsString::from("pw"))
}

#[divan::bench(args = [1, 100, 1000])]
fn render_in_memory(bencher: divan::Bencher, targets: usize) {
    let text = inventory(targets);
    bencher.bench(|| {
        regforge::render_text(Path::new("regforge.yaml"), divan::black_box(&text), &env)
            .expect("the inventory renders")
    });
}

#[divan::bench(args = [100, 10_000])]
fn yaml_tree(bencher: divan::Bencher, targets: usize) {
    let text = inventory(targets);
    bencher.bench(|| {
        let text = divan::black_box(text.as_str());
        regforge::yaml::parse(text, regforge::yaml::Limits::for_text(text)).expect("valid YAML")
    });
}
