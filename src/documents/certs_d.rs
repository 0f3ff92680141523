//! `certs-d`: the `certs.d` folder of podman, CRI-O, skopeo, buildah and docker, one `<host[:port]>/` of CA and client files per registry (FORMATS.md §17, §19).

use super::{DocFile, Kind, Options, Part, keyed, tls_files};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;

pub struct CertsD;

impl Kind for CertsD {
    fn name(&self) -> &'static str {
        "certs-d"
    }

    fn extension(&self) -> &'static str {
        "crt"
    }

    /// The client key file is PEM.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Lines]
    }

    /// containers/image's system folder; docker's is /etc/docker/certs.d.
    fn default_path(&self) -> Option<&'static str> {
        Some("/etc/containers/certs.d")
    }

    fn is_folder(&self) -> bool {
        true
    }

    fn carries(&self) -> &'static [Part] {
        &[Part::Ca, Part::ClientCertificate]
    }

    fn companions(&self) -> &'static [&'static str] {
        &["containers-auth", "registries-conf"]
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        // A folder per registry as image references name it (`reg.example.com:5000`,
        // `docker.io`); its files are named as containers/image and docker read them: a
        // client certificate must not end in `.crt`, which is read as a CA.
        let folders = keyed(registries, |r| r.address.image_host(), Ok)?;
        Ok(folders
            .into_iter()
            .flat_map(|(folder, r)| tls_files(&folder, &r.tls))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{ClientIdentity, Secret};
    use crate::documents::test_support::with;
    use crate::model::FileMode;

    // Names checked by hand against containers-certs.d(5) and containers/image
    // pkg/tlsclientconfig; read by skopeo --cert-dir in tests/it/containers.rs.
    #[test]
    fn one_folder_per_registry_with_its_files() {
        let mut r = with("reg.example.com:5000", None);
        r.tls.ca = Some("CA\n".into());
        r.tls.client = Some(ClientIdentity {
            certificate: "CERT\n".into(),
            key: Secret::new("KEY\n".into()),
        });
        let files = CertsD.build(&Options::none(), &[r], None).unwrap();
        let got: Vec<(String, FileMode)> = files
            .iter()
            .map(|f| (f.name.clone().unwrap(), f.mode))
            .collect();
        assert_eq!(
            got,
            [
                ("reg.example.com:5000/ca.crt".to_string(), FileMode::PUBLIC),
                (
                    "reg.example.com:5000/client.cert".to_string(),
                    FileMode::PUBLIC
                ),
                (
                    "reg.example.com:5000/client.key".to_string(),
                    FileMode::CREDENTIALS
                ),
            ]
        );
    }
}
