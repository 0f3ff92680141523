//! What the node runtimes' documents (containerd, k3s/RKE2, Talos) share: logins as runtimes take them, their refusal of helpers, TLS files.

use super::{CredentialKind, DocFile};
use crate::credentials::{Credential, RegistryCredential, Tls};
use crate::model::{FileMode, RegistryAddress};

/// A login as node runtimes (containerd, k3s, Talos) take it: a username and password,
/// or a token alone, since containerd's ParseAuth takes a username before a token and
/// Talos refuses both. None for a helper, which they refuse, or no login.
pub(super) struct NodeAuth<'a> {
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub token: Option<&'a str>,
}

impl<'a> NodeAuth<'a> {
    pub fn of(registry: &'a RegistryCredential) -> Option<NodeAuth<'a>> {
        match registry.credential.as_ref()? {
            Credential::Basic { username, password } => Some(NodeAuth {
                username: Some(username),
                password: Some(password.expose()),
                token: None,
            }),
            Credential::Token { identity_token, .. } => Some(NodeAuth {
                username: None,
                password: None,
                token: Some(identity_token.expose()),
            }),
            Credential::Helper { .. } => None,
        }
    }
}

/// The refusal of a consumer that runs no credential helpers (node runtimes: kubelet's
/// credential providers run them instead).
pub(super) fn no_helper(
    address: &RegistryAddress,
    credential: CredentialKind,
    runtime: &str,
) -> Option<String> {
    matches!(credential, CredentialKind::Helper { .. }).then(|| {
        format!(
            "registry {address} uses a credential helper; {runtime} none (kubelet's credential providers do)"
        )
    })
}

/// A registry's CA and client files, as the inventory's files hold them, named
/// `ca.crt`, `client.cert` and `client.key` in `dir` (the names docker's certs.d uses).
pub(super) fn tls_files(dir: &str, tls: &Tls) -> Vec<DocFile> {
    let mut files = Vec::new();
    if let Some(ca) = &tls.ca {
        files.push(DocFile {
            name: Some(format!("{dir}/ca.crt")),
            bytes: ca.clone().into_bytes(),
            mode: FileMode::PUBLIC,
        });
    }
    if let Some(client) = &tls.client {
        files.push(DocFile {
            name: Some(format!("{dir}/client.cert")),
            bytes: client.certificate.clone().into_bytes(),
            mode: FileMode::PUBLIC,
        });
        files.push(DocFile::credentials(
            Some(format!("{dir}/client.key")),
            client.key.expose().as_bytes().to_vec(),
        ));
    }
    files
}
