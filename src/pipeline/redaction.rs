//! The declarations hold: every document, alone and placed by every format, has its secrets hidden by what it and the format declare, with no eye for shapes.
//!
//! Each secret carries markers (eight letters and digits that no escape changes); the
//! test renders every kind with one registry at a time, redacts each output line by line
//! as `render --check` does, then decodes what is left the way a reader would (base64 at
//! every alignment, data URLs, gzip) and looks for any marker. The decoding is the test's
//! own, not the redactor's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::credentials::Secret;
use crate::documents::{DOCUMENTS, DocumentKind};
use crate::encoding::Encoding;
use crate::formats::{FORMATS, Format};
use crate::output::redact::Redactor;

/// A password with every character an escape touches, between two markers.
const PASSWORD: &str = "Mk1qZr4x\"\\<&>'é%: #{{ x }}\t\u{1}\u{1b}\u{2028} Mk2wYs5v";
/// A multi-line password, as a GCR `_json_key` is.
const KEY_FILE: &str =
    "{\n  \"type\": \"service_account\",\n  \"private_key\": \"Mk3eXt6q\\nMk4rWu7z\"\n}";
const TOKEN: &str = "Mk5tYv8n\"<tok>\\en&/+=";
/// A password libyaml writes single-quoted (`'…''…'`), being printable.
const QUOTED: &str = "Mk8oPq2s: it's #quoted";
const AWS_ID: &str = "AKIAMk6uZq9w";
const AWS_SECRET: &str = "Mk7iXp0r/secret+key'\"";

/// The registries, each rendered alone: its inventory entry, and its secrets' environment.
fn registries() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "{address: registry.example.com:5000, username: u, password: {env: S}}",
            vec![("S", PASSWORD)],
        ),
        (
            "{address: gcr.io, username: _json_key, password: {env: S}}",
            vec![("S", KEY_FILE)],
        ),
        (
            "{address: myregistry.azurecr.io, username: 00000000-0000-0000-0000-000000000000, identity_token: {env: S}}",
            vec![("S", TOKEN)],
        ),
        (
            "{address: 012345678910.dkr.ecr.us-east-1.amazonaws.com, helper: ecr-login, aws_access_key_id: {env: A}, aws_secret_access_key: {env: S}}",
            vec![("A", AWS_ID), ("S", AWS_SECRET)],
        ),
        (
            "{address: mirror.example.com:5000, username: node, password: {env: S}, client_cert: {file: certs/node.pem}, client_key: {file: certs/node-key.pem}}",
            vec![("S", QUOTED)],
        ),
    ]
}

/// The options a kind needs to be built at all, alone or placed.
fn options(kind: DocumentKind, placed: bool) -> &'static str {
    match kind.name() {
        "kubernetes-secret" if placed => ", secret: {name: regcred}",
        "marathon-app" => ", marathon: {id: /app, image: \"registry.example.com:5000/a:1\"}",
        "marathon-pod" => {
            ", marathon: {id: /pod, image: \"registry.example.com:5000/a:1\", secret_source: /pull}"
        }
        "talos" => ", version: \"1.11.0\"",
        _ => "",
    }
}

/// Where a file entry places the kind.
fn path(kind: DocumentKind) -> String {
    match kind.default_path() {
        Some(path) => path.to_string(),
        None if kind.is_folder() => format!("/etc/regforge/{}", kind.name()),
        None => format!("/etc/regforge/{}.{}", kind.name(), kind.extension()),
    }
}

/// The target of the kind alone, or placed by a format.
fn target(kind: DocumentKind, format: Option<&dyn Format>) -> String {
    let Some(format) = format else {
        return format!(
            "  - {{name: t, format: {}{}}}\n",
            kind.name(),
            options(kind, false)
        );
    };
    let version = format
        .versions()
        .first()
        .map(|v| format!("    variant: {}\n    version: {}\n", v.variant, v.version))
        .unwrap_or_default();
    format!(
        "  - name: t\n    format: {}\n{version}    files:\n      - {{document: {}, path: {}{}}}\n",
        format.name(),
        kind.name(),
        path(kind),
        options(kind, true),
    )
}

/// The outputs of one target with one registry; `None` when the kind refuses it (a
/// `.dockercfg` cannot express a token).
fn render(registry: &str, env: &[(&str, &str)], target: &str) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let text = format!("registries:\n  - {registry}\ntargets:\n{target}");
    let inventory = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nodes/regforge.yaml");
    let lookup = |name: &str| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| OsString::from(value))
    };
    match super::render_text(&inventory, &text, &lookup) {
        Ok(files) => Some(files),
        Err(e) if e.to_string().contains(": registry ") => None,
        Err(e) => panic!("{text}\n{e}"),
    }
}

/// The text and every text found inside it, decoded as a reader would.
fn views(text: &str, depth: usize, out: &mut Vec<String>) {
    out.push(text.to_string());
    if depth == 0 {
        return;
    }
    for url in text.split("data:").skip(1) {
        let url = url.split(['"', ' ', '\n']).next().unwrap_or_default();
        if let Ok(bytes) = crate::data_url::decode(&format!("data:{url}")) {
            views(&String::from_utf8_lossy(&bytes), depth - 1, out);
        }
    }
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
    for run in text.split(|c: char| !is_b64(c)).filter(|r| r.len() >= 8) {
        for start in 0..4.min(run.len()) {
            let run = &run[start..];
            let usable = run.trim_end_matches('=').len() / 4 * 4;
            let Ok(mut bytes) =
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(&run[..usable])
            else {
                continue;
            };
            if let Some(inner) = gunzip(&bytes) {
                bytes = inner;
            }
            views(&String::from_utf8_lossy(&bytes), depth - 1, out);
        }
    }
}

/// The bytes inside gzip, as a reader unpacks a mesos-archive.
fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The markers of the secrets: the letters-and-digits runs of eight, and the PEM body
/// lines of the client key.
fn markers() -> Vec<String> {
    let key = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nodes/certs/node-key.pem"),
    )
    .unwrap();
    let pem_lines = key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(String::from);
    [PASSWORD, KEY_FILE, TOKEN, QUOTED, AWS_ID, AWS_SECRET]
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| w.len() == 8 && w.starts_with("Mk"))
        .map(String::from)
        .chain(pem_lines)
        .collect()
}

/// What leaks from one target's outputs under the declared redactor: `path: marker`.
fn leaks(
    files: &[(PathBuf, Vec<u8>)],
    secrets: &[Secret],
    encodings: &[Encoding],
    markers: &[String],
) -> Vec<String> {
    let redactor = Redactor::declared(secrets, encodings);
    let mut found = Vec::new();
    for (path, bytes) in files {
        // A diff shows binary files as `Binary files … differ`, never their bytes.
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let redacted: Vec<String> = text.lines().map(|l| redactor.redact(l)).collect();
        let mut seen = Vec::new();
        views(&redacted.join("\n"), 4, &mut seen);
        for marker in markers {
            if seen.iter().any(|view| view.contains(marker.as_str())) {
                found.push(format!("{}: {marker}", path.display()));
            }
        }
    }
    found
}

#[test]
fn every_document_alone_and_placed_is_hidden_by_its_declarations() {
    let markers = markers();
    let key = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nodes/certs/node-key.pem"),
    )
    .unwrap();
    let mut problems = Vec::new();
    let mut rendered = 0;
    for kind in DOCUMENTS {
        let formats = FORMATS
            .iter()
            .map(|f| Some(*f))
            .filter(|_| kind.placeable());
        for format in std::iter::once(None).chain(formats) {
            let target = target(kind, format);
            let mut encodings = kind.encodings().to_vec();
            encodings.extend(format.map_or(&[][..], |f| f.encodings()));
            let mut carried = false;
            for (registry, env) in registries() {
                let Some(files) = render(registry, &env, &target) else {
                    continue;
                };
                carried = true;
                rendered += 1;
                let mut secrets: Vec<Secret> = env
                    .iter()
                    .map(|(_, v)| Secret::new(v.to_string()))
                    .collect();
                secrets.push(Secret::new(key.clone()));
                for leak in leaks(&files, &secrets, &encodings, &markers) {
                    problems.push(format!("{target}with {registry}: {leak}"));
                }
            }
            assert!(carried, "no registry rendered for\n{target}");
        }
    }
    assert!(rendered > 100, "only {rendered} renders");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
