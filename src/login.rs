//! Validating a credential against a live registry the way `docker login` does (Registry v2 auth flow).
//!
//! `GET https://HOST/v2/`; a `401` names the scheme in `WWW-Authenticate`: `Basic` is
//! retried with the credentials, `Bearer` sends them to the token realm and retries with
//! the token. A final `200` means the credential works. The password only ever goes into
//! `Authorization` headers; no error message carries a header.

use std::time::{Duration, Instant};

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rustls::pki_types::CertificateDer;
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::credentials::Secret;
use crate::inventory::RegistryAddress;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const OVERALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Docker Hub's API host (FORMATS.md §12); `docker.io` itself serves no `/v2/`.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "TLS with {url} failed: {reason} (give the registry's CA with --ca-cert PEM, or --insecure to skip verification)"
    )]
    Tls { url: String, reason: String },
    #[error("{url} is not a Docker Registry v2 API: {reason}")]
    NotV2 { url: String, reason: String },
    #[error("unauthorized: {url} refused the credentials ({reason})")]
    Unauthorized { url: String, reason: String },
    #[error("token server {url} failed: {reason}")]
    TokenServer { url: String, reason: String },
    #[error("cannot use CA certificate {path}: {reason}")]
    CaCert { path: String, reason: String },
}

/// How the registry accepted the credential.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// `/v2/` answered 200 without asking for credentials.
    Anonymous,
    Basic,
    /// With a token from this realm.
    Bearer {
        realm: String,
    },
}

/// How the registry's TLS certificate is checked.
pub enum Trust {
    /// The system's roots, plus the CA certificates of this PEM file if one is given.
    Verify { ca_cert: Option<std::path::PathBuf> },
    /// No verification (`insecure: true`).
    Insecure,
}

/// Logs in to `address` with `username` and `password`.
pub fn validate(
    address: &RegistryAddress,
    username: &str,
    password: &Secret,
    trust: &Trust,
) -> Result<Accepted, LoginError> {
    let client = Client::new(trust)?;
    let host = if address.is_docker_hub() {
        DOCKER_HUB_API.to_string()
    } else {
        address.host_port()
    };
    let url = format!("https://{host}/v2/");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose()))
    );
    let first = client.get(&url, None)?;
    match first.status {
        200 => return Ok(Accepted::Anonymous),
        401 => {}
        other => return Err(not_v2(&url, other)),
    }
    let header = first.challenge.ok_or_else(|| LoginError::NotV2 {
        url: url.clone(),
        reason: "401 without a WWW-Authenticate challenge".into(),
    })?;
    let challenge = parse_challenge(&header).map_err(|reason| LoginError::NotV2 {
        url: url.clone(),
        reason: format!("unreadable WWW-Authenticate: {reason}"),
    })?;
    let (authorization, accepted) = match challenge.scheme {
        Scheme::Basic => (basic, Accepted::Basic),
        Scheme::Bearer => {
            let realm = challenge.param("realm").ok_or_else(|| LoginError::NotV2 {
                url: url.clone(),
                reason: "Bearer challenge without a realm".into(),
            })?;
            let token_url = token_url(realm, &challenge, username);
            let token = client.token(&token_url, realm, &basic)?;
            (
                format!("Bearer {token}"),
                Accepted::Bearer {
                    realm: realm.to_string(),
                },
            )
        }
    };
    let second = client.get(&url, Some(&authorization))?;
    match second.status {
        200 => Ok(accepted),
        401 | 403 => Err(LoginError::Unauthorized {
            url,
            reason: status_text(second.status),
        }),
        other => Err(not_v2(&url, other)),
    }
}

fn not_v2(url: &str, status: u16) -> LoginError {
    LoginError::NotV2 {
        url: url.to_string(),
        reason: format!("GET answered {}; expected 200 or 401", status_text(status)),
    }
}

fn status_text(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason());
    match reason {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The token request: realm plus `service`, each `scope`, and `account` (as docker sends),
/// URL-encoded.
fn token_url(realm: &str, challenge: &Challenge, username: &str) -> String {
    let mut query: Vec<String> = Vec::new();
    for (key, value) in &challenge.params {
        if key == "service" {
            query.push(format!("service={}", encode(value)));
        } else if key == "scope" {
            // Several scopes are one space-separated value in a challenge.
            for scope in value.split(' ').filter(|s| !s.is_empty()) {
                query.push(format!("scope={}", encode(scope)));
            }
        }
    }
    query.push(format!("account={}", encode(username)));
    let sep = if realm.contains('?') { '&' } else { '?' };
    format!("{realm}{sep}{}", query.join("&"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[derive(Debug, PartialEq, Eq)]
pub enum Scheme {
    Basic,
    Bearer,
}

/// One `WWW-Authenticate` challenge: scheme and `key=value` parameters, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: Scheme,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the first challenge of a `WWW-Authenticate` value (RFC 7235): the scheme is
/// case-insensitive, parameter names are lower-cased, values may be quoted (with commas
/// and `\"` escapes inside).
pub fn parse_challenge(header: &str) -> Result<Challenge, String> {
    let header = header.trim_start();
    let end = header.find([' ', '\t']).unwrap_or(header.len());
    let scheme = match header[..end].to_ascii_lowercase().as_str() {
        "basic" => Scheme::Basic,
        "bearer" => Scheme::Bearer,
        "" => return Err("empty challenge".into()),
        other => {
            return Err(format!(
                "unsupported scheme `{other}`; expected Basic or Bearer"
            ));
        }
    };
    let mut params = Vec::new();
    let mut rest = header[end..].trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find(['=', ','])
            .filter(|&i| rest.as_bytes()[i] == b'=');
        let key = eq.map(|i| rest[..i].trim());
        let (Some(eq), Some(key)) = (eq, key) else {
            break;
        };
        if key.contains(char::is_whitespace) {
            // A scheme before the name starts the next challenge (`Basic realm=…, Bearer …`).
            break;
        }
        let key = key.to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut close = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        close = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let close = close.ok_or_else(|| format!("unterminated quoted value of `{key}`"))?;
            (value, &quoted[close + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        if key.is_empty() {
            return Err("a parameter without a name".into());
        }
        params.push((key, value));
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(Challenge { scheme, params })
}

struct Response {
    status: u16,
    challenge: Option<String>,
}

struct Client {
    agent: Agent,
    deadline: Instant,
}

impl Client {
    fn new(trust: &Trust) -> Result<Client, LoginError> {
        let tls = match trust {
            Trust::Insecure => TlsConfig::builder().disable_verification(true).build(),
            Trust::Verify { ca_cert } => TlsConfig::builder()
                .root_certs(roots(ca_cert.as_deref())?)
                .build(),
        };
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(OVERALL_TIMEOUT))
            .tls_config(tls)
            .user_agent(concat!("regforge/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = match trust {
            // With --ca-cert: its certificates are roots, and pinned as server
            // certificates (a self-signed registry's own, marked CA:TRUE).
            Trust::Verify {
                ca_cert: Some(path),
            } => {
                use ureq::unversioned::resolver::DefaultResolver;
                use ureq::unversioned::transport::{Connector, TcpConnector};
                let (roots, pins) = pinned_roots(path)?;
                let tls = crate::pinned_tls::client_config(roots, pins).map_err(|reason| {
                    LoginError::CaCert {
                        path: path.display().to_string(),
                        reason,
                    }
                })?;
                let connector =
                    ().chain(TcpConnector::default())
                        .chain(crate::pinned_tls::PinnedConnector { config: tls });
                Agent::with_parts(config, connector, DefaultResolver::default())
            }
            _ => config.new_agent(),
        };
        Ok(Client {
            agent,
            deadline: Instant::now() + OVERALL_TIMEOUT,
        })
    }

    /// The time left of the overall budget, for the next request.
    fn remaining(&self) -> Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    }

    fn get(&self, url: &str, authorization: Option<&str>) -> Result<Response, LoginError> {
        let mut request = self.agent.get(url);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request
            .config()
            .timeout_global(Some(self.remaining()))
            .build()
            .call()
            .map_err(|e| transport_error(url, &e))?;
        Ok(Response {
            status: response.status().as_u16(),
            challenge: response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        })
    }

    fn token(&self, url: &str, realm: &str, basic: &str) -> Result<String, LoginError> {
        let fail = |reason: String| LoginError::TokenServer {
            url: realm.to_string(),
            reason,
        };
        let mut response = self
            .agent
            .get(url)
            .header("Authorization", basic)
            .config()
            .timeout_global(Some(self.remaining()))
            .build()
            .call()
            .map_err(|e| match transport_error(realm, &e) {
                LoginError::Unreachable { reason, .. } => fail(format!("unreachable: {reason}")),
                other => other,
            })?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(LoginError::Unauthorized {
                    url: realm.to_string(),
                    reason: format!(
                        "the token server answered {}",
                        status_text(response.status().as_u16())
                    ),
                });
            }
            other => return Err(fail(format!("answered {}", status_text(other)))),
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| fail(format!("cannot read the answer: {}", describe(&e))))?;
        token_from_json(&body)
            .ok_or_else(|| fail("the answer is not JSON with a `token` or `access_token`".into()))
    }
}

fn token_from_json(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    ["token", "access_token"]
        .iter()
        .find_map(|k| value.get(k)?.as_str().filter(|t| !t.is_empty()))
        .map(str::to_string)
}

/// The system's roots plus the certificates of `ca_cert`, and those certificates alone
/// (to pin), for rustls.
fn pinned_roots(
    ca_cert: &std::path::Path,
) -> Result<(Vec<CertificateDer<'static>>, Vec<CertificateDer<'static>>), LoginError> {
    use rustls::pki_types::pem::PemObject;
    let fail = |reason: String| LoginError::CaCert {
        path: ca_cert.display().to_string(),
        reason,
    };
    let pem = std::fs::read(ca_cert).map_err(|e| fail(crate::fsio::io_reason(&e)))?;
    let pins = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not PEM: {e}")))?;
    if pins.is_empty() {
        return Err(fail("the file holds no PEM certificate".into()));
    }
    let mut roots = rustls_native_certs::load_native_certs().certs;
    roots.extend(pins.iter().cloned());
    Ok((roots, pins))
}

/// The system's roots (the platform's CA bundle) plus the certificates of `ca_cert`;
/// Mozilla's bundle when the system has none.
fn roots(ca_cert: Option<&std::path::Path>) -> Result<RootCerts, LoginError> {
    let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_cert {
        let fail = |reason: String| LoginError::CaCert {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| fail(crate::fsio::io_reason(&e)))?;
        let before = certs.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let ureq::tls::PemItem::Certificate(cert) =
                item.map_err(|e| fail(format!("not PEM: {e}")))?
            {
                certs.push(cert);
            }
        }
        if certs.len() == before {
            return Err(fail("the file holds no PEM certificate".into()));
        }
    }
    Ok(if certs.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::new_with_certs(&certs)
    })
}

/// Sorts a transport error into unreachable or TLS. ureq's messages name the URL and the
/// cause, never request headers, so the credentials cannot appear in them.
fn transport_error(url: &str, e: &ureq::Error) -> LoginError {
    let reason = describe(e);
    let tls = matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
        || matches!(e, ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()));
    if tls {
        LoginError::Tls {
            url: url.to_string(),
            reason,
        }
    } else {
        LoginError::Unreachable {
            url: url.to_string(),
            reason,
        }
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => match io.get_ref() {
            Some(inner) => inner.to_string(),
            None => crate::fsio::io_reason(io),
        },
        ureq::Error::Timeout(_) => format!("timed out ({e})"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn bearer_challenge_with_quoted_commas() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, Scheme::Bearer);
        assert_eq!(
            params(&c),
            [
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:samalba/my-app:pull,push"),
            ]
        );
    }

    #[test]
    fn scheme_and_names_are_case_insensitive_and_spaces_allowed() {
        let c = parse_challenge(r#"  bEaReR Realm = "https://h/t" , SERVICE=plain-value"#).unwrap();
        assert_eq!(c.scheme, Scheme::Bearer);
        assert_eq!(
            params(&c),
            [("realm", "https://h/t"), ("service", "plain-value")]
        );
        let c = parse_challenge(r#"BASIC realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, Scheme::Basic);
        assert_eq!(c.param("realm"), Some("Registry Realm"));
    }

    #[test]
    fn escapes_and_a_second_challenge() {
        let c = parse_challenge(r#"Basic realm="say \"hi\", ok", Bearer realm="x""#).unwrap();
        assert_eq!(params(&c), [("realm", r#"say "hi", ok"#)]);
        assert!(parse_challenge(r#"Bearer realm="open"#).is_err());
        assert!(
            parse_challenge("Negotiate abc")
                .unwrap_err()
                .contains("negotiate")
        );
        assert!(parse_challenge("").is_err());
    }

    #[test]
    fn token_url_encodes_service_scopes_and_account() {
        let c = parse_challenge(
            r#"Bearer realm="https://t.example/token?x=1",service="my registry",scope="repository:a/b:pull registry:catalog:*""#,
        )
        .unwrap();
        assert_eq!(
            token_url("https://t.example/token?x=1", &c, "me@x"),
            "https://t.example/token?x=1&service=my%20registry&scope=repository%3Aa%2Fb%3Apull&scope=registry%3Acatalog%3A%2A&account=me%40x"
        );
    }

    #[test]
    fn status_texts_carry_the_reason_phrase_when_one_exists() {
        assert_eq!(status_text(401), "401 Unauthorized");
        assert_eq!(status_text(429), "429 Too Many Requests");
        assert_eq!(status_text(599), "599");
    }

    #[test]
    fn token_is_read_from_either_key() {
        assert_eq!(token_from_json(r#"{"token":"t1"}"#).as_deref(), Some("t1"));
        assert_eq!(
            token_from_json(r#"{"access_token":"t2","expires_in":60}"#).as_deref(),
            Some("t2")
        );
        assert_eq!(token_from_json(r#"{"token":""}"#), None);
        assert_eq!(token_from_json("<html>"), None);
    }
}
