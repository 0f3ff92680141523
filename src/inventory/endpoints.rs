//! Validating what a registry brings besides its login: mirrors, CA and client certificate files, skip_verify.

use std::mem;

use super::raw::RawRegistry;
use super::{InventoryError, MirrorUrl, Registry, RegistryAddress, Rule, TlsFiles, Validator};
use crate::credentials::{FileSource, SecretRef};

impl Validator<'_> {
    /// The registry's mirrors, in order, each once and none the registry itself.
    pub(super) fn mirrors(
        &self,
        at: &str,
        address: &RegistryAddress,
        r: &mut RawRegistry,
    ) -> Result<Vec<MirrorUrl>, InventoryError> {
        let mut out: Vec<MirrorUrl> = Vec::new();
        for (j, written) in mem::take(&mut r.mirrors).into_iter().enumerate() {
            let field = format!("{at}.mirrors[{j}]");
            let mirror: MirrorUrl = match written.parse() {
                Ok(m) => m,
                Err(message) => return self.error(&field, message),
            };
            if mirror.address().canonical() == address.canonical() {
                return self.error(
                    &field,
                    "a registry is not its own mirror: consumers try the registry itself after its mirrors",
                );
            }
            if out.contains(&mirror) {
                return self.error(&field, format!("mirror {mirror} is listed twice"));
            }
            out.push(mirror);
        }
        Ok(out)
    }

    /// Warns about each mirror of a registry with a login that is no registry itself:
    /// containerd, k3s, CRI-O, podman and Talos send a mirror the login of the mirror's
    /// own host, so the upstream login never reaches it. `fields[k]` is where
    /// `registries[k]` is written.
    pub(super) fn mirror_logins(&mut self, registries: &[Registry], fields: &[usize]) {
        let known: Vec<String> = registries.iter().map(|r| r.address.canonical()).collect();
        for (r, i) in registries.iter().zip(fields) {
            if r.login.is_none() {
                continue;
            }
            for (j, mirror) in r.mirrors.iter().enumerate() {
                if known.contains(&mirror.address().canonical()) {
                    continue;
                }
                self.warn(
                    Rule::MirrorLogin,
                    &format!("registries[{i}].mirrors[{j}]"),
                    format!(
                        "consumers pulling through the mirror send it the login of {host}, not this one of {}; if the mirror needs a login, add {host} as a registry of its own",
                        r.address,
                        host = mirror.host_port(),
                    ),
                );
            }
        }
    }

    /// The registry's CA, client certificate and key files, and skip_verify (which warns).
    pub(super) fn tls(
        &mut self,
        at: &str,
        r: &mut RawRegistry,
    ) -> Result<TlsFiles, InventoryError> {
        let ca = self.pem_file(at, "ca", r.ca.take())?;
        let cert = self.pem_file(at, "client_cert", r.client_cert.take())?;
        let key = self.pem_file(at, "client_key", r.client_key.take())?;
        let client = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => {
                return self.error(
                    &format!("{at}.client_cert"),
                    "give client_key beside client_cert: consumers present them as a pair",
                );
            }
            (None, Some(_)) => {
                return self.error(
                    &format!("{at}.client_key"),
                    "give client_cert beside client_key: consumers present them as a pair",
                );
            }
        };
        if r.skip_verify {
            self.warn(
                Rule::SkipVerify,
                &format!("{at}.skip_verify"),
                "consumers will not verify this registry's certificate: anyone on the path can serve its images; prefer `ca: {file: PATH}`",
            );
        }
        Ok(TlsFiles {
            ca,
            client,
            skip_verify: r.skip_verify,
        })
    }

    /// A `{file: PATH}` the registry names at `at.key`: its bytes go onto nodes as they are.
    fn pem_file(
        &self,
        at: &str,
        key: &str,
        written: Option<SecretRef>,
    ) -> Result<Option<FileSource>, InventoryError> {
        let field = format!("{at}.{key}");
        match written {
            None => Ok(None),
            Some(SecretRef::File(path)) => Ok(Some(FileSource {
                path,
                origin: self.map.origin(&field),
            })),
            Some(_) => self.error(
                &field,
                format!("write {key}: {{file: PATH}}, a PEM file whose bytes are placed on nodes as they are"),
            ),
        }
    }
}
