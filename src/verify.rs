//! Verify: reads each rendered config back and proves every placed file decodes to the document's bytes.

mod ignition;

use base64::Engine;
use serde_yaml::Value;

use crate::delivery::PlacedFile;
use crate::hash::Sha512Hash;
use crate::inventory::{Delivery, FileMode, Target, TargetFormat};

#[derive(Debug, thiserror::Error)]
#[error(
    "target {target}: the rendered {what} does not match what regforge computed: {problem}\n  {blame}"
)]
pub struct VerifyError {
    pub target: String,
    pub what: String,
    pub problem: String,
    pub blame: &'static str,
}

pub fn verify(target: &Target, rendered: &str, files: &[PlacedFile]) -> Result<(), VerifyError> {
    let fail = |what: &str, problem: String| VerifyError {
        target: target.name.clone(),
        what: what.to_string(),
        problem,
        blame: if target.template.is_some() {
            "check the target's template: it must place every file with the values it is given"
        } else {
            "this is a bug in regforge; please report it with the target's inventory (without secrets)"
        },
    };
    if let TargetFormat::Ignition(spec) = target.format {
        return ignition::verify(spec, rendered, files)
            .map_err(|(what, problem)| fail(&what, problem));
    }
    let doc: Value = serde_yaml::from_str(rendered)
        .map_err(|e| fail("config", format!("it is not valid YAML: {e}")))?;
    let entries = match target.format {
        TargetFormat::Butane(spec) => {
            for (key, want) in [("variant", spec.variant), ("version", spec.version)] {
                if doc.get(key).and_then(Value::as_str) != Some(want) {
                    return Err(fail("config", format!("`{key}` is not {want}")));
                }
            }
            doc.get("storage").and_then(|s| s.get("files"))
        }
        TargetFormat::CloudConfig => {
            if rendered.lines().next().map(str::trim_end) != Some("#cloud-config") {
                return Err(fail("config", "the first line is not #cloud-config".into()));
            }
            doc.get("write_files")
        }
        TargetFormat::Ignition(_) | TargetFormat::Document(_) => return Ok(()),
    };
    let entries = entries
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for file in files {
        let path = &file.path;
        let matching: Vec<&Value> = entries
            .iter()
            .filter(|e| e.get("path").and_then(Value::as_str) == Some(path))
            .collect();
        let [entry] = matching[..] else {
            return Err(fail(
                path,
                format!("the file is placed {} times, not once", matching.len()),
            ));
        };
        let check = match target.format {
            TargetFormat::Butane(_) => check_butane_file(entry, file),
            _ => check_cloud_config_file(entry, file),
        };
        check.map_err(|problem| fail(path, problem))?;
    }
    Ok(())
}

fn mode_of(entry: &Value, key: &str) -> Option<FileMode> {
    let text = match entry.get(key)? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    FileMode::from_yaml(&text, true).ok()
}

fn check_butane_file(entry: &Value, file: &PlacedFile) -> Result<(), String> {
    if mode_of(entry, "mode") != Some(file.spec.mode) {
        return Err(format!("mode is not {}", file.spec.mode));
    }
    if entry.get("overwrite").and_then(Value::as_bool) != Some(true) {
        return Err("overwrite is not true".into());
    }
    for (key, want) in [("user", &file.spec.user), ("group", &file.spec.group)] {
        let got = entry
            .get(key)
            .and_then(|o| o.get("name"))
            .and_then(Value::as_str);
        if got != want.as_deref() {
            return Err(format!(
                "{key} is not {}",
                want.as_deref().unwrap_or("unset")
            ));
        }
    }
    let contents = entry.get("contents").ok_or("it has no contents")?;
    let text = |key: &str| contents.get(key).and_then(Value::as_str);
    let artifact = file.artifact.as_ref();
    match file.spec.delivery {
        Delivery::Inline => {
            let bytes =
                match (text("inline"), text("source")) {
                    (Some(inline), None) => inline.as_bytes().to_vec(),
                    (None, Some(url)) => crate::data_url::decode(url)?,
                    _ => return Err(
                        "inline delivery needs exactly one of contents.inline or a data: source"
                            .into(),
                    ),
                };
            same_bytes(&bytes, &file.document.bytes)
        }
        Delivery::Remote => {
            let want_url = artifact.and_then(|a| a.url.as_deref());
            if text("source") != want_url {
                return Err(format!(
                    "contents.source is not {}",
                    want_url.unwrap_or("the artifact URL")
                ));
            }
            let hash = contents
                .get("verification")
                .and_then(|v| v.get("hash"))
                .and_then(Value::as_str);
            let hash: Sha512Hash = hash
                .ok_or("contents.verification.hash is missing")?
                .parse()?;
            if hash != Sha512Hash::of(&file.document.bytes) {
                return Err("contents.verification.hash is not the artifact's sha512".into());
            }
            Ok(())
        }
        Delivery::Local => match (text("local"), artifact) {
            (Some(local), Some(a)) if local == a.name => Ok(()),
            _ => Err("contents.local does not name the artifact in files/".into()),
        },
    }
}

fn check_cloud_config_file(entry: &Value, file: &PlacedFile) -> Result<(), String> {
    // cloud-init's schema wants a string; an unquoted decimal would also be misread.
    if !entry.get("permissions").is_some_and(Value::is_string)
        || mode_of(entry, "permissions") != Some(file.spec.mode)
    {
        return Err(format!("permissions are not '{}'", file.spec.mode));
    }
    let owner = entry.get("owner").and_then(Value::as_str);
    let want_owner = file.spec.owner();
    if owner != want_owner.as_deref() {
        return Err(format!(
            "owner is not {}",
            want_owner.as_deref().unwrap_or("unset")
        ));
    }
    let content = entry
        .get("content")
        .and_then(Value::as_str)
        .ok_or("it has no content")?;
    let bytes = match entry.get("encoding").and_then(Value::as_str) {
        None => content.as_bytes().to_vec(),
        Some("b64" | "base64") => decode_base64(content)?,
        Some(other) => return Err(format!("encoding {other} is not one regforge writes")),
    };
    same_bytes(&bytes, &file.document.bytes)
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("base64 content does not decode: {e}"))
}

fn same_bytes(got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "the placed content ({} bytes) differs from the document ({} bytes)",
            got.len(),
            want.len()
        ))
    }
}
