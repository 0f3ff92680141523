//! Nomad: no Nomad installs here, so the plugin block is read with an HCL parser (hcl-rs)
//! into the structure of Nomad's `drivers/docker/config.go` (`plugin "docker" { config {
//! auth { config, helper } } }`), and the docker config it names is checked for the key
//! Nomad's `drivers/docker/utils.go` looks Docker Hub up by.

use std::collections::BTreeMap;

use crate::support::{regforge_in, text};

fn placed(cloud_config: &str) -> BTreeMap<String, String> {
    let config: serde_yaml::Value = serde_yaml::from_str(cloud_config).unwrap();
    config["write_files"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_plugin_block_points_at_the_docker_config_placed_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("regforge.yaml"),
        "registries:
  - {address: docker.io, username: octocat, password: {env: PW}}
  - {address: 012345678910.dkr.ecr.us-east-1.amazonaws.com, helper: ecr-login}
targets:
  - name: client
    format: cloud-config
    files:
      - document: nomad-docker-plugin
        nomad: {auth_file: /etc/nomad.d/auth.json}
      - {document: docker-config, path: /etc/nomad.d/auth.json}
  - name: lonely
    format: cloud-config
    files:
      - document: nomad-docker-plugin
",
    )
    .unwrap();
    let out = regforge_in(
        dir.path(),
        &["render", "client", "--stdout"],
        &[("PW", "pw")],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = placed(&text(&out.stdout));
    let block: serde_json::Value =
        hcl::from_str(&files["/etc/nomad.d/docker-registry.hcl"]).unwrap();
    let auth = &block["plugin"]["docker"]["config"]["auth"];
    assert_eq!(auth["config"], "/etc/nomad.d/auth.json");
    assert_eq!(auth["helper"], "ecr-login");
    // Nomad finds Docker Hub only under the exact v1 index URL.
    let config: serde_json::Value = serde_json::from_str(&files["/etc/nomad.d/auth.json"]).unwrap();
    assert!(config["auths"]["https://index.docker.io/v1/"]["auth"].is_string());
    assert!(config["auths"].get("docker.io").is_none());
    // Placing the block without its docker config is warned about.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("targets[1].files[0].document: nomad-docker-plugin points its consumer at /etc/nomad.d/docker-auth.json, where this target places no docker-config"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("targets[0].files[0].document: nomad-docker-plugin points"),
        "{stderr}"
    );
}
