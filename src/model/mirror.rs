//! `MirrorUrl`: an endpoint (`https://host[:port][/path]`) a consumer tries before the registry itself.

use std::fmt;
use std::str::FromStr;

use super::RegistryAddress;

/// A mirror endpoint as containerd, k3s, Talos and containers/image take it: a scheme
/// and an address. The consumer looks its credentials and TLS settings up by the
/// mirror's own `host[:port]`, not by the registry it mirrors.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MirrorUrl {
    https: bool,
    address: RegistryAddress,
}

impl MirrorUrl {
    /// The `host[:port]` the consumer contacts, and keys credentials and TLS by.
    pub fn host_port(&self) -> String {
        self.address.host_port()
    }

    /// The mirror as an address, to find an inventory registry for the same host.
    pub fn address(&self) -> &RegistryAddress {
        &self.address
    }

    pub fn is_https(&self) -> bool {
        self.https
    }
}

impl fmt::Display for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.address)
    }
}

impl FromStr for MirrorUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(
                "a mirror is a URL with its scheme, e.g. https://mirror.example.com:5000".into(),
            );
        };
        let https = match scheme {
            "https" => true,
            "http" => false,
            _ => {
                return Err(format!(
                    "a mirror's scheme is https or http, not `{scheme}`"
                ));
            }
        };
        // Never echo what stands before an `@`: it would be a password.
        if rest.split('/').next().is_some_and(|a| a.contains('@')) {
            return Err(
                "a mirror URL carries no user or password; give the mirror its own registry entry with its credentials".into(),
            );
        }
        if rest.contains(['?', '#']) {
            return Err("a mirror URL has no query or fragment".into());
        }
        let address = rest
            .trim_end_matches('/')
            .parse::<RegistryAddress>()
            .map_err(|e| format!("mirror {s}: {e}"))?;
        Ok(MirrorUrl { https, address })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scheme_host_port_and_path() {
        let m: MirrorUrl = "https://mirror.example.com:5000".parse().unwrap();
        assert_eq!(m.host_port(), "mirror.example.com:5000");
        assert!(m.is_https());
        assert_eq!(m.to_string(), "https://mirror.example.com:5000");
        let m: MirrorUrl = "http://10.0.0.1:5000/v2/".parse().unwrap();
        assert_eq!(m.host_port(), "10.0.0.1:5000");
        assert!(!m.is_https());
        assert_eq!(m.to_string(), "http://10.0.0.1:5000/v2");
    }

    #[test]
    fn refuses_what_a_consumer_cannot_use() {
        for (bad, why) in [
            ("mirror.example.com", "with its scheme"),
            ("ftp://mirror.example.com", "not `ftp`"),
            ("https://", "empty"),
            ("https://mirror.example.com?x=1", "no query"),
            ("https://Mirror.example.com", "lower case"),
        ] {
            let err = bad.parse::<MirrorUrl>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_being_echoed() {
        let err = "https://alice:hunter2@mirror.example.com"
            .parse::<MirrorUrl>()
            .unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("its own registry entry"), "{err}");
    }
}
