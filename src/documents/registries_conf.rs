//! `registries-conf`: a containers-registries.conf(5) v2 drop-in with each registry's mirrors and `insecure`, read by podman, CRI-O, skopeo, buildah and bootc (FORMATS.md §17).

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use super::{DocFile, Kind, Options, Part, keyed};
use crate::credentials::RegistryCredential;
use crate::encoding::Encoding;
use crate::model::{FileMode, MirrorUrl};

pub struct RegistriesConf;

impl Kind for RegistriesConf {
    fn name(&self) -> &'static str {
        "registries-conf"
    }

    fn extension(&self) -> &'static str {
        "conf"
    }

    /// registries.conf holds no credential.
    fn encodings(&self) -> &'static [Encoding] {
        &[]
    }

    /// A drop-in: only `.conf` files of registries.conf.d are read, in name order.
    fn default_path(&self) -> Option<&'static str> {
        Some("/etc/containers/registries.conf.d/50-regforge.conf")
    }

    fn carries(&self) -> &'static [Part] {
        &[Part::Mirrors, Part::SkipVerify]
    }

    fn companions(&self) -> &'static [&'static str] {
        &["containers-auth", "certs-d"]
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        _at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        // One table per prefix: a later [[registry]] with the same prefix replaces the
        // earlier, so two registries on one prefix would lose one.
        let tables = keyed(registries, prefix, Ok)?;
        let mut list = ArrayOfTables::new();
        for (prefix, r) in tables {
            let mut table = Table::new();
            table.insert("prefix", value(prefix.as_str()));
            table.insert("location", value(prefix.as_str()));
            if r.tls.skip_verify {
                table.insert("insecure", value(true));
            }
            let mut mirrors = ArrayOfTables::new();
            for mirror in &r.mirrors {
                mirrors.push(mirror_table(mirror, registries));
            }
            if !mirrors.is_empty() {
                table.insert("mirror", Item::ArrayOfTables(mirrors));
            }
            list.push(table);
        }
        let mut doc = DocumentMut::new();
        doc.insert("registry", Item::ArrayOfTables(list));
        Ok(vec![DocFile {
            name: None,
            bytes: format!("{HEADER}{doc}").into_bytes(),
            mode: FileMode::PUBLIC,
        }])
    }
}

const HEADER: &str = "# containers-registries.conf(5) v2, written by regforge: mirrors are tried in order before each registry, for pulls.\n";

/// The prefix image references match, as written, without a scheme. Docker Hub is
/// `docker.io`, which every normalised Hub reference (`docker.io/library/…`) starts with.
fn prefix(r: &RegistryCredential) -> String {
    match r.address.namespace() {
        Some(ns) => format!("{}/{ns}", r.address.image_host()),
        None => r.address.image_host(),
    }
}

/// A mirror as registries.conf takes it: a location without a scheme, `insecure` for
/// plain HTTP or when the mirror's own inventory entry skips verification.
fn mirror_table(mirror: &MirrorUrl, registries: &[RegistryCredential]) -> Table {
    let mut table = Table::new();
    let location = mirror.to_string();
    let location = location
        .split_once("://")
        .map_or(location.as_str(), |(_, rest)| rest);
    table.insert("location", value(location));
    let skips = registries
        .iter()
        .any(|r| r.address.host_port() == mirror.host_port() && r.tls.skip_verify);
    if !mirror.is_https() || skips {
        table.insert("insecure", value(true));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_support::with;

    // Checked by hand against containers-registries.conf(5) and FORMATS.md §17's minimal
    // example; parsed by podman and skopeo in tests/it/containers.rs.
    #[test]
    fn mirrors_in_order_without_schemes_and_insecure_where_needed() {
        let mut hub = with("docker.io", None);
        hub.mirrors = vec![
            "https://mirror.example.com:5000".parse().unwrap(),
            "http://10.0.0.5:5000/cache".parse().unwrap(),
        ];
        let mut team = with("reg.example.com:5000/team", None);
        team.tls.skip_verify = true;
        let files = RegistriesConf
            .build(&Options::none(), &[hub, team], None)
            .unwrap();
        assert_eq!(
            String::from_utf8(files[0].bytes.clone()).unwrap(),
            format!(
                "{HEADER}[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n\n\
                 [[registry.mirror]]\nlocation = \"mirror.example.com:5000\"\n\n\
                 [[registry.mirror]]\nlocation = \"10.0.0.5:5000/cache\"\ninsecure = true\n\n\
                 [[registry]]\nprefix = \"reg.example.com:5000/team\"\nlocation = \"reg.example.com:5000/team\"\ninsecure = true\n"
            )
        );
    }
}
