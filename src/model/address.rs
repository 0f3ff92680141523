//! `RegistryAddress`: `host[:port][/namespace…]`, and the key each consumer looks it up by.

use std::fmt;
use std::str::FromStr;

/// Docker Hub's names; every one of them means the same registry.
const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];
/// The only key under which the docker CLI finds Docker Hub credentials (FORMATS.md §1).
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegistryAddress {
    host: String,
    port: Option<u16>,
    namespace: Option<String>,
}

impl RegistryAddress {
    pub fn is_docker_hub(&self) -> bool {
        self.port.is_none() && DOCKER_HUB_HOSTS.contains(&self.host.as_str())
    }

    /// `host[:port]`, without the namespace.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// The `auths` / `credHelpers` key of docker `config.json`: Hub is the v1 index URL,
    /// everything else its bare `host[:port]` (docker matches registries, not namespaces).
    pub fn docker_key(&self) -> String {
        if self.is_docker_hub() {
            DOCKER_HUB_KEY.to_string()
        } else {
            self.host_port()
        }
    }

    /// The registry as image references name it, which node runtimes key mirrors by
    /// (containerd's hosts directory, k3s and Talos `mirrors`): Hub is `docker.io`.
    pub fn image_host(&self) -> String {
        if self.is_docker_hub() {
            "docker.io".to_string()
        } else {
            self.host_port()
        }
    }

    /// The host node runtimes contact, and key credentials by (containerd `configs`,
    /// k3s and Talos `config`): Hub images come from `registry-1.docker.io`.
    pub fn pull_host(&self) -> String {
        if self.is_docker_hub() {
            "registry-1.docker.io".to_string()
        } else {
            self.host_port()
        }
    }

    /// The username a registry's short-lived tokens log in with, for the registries whose
    /// tokens regforge knows: ECR's `AWS`, Google's `oauth2accesstoken`, Azure's all-zero
    /// GUID.
    pub fn token_username(&self) -> Option<&'static str> {
        let host = &self.host;
        if self.is_ecr() {
            Some("AWS")
        } else if host == "gcr.io" || host.ends_with(".gcr.io") || host.ends_with(".pkg.dev") {
            Some("oauth2accesstoken")
        } else if host.ends_with(".azurecr.io") {
            Some("00000000-0000-0000-0000-000000000000")
        } else {
            None
        }
    }

    /// Whether this is an Amazon ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`,
    /// or `….amazonaws.com.cn` in China), whose passwords expire and are fetched with AWS
    /// keys instead. ECR serves no other port than 443.
    pub fn is_ecr(&self) -> bool {
        let labels: Vec<&str> = self.host.split('.').collect();
        let shaped = matches!(
            labels[..],
            [account, "dkr", "ecr", region, "amazonaws", "com"]
                | [account, "dkr", "ecr", region, "amazonaws", "com", "cn"]
                if !account.is_empty()
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && !region.is_empty()
        );
        shaped && self.port.is_none()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The form two addresses are compared in: Hub aliases are one registry.
    pub fn canonical(&self) -> String {
        let host = if self.is_docker_hub() {
            "docker.io".to_string()
        } else {
            self.host_port()
        };
        match &self.namespace {
            Some(ns) => format!("{host}/{ns}"),
            None => host,
        }
    }
}

impl fmt::Display for RegistryAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.host_port())?;
        if let Some(ns) = &self.namespace {
            write!(f, "/{ns}")?;
        }
        Ok(())
    }
}

impl FromStr for RegistryAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("the address is empty; write host[:port], e.g. quay.io".into());
        }
        if let Some((scheme, rest)) = s.split_once("://") {
            // Never echo what stands before an `@`: it would be a password.
            if let Some((_, host)) = rest.split_once('@') {
                return Err(format!(
                    "the address has a scheme and a user; write the bare host, e.g. {}, and the login as username and password",
                    host.trim_end_matches('/')
                ));
            }
            return Err(format!(
                "the address has a scheme ({scheme}://); write the bare host, e.g. {}",
                rest.trim_end_matches('/')
            ));
        }
        if s.chars().any(char::is_whitespace) {
            return Err("the address contains spaces; write host[:port][/namespace]".into());
        }
        let (authority, namespace) = match s.split_once('/') {
            Some((a, ns)) => (a, Some(parse_namespace(ns)?)),
            None => (s, None),
        };
        let (host, port) = split_port(authority)?;
        check_host(host)?;
        Ok(RegistryAddress {
            host: host.to_string(),
            port,
            namespace,
        })
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    // A bracketed IPv6 literal keeps its colons.
    let port_sep = if authority.starts_with('[') {
        authority.find("]:").map(|i| i + 1)
    } else {
        authority.rfind(':')
    };
    let Some(i) = port_sep else {
        return Ok((authority, None));
    };
    let digits = &authority[i + 1..];
    match digits.parse::<u16>() {
        Ok(port) if port > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok((&authority[..i], Some(port)))
        }
        _ => Err(format!(
            "`{digits}` is not a port; write host:port with a port from 1 to 65535"
        )),
    }
}

fn check_host(host: &str) -> Result<(), String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Ok(());
        }
        return Err(format!("`{host}` is not an IPv6 address"));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "`{host}` has upper-case letters; write it in lower case ({})",
            host.to_ascii_lowercase()
        ));
    }
    let labels_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if labels_ok {
        Ok(())
    } else {
        Err(format!(
            "`{host}` is not a host name; use letters, digits, `-` and `.` (e.g. registry.example.com)"
        ))
    }
}

fn parse_namespace(ns: &str) -> Result<String, String> {
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && c.as_bytes()[0].is_ascii_alphanumeric()
            && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
    };
    if ns.split('/').all(component_ok) {
        Ok(ns.to_string())
    } else {
        Err(format!(
            "`{ns}` is not a repository namespace; use lower-case path components without a tag, e.g. quay.io/myorg"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> RegistryAddress {
        s.parse().unwrap()
    }

    #[test]
    fn docker_keys() {
        assert_eq!(addr("docker.io").docker_key(), DOCKER_HUB_KEY);
        assert_eq!(addr("index.docker.io").docker_key(), DOCKER_HUB_KEY);
        assert_eq!(addr("quay.io").docker_key(), "quay.io");
        assert_eq!(addr("quay.io/myorg").docker_key(), "quay.io");
        assert_eq!(
            addr("reg.example.com:5000").docker_key(),
            "reg.example.com:5000"
        );
        assert_eq!(addr("[::1]:5000").docker_key(), "[::1]:5000");
        // A Hub host with a port is some other registry.
        assert!(!addr("docker.io:5000").is_docker_hub());
        // Node runtimes: mirrors by image name, credentials by the host contacted.
        assert_eq!(addr("index.docker.io").image_host(), "docker.io");
        assert_eq!(addr("docker.io").pull_host(), "registry-1.docker.io");
        assert_eq!(
            addr("reg.example.com:5000/team").image_host(),
            "reg.example.com:5000"
        );
        assert_eq!(
            addr("reg.example.com:5000/team").pull_host(),
            "reg.example.com:5000"
        );
    }

    #[test]
    fn canonical_forms_and_ecr() {
        assert_eq!(addr("index.docker.io").canonical(), "docker.io");
        assert_eq!(addr("quay.io/myorg").canonical(), "quay.io/myorg");
        assert!(addr("012345678910.dkr.ecr.us-east-1.amazonaws.com").is_ecr());
        assert!(!addr("dkr.ecr.us-east-1.amazonaws.com").is_ecr());
        assert!(!addr("x1.dkr.ecr.us-east-1.amazonaws.com").is_ecr());
        assert!(!addr("quay.io").is_ecr());
        assert!(addr("012345678910.dkr.ecr.cn-north-1.amazonaws.com.cn").is_ecr());
        assert!(!addr("012345678910.dkr.ecr.us-east-1.amazonaws.com:5000").is_ecr());
    }

    #[test]
    fn canonical_form_joins_hub_aliases() {
        assert_eq!(addr("registry-1.docker.io").canonical(), "docker.io");
        assert_eq!(
            addr("index.docker.io/library").canonical(),
            "docker.io/library"
        );
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "https://quay.io",
            "quay .io",
            "Quay.io",
            "quay.io:0",
            "quay.io:http",
            "quay.io/",
            "quay.io/Org",
            "quay.io/org:tag",
            "-bad.example.com",
            "a..b",
        ] {
            assert!(
                bad.parse::<RegistryAddress>().is_err(),
                "{bad:?} was accepted"
            );
        }
        let err = "https://quay.io/".parse::<RegistryAddress>().unwrap_err();
        assert!(err.contains("write the bare host, e.g. quay.io"), "{err}");
        let err = "https://bob:hunter2@quay.io"
            .parse::<RegistryAddress>()
            .unwrap_err();
        assert!(
            !err.contains("hunter2") && err.contains("e.g. quay.io"),
            "{err}"
        );
    }
}
