//! Verify for Ignition JSON: every placed file and home directory, read as Ignition reads them.

use serde_json::Value;

use crate::data_url;
use crate::delivery::{self, PlacedFile};
use crate::formats::Version;
use crate::hash::Sha512Hash;
use crate::inventory::{Delivery, FileMode};

/// What is wrong (`config`, or the node path concerned) and how.
pub type Problem = (String, String);

pub fn verify(spec: &Version, rendered: &str, files: &[PlacedFile]) -> Result<(), Problem> {
    let config = |problem: String| ("config".to_string(), problem);
    let doc: Value =
        serde_json::from_str(rendered).map_err(|e| config(format!("it is not valid JSON: {e}")))?;
    if doc.pointer("/ignition/version").and_then(Value::as_str) != Some(spec.translates_to) {
        return Err(config(format!(
            "ignition.version is not {}",
            spec.translates_to
        )));
    }
    let nodes = |key: &str| {
        doc.pointer(&format!("/storage/{key}"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    for file in files {
        let entry = only_entry(nodes("files"), &file.path)?;
        check_file(entry, file).map_err(|problem| (file.path.clone(), problem))?;
    }
    // The same directories delivery declared for the template; a template may add more.
    for dir in delivery::home_directories(files).map_err(config)? {
        let entry = only_entry(nodes("directories"), &dir.path)?;
        check_node(entry, dir.mode, dir.user.as_deref(), dir.group.as_deref())
            .map_err(|problem| (dir.path.clone(), problem))?;
    }
    Ok(())
}

fn only_entry<'a>(entries: &'a [Value], path: &str) -> Result<&'a Value, Problem> {
    let matching: Vec<&Value> = entries
        .iter()
        .filter(|e| e.get("path").and_then(Value::as_str) == Some(path))
        .collect();
    match matching[..] {
        [entry] => Ok(entry),
        _ => Err((
            path.to_string(),
            format!("it is declared {} times, not once", matching.len()),
        )),
    }
}

/// Mode in decimal, and owners as `{"name": …}`, the fields files and directories share.
fn check_node(
    entry: &Value,
    mode: FileMode,
    user: Option<&str>,
    group: Option<&str>,
) -> Result<(), String> {
    if entry.get("mode").and_then(Value::as_u64) != Some(u64::from(mode.bits())) {
        return Err(format!("mode is not {} (decimal {})", mode, mode.bits()));
    }
    for (key, want) in [("user", user), ("group", group)] {
        let got = entry
            .pointer(&format!("/{key}/name"))
            .and_then(Value::as_str);
        if got != want {
            return Err(format!("{key}.name is not {}", want.unwrap_or("unset")));
        }
    }
    Ok(())
}

fn check_file(entry: &Value, file: &PlacedFile) -> Result<(), String> {
    let spec = file.spec;
    check_node(
        entry,
        spec.mode,
        spec.user.as_deref(),
        spec.group.as_deref(),
    )?;
    if entry.get("overwrite").and_then(Value::as_bool) != Some(true) {
        return Err("overwrite is not true".into());
    }
    let contents = entry.get("contents").ok_or("it has no contents")?;
    // Ignition hashes and writes decompressed data; regforge never compresses, so a
    // compressed source could not be compared with the document.
    match contents.get("compression") {
        None | Some(Value::Null) => {}
        Some(Value::String(c)) if c.is_empty() => {}
        Some(_) => {
            return Err(
                "contents.compression is set; regforge places uncompressed contents".into(),
            );
        }
    }
    let source = contents
        .get("source")
        .and_then(Value::as_str)
        .ok_or("contents.source is missing")?;
    let hash = contents
        .pointer("/verification/hash")
        .and_then(Value::as_str);
    match spec.delivery {
        Delivery::Inline => {
            let bytes = data_url::decode(source)?;
            if bytes != file.document.bytes {
                return Err(format!(
                    "the data: URL holds {} bytes that differ from the document ({} bytes)",
                    bytes.len(),
                    file.document.bytes.len()
                ));
            }
            // Not needed for a data: URL, but Ignition checks one if it is there.
            match hash {
                Some(hash) => same_hash(hash, &file.hash),
                None => Ok(()),
            }
        }
        Delivery::Remote => {
            let want = file.artifact.as_ref().and_then(|a| a.url.as_deref());
            if Some(source) != want {
                return Err(format!(
                    "contents.source is not {}",
                    want.unwrap_or("the artifact URL")
                ));
            }
            same_hash(
                hash.ok_or("contents.verification.hash is missing")?,
                &file.hash,
            )
        }
        Delivery::Local => Err("local delivery has no place in Ignition".into()),
    }
}

fn same_hash(text: &str, want: &Sha512Hash) -> Result<(), String> {
    if text.parse::<Sha512Hash>()? == *want {
        Ok(())
    } else {
        Err("contents.verification.hash is not the document's sha512".into())
    }
}

#[cfg(test)]
mod tests {
    use crate::delivery;
    use crate::documents::{Document, DocumentKind, DocumentSpec};
    use crate::formats::butane::VERSIONS;
    use crate::inventory::{Delivery, FileMode, FileSpec, Target, TargetFormat};
    use crate::render;

    fn target(files: Vec<FileSpec>) -> Target {
        Target {
            name: "bin".into(),
            format: TargetFormat::Ignition(&VERSIONS[0]),
            document: None,
            registries: Vec::new(),
            files,
            remote_url: None,
            template: None,
        }
    }

    #[test]
    fn binary_documents_are_placed_and_verified_byte_for_byte() {
        // A gzip header and bytes that are not UTF-8, as an archive document would have.
        let bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x80, b'%', b'\n'];
        let target = target(vec![FileSpec {
            document: DocumentSpec::MesosArchive,
            path: "/home/core/docker.tar.gz".into(),
            mode: FileMode::CREDENTIALS,
            user: Some("core".into()),
            group: None,
            delivery: Delivery::Inline,
        }]);
        let document = Document {
            kind: DocumentKind::MesosArchive,
            file_name: None,
            bytes: bytes.clone(),
        };
        let placed: Vec<_> = delivery::place(&target.files[0], vec![document], None).collect();
        let rendered = render::render(
            &render::environment(),
            &target,
            &placed,
            &[],
            &[],
            None,
            &render::Options::default(),
        )
        .unwrap();
        super::verify(&VERSIONS[0], &rendered, &placed).unwrap();
        let config: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        let source = config["storage"]["files"][0]["contents"]["source"]
            .as_str()
            .unwrap();
        assert_eq!(crate::data_url::decode(source).unwrap(), bytes);

        let tampered = rendered.replace(source, "data:,%1F%8B");
        let (what, problem) = super::verify(&VERSIONS[0], &tampered, &placed).unwrap_err();
        assert_eq!(what, "/home/core/docker.tar.gz");
        assert!(problem.contains("differ from the document"), "{problem}");
    }
}
