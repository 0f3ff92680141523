//! RFC 2397 data URLs as Butane writes and Ignition reads them: any bytes in, a `data:` source out.

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// The shorter of `data:,<percent-escaped>` and `data:;base64,<standard base64>`, the
/// percent form on a tie, as Butane's `MakeDataURL` chooses without compression. Gzip is
/// left out on purpose: its bytes depend on the deflate implementation, so they would be
/// neither reproducible across regforge versions nor comparable with Butane's.
pub fn encode(bytes: &[u8]) -> String {
    let escaped = percent_escape(bytes);
    // Base64 length is known without encoding: 4 characters per started 3 bytes.
    let base64_len = bytes.len().div_ceil(3) * 4;
    if ";base64,".len() + base64_len < ",".len() + escaped.len() {
        format!(
            "data:;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    } else {
        format!("data:,{escaped}")
    }
}

/// RFC 2396 escaping: unreserved characters stay, every other byte becomes `%XX` (upper case).
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn percent_escape(bytes: &[u8]) -> String {
    percent_encode(bytes, ESCAPED).to_string()
}

/// The bytes of a data URL with any media type, in either encoding, as Ignition decodes it.
pub fn decode(url: &str) -> Result<Vec<u8>, String> {
    let rest = url
        .strip_prefix("data:")
        .ok_or("the source is not a data: URL")?;
    let (header, payload) = rest
        .split_once(',')
        .ok_or("a data: URL needs a `,` before its data")?;
    if header.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|e| format!("the data: URL's base64 does not decode: {e}"))
    } else {
        percent_decode(payload)
    }
}

fn percent_decode(text: &str) -> Result<Vec<u8>, String> {
    // The crate passes a malformed `%` through as itself; Ignition's decoder refuses it.
    let well_formed = text.split('%').skip(1).all(|after| {
        after
            .get(..2)
            .is_some_and(|h| u8::from_str_radix(h, 16).is_ok())
    });
    if !well_formed {
        return Err("the data: URL has a `%` not followed by two hex digits".into());
    }
    Ok(percent_encoding::percent_decode_str(text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn butane_vectors() {
        // Observed from Butane v0.19.0 (FORMATS.md §8).
        assert_eq!(encode(b"hi"), "data:,hi");
        assert_eq!(
            encode(b"{\"auths\":{\"quay.io\":{\"auth\":\"YWxpY2U6cHc=\"}}}\n"),
            "data:;base64,eyJhdXRocyI6eyJxdWF5LmlvIjp7ImF1dGgiOiJZV3hwWTJVNmNIYz0ifX19Cg=="
        );
    }

    #[test]
    fn hand_checked_escapes() {
        assert_eq!(encode(b""), "data:,");
        assert_eq!(encode(b"a b/c"), "data:,a%20b%2Fc");
        assert_eq!(encode(b"-_.!~*'()"), "data:,-_.!~*'()");
        // 3 bytes: `,%00%FF%0A` (10) against `;base64,AP8K` (12).
        assert_eq!(encode(&[0x00, 0xFF, 0x0A]), "data:,%00%FF%0A");
        // 6 bytes: `,` + 18 against `;base64,` + 8.
        assert_eq!(
            encode(&[0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00]),
            "data:;base64,H4sIAAAA"
        );
    }

    #[test]
    fn a_tie_keeps_the_percent_form() {
        // 9 bytes, 5 of them escaped: `,` + 4 + 15 = 20 characters, and `;base64,` + 12 = 20.
        assert_eq!(
            encode(b"\x00\x00\x00\x00\x00abcd"),
            "data:,%00%00%00%00%00abcd"
        );
    }

    #[test]
    fn decodes_media_types_and_both_forms() {
        assert_eq!(decode("data:,a%20b").unwrap(), b"a b");
        assert_eq!(decode("data:;base64,AP8K").unwrap(), [0x00, 0xFF, 0x0A]);
        assert_eq!(
            decode("data:text/plain;charset=utf-8;base64,aGk=").unwrap(),
            b"hi"
        );
        assert!(decode("data:,%2").is_err());
        assert!(decode("data:;base64,AP8").is_err());
        assert!(decode("https://h/x").is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip_in_both_forms(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let b64 = format!("data:;base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes));
            let pct = format!("data:,{}", percent_escape(&bytes));
            prop_assert_eq!(decode(&b64).unwrap(), bytes.clone());
            prop_assert_eq!(decode(&pct).unwrap(), bytes.clone());
            let chosen = encode(&bytes);
            prop_assert_eq!(chosen.len(), b64.len().min(pct.len()));
            prop_assert_eq!(decode(&chosen).unwrap(), bytes);
        }
    }
}
