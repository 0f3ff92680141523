//! `containerd-hosts`: containerd's `config_path` folder, one `<host>/hosts.toml` per registry with its mirrors, CA and client certificate files (FORMATS.md §14).

use toml_edit::{Array, DocumentMut, Item, Table, value};

use super::{DocFile, Kind, Options, Part, keyed, tls_files};
use crate::credentials::{RegistryCredential, Tls};
use crate::encoding::Encoding;
use crate::model::FileMode;

pub struct ContainerdHosts;

/// Where containerd's CRI plugin and `ctr --hosts-dir` look by convention.
const DEFAULT_ROOT: &str = "/etc/containerd/certs.d";

impl Kind for ContainerdHosts {
    fn name(&self) -> &'static str {
        "containerd-hosts"
    }

    fn extension(&self) -> &'static str {
        "toml"
    }

    /// hosts.toml holds no credential; the client key file is PEM.
    fn encodings(&self) -> &'static [Encoding] {
        &[Encoding::Lines]
    }

    fn default_path(&self) -> Option<&'static str> {
        Some(DEFAULT_ROOT)
    }

    fn is_folder(&self) -> bool {
        true
    }

    /// hosts.toml has no credential fields (containerd's "TODO: Credentials").
    fn carries(&self) -> &'static [Part] {
        &[
            Part::Mirrors,
            Part::Ca,
            Part::ClientCertificate,
            Part::SkipVerify,
        ]
    }

    fn companions(&self) -> &'static [&'static str] {
        &["containerd-config"]
    }

    fn build(
        &self,
        _: &Options,
        registries: &[RegistryCredential],
        at: Option<&str>,
    ) -> Result<Vec<DocFile>, String> {
        build(at.unwrap_or(DEFAULT_ROOT), registries)
    }
}

/// The folder's files, named relative to it; `root` is the folder's path on the node,
/// which hosts.toml names its CA and client files by.
fn build(root: &str, registries: &[RegistryCredential]) -> Result<Vec<DocFile>, String> {
    // containerd looks a registry's directory up by the name in image references
    // (`docker.io` for Hub, `host:port` as written).
    let directories = keyed(registries, |r| r.address.image_host(), Ok)?;
    let mut files = Vec::new();
    for (dir, r) in directories {
        let mut doc = DocumentMut::new();
        // Tried last, after every [host] table: the registry itself.
        doc.insert("server", value(endpoint(r)));
        let mut hosts = Table::new();
        hosts.set_implicit(true);
        for mirror in &r.mirrors {
            let mut table = Table::new();
            // A mirror serves pulls; pushes go to the registry itself.
            table.insert("capabilities", value(Array::from_iter(["pull", "resolve"])));
            // A mirror that is an inventory registry brings its own TLS files, which its
            // own directory holds.
            if let Some(own) = registries
                .iter()
                .find(|o| o.address.host_port() == mirror.host_port())
            {
                tls(
                    &mut table,
                    &format!("{root}/{}", own.address.image_host()),
                    &own.tls,
                );
            }
            hosts.insert(&mirror.to_string(), Item::Table(table));
        }
        // The registry's own table, with its TLS. It is there even without TLS: before
        // 1.7.32, containerd ignored a hosts.toml without any [host] table.
        let mut own = Table::new();
        tls(&mut own, &format!("{root}/{dir}"), &r.tls);
        hosts.insert(&endpoint(r), Item::Table(own));
        doc.insert("host", Item::Table(hosts));
        files.push(DocFile {
            name: Some(format!("{dir}/hosts.toml")),
            bytes: format!("{HEADER}{doc}").into_bytes(),
            mode: FileMode::PUBLIC,
        });
        files.extend(tls_files(&dir, &r.tls));
    }
    Ok(files)
}

const HEADER: &str =
    "# containerd registry hosts, written by regforge. Read on every pull: no restart needed.\n";

/// The registry's own endpoint: Hub images come from registry-1.docker.io.
fn endpoint(r: &RegistryCredential) -> String {
    format!("https://{}", r.address.pull_host())
}

/// A host table's TLS fields, naming the files of the directory at `dir` on the node.
fn tls(table: &mut Table, dir: &str, tls: &Tls) {
    if tls.ca.is_some() {
        table.insert("ca", value(format!("{dir}/ca.crt")));
    }
    if tls.client.is_some() {
        let pair = Array::from_iter([format!("{dir}/client.cert"), format!("{dir}/client.key")]);
        table.insert("client", value(Array::from_iter([pair])));
    }
    if tls.skip_verify {
        table.insert("skip_verify", value(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{ClientIdentity, Secret};
    use crate::documents::test_support::{basic, with};

    fn file<'f>(files: &'f [DocFile], name: &str) -> &'f DocFile {
        files
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no {name}"))
    }

    fn text(f: &DocFile) -> &str {
        std::str::from_utf8(&f.bytes).unwrap()
    }

    // Checked by hand against FORMATS.md §14 and containerd's docs/hosts.md; read by
    // Debian's containerd 1.6 (`ctr --hosts-dir`) in tests/it/containerd.rs.
    #[test]
    fn hub_behind_a_mirror_with_its_own_tls() {
        let mut hub = with("docker.io", None);
        hub.mirrors = vec!["https://mirror.internal:5000".parse().unwrap()];
        let mut mirror = basic("mirror.internal:5000", "node", "pw");
        mirror.tls = Tls {
            ca: Some("CA PEM\n".into()),
            client: Some(ClientIdentity {
                certificate: "CERT PEM\n".into(),
                key: Secret::new("KEY PEM\n".into()),
            }),
            skip_verify: false,
        };
        let files = build("/etc/containerd/certs.d", &[hub, mirror]).unwrap();
        let names: Vec<&str> = files.iter().filter_map(|f| f.name.as_deref()).collect();
        assert_eq!(
            names,
            [
                "docker.io/hosts.toml",
                "mirror.internal:5000/hosts.toml",
                "mirror.internal:5000/ca.crt",
                "mirror.internal:5000/client.cert",
                "mirror.internal:5000/client.key",
            ]
        );
        let d = "/etc/containerd/certs.d/mirror.internal:5000";
        assert_eq!(
            text(file(&files, "docker.io/hosts.toml")),
            format!(
                "{HEADER}server = \"https://registry-1.docker.io\"\n\n\
                 [host.\"https://mirror.internal:5000\"]\ncapabilities = [\"pull\", \"resolve\"]\n\
                 ca = \"{d}/ca.crt\"\nclient = [[\"{d}/client.cert\", \"{d}/client.key\"]]\n\n\
                 [host.\"https://registry-1.docker.io\"]\n"
            )
        );
        assert_eq!(
            text(file(&files, "mirror.internal:5000/hosts.toml")),
            format!(
                "{HEADER}server = \"https://mirror.internal:5000\"\n\n\
                 [host.\"https://mirror.internal:5000\"]\n\
                 ca = \"{d}/ca.crt\"\nclient = [[\"{d}/client.cert\", \"{d}/client.key\"]]\n"
            )
        );
        assert_eq!(
            file(&files, "mirror.internal:5000/client.key").mode,
            FileMode::CREDENTIALS
        );
        assert_eq!(
            file(&files, "mirror.internal:5000/ca.crt").mode,
            FileMode::PUBLIC
        );
        assert_eq!(
            text(file(&files, "mirror.internal:5000/client.key")),
            "KEY PEM\n"
        );
    }

    #[test]
    fn the_node_path_of_a_placement_is_named_inside() {
        let mut r = with("reg.example.com:5000", None);
        r.tls.ca = Some("CA\n".into());
        r.tls.skip_verify = true;
        let files = build("/var/lib/k/certs.d", &[r]).unwrap();
        assert_eq!(
            text(file(&files, "reg.example.com:5000/hosts.toml")),
            format!(
                "{HEADER}server = \"https://reg.example.com:5000\"\n\n\
                 [host.\"https://reg.example.com:5000\"]\n\
                 ca = \"/var/lib/k/certs.d/reg.example.com:5000/ca.crt\"\nskip_verify = true\n"
            )
        );
    }
}
