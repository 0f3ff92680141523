//! Redaction: hiding secret values, in every encoding the documents and formats declare, from text shown to people.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::credentials::Secret;
use crate::encoding::Encoding;

/// What a hidden value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Keys whose values are credentials wherever they appear (docker `auth`, rkt and Drone
/// `password`, tokens, AWS secret keys). Their values are hidden even when they hold no
/// secret regforge knows: an old file may hold an old password.
const CREDENTIAL_KEYS: [&str; 8] = [
    "auth",
    "password",
    "identitytoken",
    "registrytoken",
    "token",
    "aws_access_key_id",
    "aws_secret_access_key",
    "secretAccessKey",
];

/// The credential keys, and the keys the documents name as holding secrets
/// (`Kind::secret_keys`, such as a Kubernetes Secret's `.dockerconfigjson`).
fn secret_keys() -> impl Iterator<Item = &'static str> {
    CREDENTIAL_KEYS.into_iter().chain(
        crate::documents::DOCUMENTS
            .iter()
            .flat_map(|kind| kind.secret_keys().iter().copied()),
    )
}

/// How deep base64 inside base64 is opened (a cloud-config `b64` content holds a
/// dockercfg whose `auth` is base64 again).
const MAX_DEPTH: usize = 4;

/// Lines of a multi-line secret shorter than this (`{`, `}`) are left visible in diffs.
const MIN_SECRET_LINE: usize = 8;

/// Hides known secrets and credential-shaped values in text.
///
/// Known secrets are found in the encodings the documents and formats declare
/// (`Kind::encodings`, `Format::encodings`): escaped, one escape inside another (a
/// document's inside a format's), and inside the wrappings they name (base64, gzip, data
/// URLs). Values regforge does not know, an old password in an old file, are found by
/// their shape: the value of a credential key, a private key, a base64 `user:` login.
///
/// The encodings of the secrets are worked out when the first text is redacted, not
/// before: `render --check` of an unchanged tree redacts nothing, and a 5 MB secret's
/// encodings cost more than the rest of the check.
#[derive(Debug)]
pub struct Redactor {
    secrets: Vec<Secret>,
    /// What the documents and formats declare they write.
    encodings: Vec<Encoding>,
    /// Whether values are hidden by their shape too; off only where a test holds the
    /// declarations alone to account.
    shapes: bool,
    /// Every secret in each of its encodings; made on first use.
    needles: OnceLock<Needles>,
    /// `user:` prefixes: base64 that decodes to one is a docker `auth` value.
    logins: Vec<String>,
}

impl Redactor {
    /// A redactor for these secrets, and the usernames they go with, in every encoding a
    /// document or format declares: an old file on disk may come from any of them.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a Secret>,
        usernames: impl IntoIterator<Item = &'a str>,
    ) -> Redactor {
        Redactor {
            secrets: secrets.into_iter().cloned().collect(),
            encodings: written(),
            shapes: true,
            needles: OnceLock::new(),
            logins: usernames.into_iter().map(|u| format!("{u}:")).collect(),
        }
    }

    /// A redactor that knows only these secrets in only these encodings, with no eye for
    /// shapes: what a document and format's declarations alone hide.
    #[cfg(test)]
    pub(crate) fn declared(secrets: &[Secret], encodings: &[Encoding]) -> Redactor {
        Redactor {
            secrets: secrets.to_vec(),
            encodings: encodings.to_vec(),
            shapes: false,
            needles: OnceLock::new(),
            logins: Vec::new(),
        }
    }

    fn needles(&self) -> &Needles {
        self.needles
            .get_or_init(|| Needles::new(needles(&self.secrets, &self.encodings)))
    }

    fn writes(&self, encoding: Encoding) -> bool {
        self.encodings.contains(&encoding)
    }

    /// `text` with every secret value replaced by `<redacted>`: known secrets raw or in
    /// each declared escape (one inside another), values of credential keys, and whole
    /// base64 runs and data URLs whose decoding holds any of these.
    pub fn redact(&self, text: &str) -> String {
        self.redact_at(text, 0)
    }

    fn redact_at(&self, text: &str, depth: usize) -> String {
        let mut text = text.to_string();
        // Replacing can join text into a new match (a secret that ends like `<redacted>`
        // begins); go again until nothing matches.
        for _ in 0..8 {
            let ranges = self.ranges(&text, depth);
            if ranges.is_empty() {
                break;
            }
            text = replace(&text, ranges);
        }
        text
    }

    fn ranges(&self, text: &str, depth: usize) -> Vec<Range<usize>> {
        let mut ranges = self.needles().find(text);
        if self.shapes {
            ranges.extend(key_values(text));
        }
        if depth < MAX_DEPTH && self.writes(Encoding::DataUrl) {
            // Ignition's data URLs, percent-escaped or base64: a document inside is
            // redacted as a whole when it holds anything secret, known or not.
            for url in data_urls(text) {
                let Ok(bytes) = crate::data_url::decode(&text[url.clone()]) else {
                    continue;
                };
                let Ok(inner) = std::str::from_utf8(&bytes) else {
                    continue;
                };
                if self.redact_at(inner, depth + 1) != inner {
                    let payload = text[url.clone()]
                        .find(',')
                        .map_or(url.start, |i| url.start + i + 1);
                    ranges.push(payload..url.end);
                }
            }
        }
        if depth < MAX_DEPTH && self.writes(Encoding::Base64) {
            for run in base64_runs(text) {
                if let Some(hit) = self.sensitive_base64(&text[run.clone()], depth) {
                    ranges.push(run.start + hit.start..run.start + hit.end);
                }
            }
        }
        ranges
    }

    /// The part of a base64 run to hide, if its decoding is sensitive. A run may begin
    /// with a stray letter (`\tQUJD` after an escape), so each of the first four
    /// positions is tried as its start.
    fn sensitive_base64(&self, run: &str, depth: usize) -> Option<Range<usize>> {
        (0..run.len().min(4)).find_map(|start| {
            let mut candidate = &run[start..];
            if candidate.trim_end_matches('=').len() % 4 == 1 {
                candidate = &candidate[..candidate.len() - 1];
            }
            let mut bytes = decode(candidate)?;
            if self.writes(Encoding::Gzip) {
                // A mesos-archive travels as base64 of gzip; its config.json is inside.
                bytes = gunzip(&bytes).unwrap_or(bytes);
            }
            let lossy = String::from_utf8_lossy(&bytes);
            let shaped = self.shapes
                && (self.logins.iter().any(|l| lossy.starts_with(l.as_str()))
                    // A private key, even one regforge no longer knows (Talos's base64 PEM).
                    || lossy.contains(PRIVATE_KEY_END));
            let sensitive = shaped
                || match std::str::from_utf8(&bytes) {
                    // Text (a document) may hold base64 again: look inside it.
                    Ok(text) => self.redact_at(text, depth + 1) != text,
                    // Bytes that are not text are not opened further, which keeps
                    // the mostly meaningless decodings of ordinary words cheap.
                    Err(_) => !self.needles().find(&lossy).is_empty(),
                };
            sensitive.then_some(start..run.len())
        })
    }
}

/// What the documents and formats declare they write, each encoding once.
fn written() -> Vec<Encoding> {
    let mut all: Vec<Encoding> = crate::documents::DOCUMENTS
        .iter()
        .flat_map(|kind| kind.encodings())
        .chain(crate::formats::FORMATS.iter().flat_map(|f| f.encodings()))
        .copied()
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Every secret in each of its encodings, longest first: itself (and, where text is
/// written line by line, each substantial line of a multi-line secret), escaped by each
/// declared escape, and escaped again (a document's escape inside a format's).
fn needles(secrets: &[Secret], encodings: &[Encoding]) -> Vec<String> {
    let mut needles = HashSet::new();
    for secret in secrets {
        let raw = secret.expose();
        let mut forms = vec![raw];
        if encodings.contains(&Encoding::Lines) && raw.contains('\n') {
            forms.extend(
                raw.lines()
                    .map(str::trim)
                    .filter(|line| line.len() >= MIN_SECRET_LINE),
            );
        }
        for form in forms {
            let mut level = vec![form.to_string()];
            for _ in 0..2 {
                let next: Vec<String> = level
                    .iter()
                    .flat_map(|text| encodings.iter().filter_map(|e| e.escape(text)))
                    .filter_map(|escaped| match escaped {
                        Cow::Owned(changed) => Some(changed),
                        Cow::Borrowed(_) => None,
                    })
                    .filter(|changed| !needles.contains(changed))
                    .collect();
                needles.extend(level);
                level = next;
            }
            needles.extend(level);
        }
    }
    let mut needles: Vec<String> = needles.into_iter().filter(|n| !n.is_empty()).collect();
    needles.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    needles
}

/// Needles no longer than this are found by one automaton; a longer one (a megabyte
/// token) would make an automaton of its size, so it is searched for on its own.
const AUTOMATON_NEEDLE: usize = 1024;

/// The needles, found in one pass over a text where they are short.
#[derive(Debug)]
struct Needles {
    short: Option<AhoCorasick>,
    long: Vec<String>,
}

impl Needles {
    fn new(needles: Vec<String>) -> Needles {
        let (long, short): (Vec<String>, Vec<String>) = needles
            .into_iter()
            .partition(|n| n.len() > AUTOMATON_NEEDLE);
        Needles {
            // The plain automaton: quickest to build, and a redactor searches little text.
            short: (!short.is_empty()).then(|| {
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                    .build(&short)
                    .expect("short needles make an automaton")
            }),
            long,
        }
    }

    /// Where each needle stands in `text`; matches may overlap.
    fn find(&self, text: &str) -> Vec<Range<usize>> {
        let mut found: Vec<Range<usize>> = self
            .short
            .iter()
            .flat_map(|finder| finder.find_overlapping_iter(text))
            .map(|m| m.range())
            .collect();
        for needle in &self.long {
            found.extend(
                text.match_indices(needle.as_str())
                    .map(|(i, m)| i..i + m.len()),
            );
        }
        found
    }
}

/// Where `data:` URLs stand in a text, each up to the quote or space that ends it.
fn data_urls(text: &str) -> Vec<Range<usize>> {
    text.match_indices("data:")
        .map(|(at, _)| {
            let end = text[at..]
                .find(|c: char| c == '"' || c.is_whitespace())
                .map_or(text.len(), |i| at + i);
            at..end
        })
        .collect()
}

/// The decompressed bytes when `bytes` is gzip, at most 16 MiB of them.
fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(16 << 20)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn decode(candidate: &str) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if candidate.contains(['-', '_']) {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config).decode(candidate).ok()
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Maximal runs of base64 characters (with their `=` padding), long enough to hold `a:b`.
fn base64_runs(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_base64_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_base64_char(bytes[i]) {
            i += 1;
        }
        while i < bytes.len() && bytes[i] == b'=' {
            i += 1;
        }
        if i - start >= 4 {
            runs.push(start..i);
        }
    }
    runs
}

/// An automaton that finds every secret key in one pass over a text.
static SECRET_KEYS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let mut keys: Vec<&'static str> = secret_keys().collect();
    keys.sort_unstable();
    keys.dedup();
    AhoCorasick::new(&keys).expect("the secret keys make an automaton")
});

/// The values of `secret_keys`: JSON strings (`"auth": "…"`), the same JSON inside a
/// YAML or JSON string (`\"auth\": \"…\"`), plain YAML (`password: …` to the line end),
/// and TOML basic strings (`password = "…"`, containerd's config).
fn key_values(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    // Overlapping: `token` stands inside `identitytoken`, and only the context tells.
    for found in SECRET_KEYS.find_overlapping_iter(text) {
        let (at, end) = (found.start(), found.end());
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..at];
        let after = &text[end..];
        if before.trim_start().is_empty()
            && let Some(value) = after.strip_prefix(" = \"")
        {
            let start = text.len() - value.len();
            out.push(start..start + string_end(value, "\""));
        }
        for quote in ["\"", "\\\""] {
            if !before.ends_with(quote) {
                continue;
            }
            let Some(rest) = after.strip_prefix(quote) else {
                continue;
            };
            let after_colon = rest.trim_start().strip_prefix(':').map(str::trim_start);
            let Some(value) = after_colon.and_then(|v| v.strip_prefix(quote)) else {
                continue;
            };
            let start = text.len() - value.len();
            out.push(start..start + string_end(value, quote));
        }
        if before.trim_start_matches([' ', '-']).is_empty() && after.starts_with(": ") {
            let start = end + 2;
            let stop = text[start..].find('\n').map_or(text.len(), |i| start + i);
            out.push(start..stop);
        }
    }
    out
}

/// The armour lines around a PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY`, …).
const PRIVATE_KEY_BEGIN: &str = "-----BEGIN ";
const PRIVATE_KEY_END: &str = "PRIVATE KEY-----";

/// Which lines of a text are secret whatever they hold: the content of a YAML block
/// scalar (`password: |-`) under a credential key, and the body of a PEM private key (a
/// client.key file, Talos's `key: |`). All of them are the credential, even one regforge
/// no longer knows (an old GCR key in a Drone file, a replaced client key), so a diff
/// must show none of them.
pub fn block_secret_lines(text: &str) -> Vec<bool> {
    let mut hidden = Vec::new();
    let mut inside: Option<usize> = None; // the indentation of the key that opened the block
    let mut in_key = false;
    for line in text.lines() {
        let armour = line.trim();
        if in_key {
            in_key = !(armour.starts_with("-----END ") && armour.ends_with(PRIVATE_KEY_END));
            hidden.push(in_key);
            continue;
        }
        if armour.starts_with(PRIVATE_KEY_BEGIN) && armour.ends_with(PRIVATE_KEY_END) {
            in_key = true;
            hidden.push(false);
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let Some(key_indent) = inside {
            if line.trim().is_empty() || indent > key_indent {
                hidden.push(true);
                continue;
            }
            inside = None;
        }
        hidden.push(false);
        let entry = line.trim_start().trim_start_matches("- ");
        let key_at = line.len() - entry.len();
        if let Some((key, rest)) = entry.split_once(':') {
            let header = rest.trim();
            let block = header.starts_with(['|', '>'])
                && header[1..].chars().all(|c| "+-0123456789".contains(c));
            if block && secret_keys().any(|k| k == key) {
                inside = Some(key_at);
            }
        }
    }
    hidden
}

/// Where a JSON string's content ends: at its closing `quote`. Inside `\"…\"` (JSON in a
/// quoted string) the JSON's own escapes are doubled: `\\\"` is a quote, `\\\\` a backslash.
fn string_end(value: &str, quote: &str) -> usize {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if quote.len() == 2
            && (value[i..].starts_with("\\\\\\\"") || value[i..].starts_with("\\\\\\\\"))
        {
            i += 4;
        } else if value[i..].starts_with(quote) {
            return i;
        } else if bytes[i] == b'\\' {
            i += 2;
        } else {
            i += 1;
        }
    }
    bytes.len().min(i)
}

/// Replaces each range (merged where they overlap or touch) with `<redacted>`.
fn replace(text: &str, mut ranges: Vec<Range<usize>>) -> String {
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut current: Option<Range<usize>> = None;
    for r in ranges.into_iter().filter(|r| !r.is_empty()) {
        match &mut current {
            Some(c) if r.start <= c.end => c.end = c.end.max(r.end),
            _ => {
                if let Some(c) = current.take() {
                    out.push_str(&text[at..c.start]);
                    out.push_str(REDACTED);
                    at = c.end;
                }
                current = Some(r);
            }
        }
    }
    if let Some(c) = current {
        out.push_str(&text[at..c.start]);
        out.push_str(REDACTED);
        at = c.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn redactor(secret: &str) -> Redactor {
        Redactor::new(&[Secret::new(secret.into())], ["user"])
    }

    #[test]
    fn secrets_in_their_encodings() {
        let r = redactor("p\"a<s>&ß");
        assert_eq!(r.redact("x p\"a<s>&ß y"), "x <redacted> y");
        assert_eq!(r.redact(r#"{"p": "p\"a<s>&ß"}"#), r#"{"p": "<redacted>"}"#);
        assert_eq!(r.redact(r#"p\"a\u003cs\u003e\u0026ß"#), "<redacted>");
        assert_eq!(
            r.redact(r#"inline: "p\\\"a<s>&ß""#),
            r#"inline: "<redacted>""#
        );
    }

    #[test]
    fn a_kubernetes_secrets_data_is_hidden_as_its_document_says() {
        // An old Secret on disk: its payload holds no secret regforge knows today.
        let r = redactor("unrelated");
        let old = "data:\n  .dockerconfigjson: eyJhdXRocyI6e319\nkind: Secret\n";
        assert_eq!(
            r.redact(old),
            "data:\n  .dockerconfigjson: <redacted>\nkind: Secret\n"
        );
    }

    #[test]
    fn data_urls_holding_secrets_go_whole_and_aws_key_ids_are_credentials() {
        let r = redactor("unrelated");
        // An old Ignition file: its data URL holds a password regforge no longer knows.
        let old = r#"{"source":"data:,password%20%3D%20%22old-pw%22%0A","mode":384}"#;
        assert_eq!(r.redact(old), r#"{"source":"data:,<redacted>","mode":384}"#);
        let plain = r#"{"source":"data:,hello%20world"}"#;
        assert_eq!(r.redact(plain), plain);
        assert_eq!(
            r.redact("  aws_access_key_id: AKIAOLDOLDOLD\n"),
            "  aws_access_key_id: <redacted>\n"
        );
    }

    #[test]
    fn toml_credential_values_are_hidden() {
        // An old containerd config on disk: values no longer known, and a key that is not one.
        let r = redactor("unrelated");
        let old = "[x.auth]\nusername = \"node\"\npassword = \"old \\\"pw\\\"\"\n  identitytoken = \"tok\"\nmy_password = \"kept\"\n";
        assert_eq!(
            r.redact(old),
            "[x.auth]\nusername = \"node\"\npassword = \"<redacted>\"\n  identitytoken = \"<redacted>\"\nmy_password = \"kept\"\n"
        );
    }

    #[test]
    fn private_key_bodies_are_hidden_lines_whatever_key_they_are() {
        let text = "cert: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\nk: |\n  -----BEGIN EC PRIVATE KEY-----\n  MHcCAQEE\n  oAoGCCqG\n  -----END EC PRIVATE KEY-----\nafter: 1\n";
        assert_eq!(
            block_secret_lines(text),
            [
                false, false, false, false, false, false, true, true, false, false
            ]
        );
    }

    #[test]
    fn block_scalars_under_credential_keys_are_found() {
        let text = "- address: gcr.io\n  username: _json_key\n  password: |-\n    {\n      \"k\": 1\n\n    }\n- address: docker.io\n  note: |\n    kept\n";
        assert_eq!(
            block_secret_lines(text),
            [
                false, false, false, true, true, true, true, false, false, false
            ]
        );
    }

    #[test]
    fn each_line_of_a_multi_line_secret_is_hidden() {
        let key = "{\n  \"private_key_id\": \"k1\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEv\\n\"\n}";
        let r = redactor(key);
        // As a Drone file writes it: a block scalar, one line of the key per diff line.
        let block = "  password: |-\n    {\n      \"private_key_id\": \"k1\",\n      \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEv\\n\"\n    }";
        let redacted: Vec<String> = block.lines().map(|l| r.redact(l)).collect();
        assert_eq!(
            redacted,
            [
                "  password: <redacted>",
                "    {",
                "      <redacted>",
                "      <redacted>",
                "    }"
            ]
        );
    }

    #[test]
    fn base64_holding_a_secret_goes_whole() {
        let r = redactor("hunter2");
        let auth = b64("user:hunter2");
        assert_eq!(
            r.redact(&format!("\"x\": \"{auth}\"")),
            "\"x\": \"<redacted>\""
        );
        let doc = format!("{{\"auths\": {{\"q\": {{\"auth\": \"{auth}\"}}}}}}");
        assert_eq!(
            r.redact(&format!("content: {}", b64(&doc))),
            "content: <redacted>"
        );
        assert_eq!(
            r.redact(&format!("source: data:;base64,{}", b64(&doc))),
            "source: data:;base64,<redacted>"
        );
        // An archive whose config.json holds the auth, as cloud-config carries a mesos-archive.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, doc.as_bytes()).unwrap();
        let archive = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        assert_eq!(
            r.redact(&format!("content: {archive}")),
            "content: <redacted>"
        );
        // An old password of a known user, which regforge no longer knows.
        assert_eq!(r.redact(&b64("user:old-pw")), "<redacted>");
        // Ordinary words and paths are left alone.
        let plain = "path: /home/core/.docker/config.json\nstorage: overwrite";
        assert_eq!(r.redact(plain), plain);
    }

    #[test]
    fn credential_keys_are_hidden_whatever_they_hold() {
        let r = Redactor::new([], []);
        assert_eq!(
            r.redact(r#"{"auth": "b2xkOnB3", "email": "a@b"}"#),
            r#"{"auth": "<redacted>", "email": "a@b"}"#
        );
        assert_eq!(
            r.redact(r#"inline: "{\"password\": \"o\\\"ld\", \"user\": \"u\"}""#),
            r#"inline: "{\"password\": \"<redacted>\", \"user\": \"u\"}""#
        );
        assert_eq!(
            r.redact("- address: docker.io\n  password: old pw\n  username: u"),
            "- address: docker.io\n  password: <redacted>\n  username: u"
        );
    }

    proptest! {
        #[test]
        fn output_never_holds_the_secret(
            secret in "[a-zA-Z0-9 \"\\\\<>&:ßé😀\t]{4,20}",
            before in "[a-z \"\\\\{}:\n]{0,20}",
            after in "[a-z \"\\\\{}:\n]{0,20}",
            user in "[a-z]{1,3}",
        ) {
            prop_assume!(!REDACTED.contains(&secret) && !secret.contains(REDACTED));
            let r = Redactor::new(&[Secret::new(secret.clone())], [user.as_str()]);
            let json = serde_json::to_string(&secret).unwrap();
            let json = &json[1..json.len() - 1];
            let auth = b64(&format!("{user}:{secret}"));
            for text in [
                format!("{before}{secret}{after}"),
                format!("{before}{json}{after}"),
                format!("{before}\"{auth}\"{after}"),
                format!("{before}{}{after}", b64(&format!("{{\"auth\": \"{auth}\"}}"))),
            ] {
                let out = r.redact(&text);
                prop_assert!(!out.contains(&secret), "{out:?}");
                prop_assert!(!out.contains(json), "{out:?}");
                // The secret's base64 in each of the 3 alignments inside `user:secret`.
                for pad in ["", "a", "ab"] {
                    let aligned = b64(&format!("{pad}{user}:{secret}"));
                    let inner = &aligned[(pad.len() + user.len() + 1).div_ceil(3) * 4..];
                    let inner = inner.trim_end_matches('=');
                    let inner = &inner[..inner.len().saturating_sub(4)];
                    if inner.len() >= 8 {
                        prop_assert!(!out.contains(inner), "{out:?} holds {inner}");
                    }
                }
            }
        }
    }
}
