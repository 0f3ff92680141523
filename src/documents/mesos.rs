//! `mesos-archive`: the `docker.tar.gz` Mesos agents fetch for the Docker containerizer (FORMATS.md §5).

use std::io::Write;

use flate2::{Compression, GzBuilder};

use super::{DocFile, Kind, Options, docker_config};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;

pub struct MesosArchive;

impl Kind for MesosArchive {
    fn name(&self) -> &'static str {
        "mesos-archive"
    }

    fn extension(&self) -> &'static str {
        "tar.gz"
    }

    /// A gzip'd tar holding docker's config.json.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Gzip, Encoding::Json, Encoding::Base64]
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        archive(registries).map(DocFile::one)
    }
}

/// `.docker/` and `.docker/config.json`, reproducible to the byte: fixed order, modes,
/// owner 0/0 and mtime 0, and a gzip header without name or time.
fn archive(registries: &[RegistryCredential]) -> Result<Vec<u8>, String> {
    let config = docker_config::build(registries)?;
    let mut tar = tar::Builder::new(Vec::new());
    let entry = |path: &str, kind: tar::EntryType, mode: u32, size: usize| {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(size as u64);
        header
            .set_path(path)
            .expect("fixed archive paths are valid");
        header.set_cksum();
        header
    };
    let io = |e: std::io::Error| format!("cannot build the archive: {e}");
    tar.append(
        &entry(".docker/", tar::EntryType::Directory, 0o700, 0),
        &[][..],
    )
    .map_err(io)?;
    tar.append(
        &entry(
            ".docker/config.json",
            tar::EntryType::Regular,
            0o600,
            config.len(),
        ),
        config.as_slice(),
    )
    .map_err(io)?;
    let tar = tar.into_inner().map_err(io)?;
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    gz.write_all(&tar).map_err(io)?;
    gz.finish().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::basic;

    #[test]
    fn archive_is_reproducible_and_holds_the_docker_config() {
        let registries = [basic("quay.io", "robot", "pw")];
        let a = archive(&registries).unwrap();
        assert_eq!(a, archive(&registries).unwrap());
        // gzip header: magic, deflate, no flags (no name), mtime 0, max compression, OS 255.
        assert_eq!(&a[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
        let entries: Vec<(String, u32, u64)> = tar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                (".docker/".to_string(), 0o700, 0),
                (".docker/config.json".to_string(), 0o600, 0)
            ]
        );
    }
}
