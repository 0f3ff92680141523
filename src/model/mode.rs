//! `FileMode`: a file's permission bits, read the way Butane reads them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileMode(u32);

impl FileMode {
    pub const CREDENTIALS: FileMode = FileMode(0o600);
    pub const PRIVATE_DIR: FileMode = FileMode(0o700);
    /// A file without secrets that every user may read (a hosts.toml, a CA certificate).
    pub const PUBLIC: FileMode = FileMode(0o644);

    /// The mode a config states as a number (Ignition's decimal `mode`).
    pub fn from_bits(bits: u32) -> FileMode {
        FileMode(bits)
    }

    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether users other than the owner can read the file.
    pub fn shared(self) -> bool {
        self.0 & 0o077 != 0
    }

    /// Parses a mode from the YAML scalar exactly as written. `plain` is false for
    /// quoted scalars, which Butane refuses and we refuse with it.
    pub fn from_yaml(text: &str, plain: bool) -> Result<FileMode, String> {
        if !plain {
            return Err(format!(
                "a mode is a number, not a string: write {} without quotes",
                text.trim()
            ));
        }
        let mode = if let Some(octal) = text.strip_prefix("0o") {
            parse_octal(octal, text)?
        } else if text.len() > 1 && text.starts_with('0') {
            parse_octal(&text[1..], text)?
        } else {
            let decimal: u32 = text.parse().map_err(|_| {
                format!("`{text}` is not a mode; write an octal number such as 0600")
            })?;
            check_decimal(decimal)?;
            decimal
        };
        if mode > 0o777 {
            return Err(format!(
                "mode {mode:#o} sets setuid, setgid or sticky bits, which a credentials file never needs; write e.g. 0600"
            ));
        }
        Ok(FileMode(mode))
    }
}

fn parse_octal(digits: &str, text: &str) -> Result<u32, String> {
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("`{text}` is not an octal number; use digits 0-7, e.g. 0600"))
}

/// A decimal number such as 644 was almost surely meant as octal: refuse it when the
/// number makes an odd mode but its digits read as octal make an ordinary one.
fn check_decimal(decimal: u32) -> Result<(), String> {
    let digits = decimal.to_string();
    let as_octal = (digits.len() <= 4 && digits.bytes().all(|b| b <= b'7'))
        .then(|| u32::from_str_radix(&digits, 8).ok())
        .flatten();
    match as_octal {
        Some(octal) if !is_ordinary(decimal) && is_ordinary(octal) => Err(format!(
            "mode {decimal} is decimal ({decimal:#o} in octal), which is surely not meant; write 0{digits}"
        )),
        _ => Ok(()),
    }
}

/// Ordinary file permissions: no special bits, more specific classes hold at least the
/// rights of less specific ones, and nobody writes or executes without reading.
fn is_ordinary(mode: u32) -> bool {
    if mode == 0 {
        return true;
    }
    if mode > 0o777 {
        return false;
    }
    let classes = [mode & 0o7, (mode >> 3) & 0o7, (mode >> 6) & 0o7];
    let mut seen = 0;
    for class in classes {
        let executes_where_readers_do_not = class & 0o1 != 0 && seen & 0o4 != 0 && seen & 0o1 == 0;
        if class & seen != seen
            || (class & 0o3 != 0 && class & 0o4 == 0)
            || executes_where_readers_do_not
        {
            return false;
        }
        seen |= class;
    }
    seen & 0o4 != 0
}

impl fmt::Display for FileMode {
    /// Four octal digits, as Butane and cloud-config write modes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(text: &str) -> Result<u32, String> {
        FileMode::from_yaml(text, true).map(FileMode::bits)
    }

    #[test]
    fn octal_forms_as_butane_reads_them() {
        assert_eq!(mode("0644"), Ok(420));
        assert_eq!(mode("0o644"), Ok(420));
        assert_eq!(mode("0600"), Ok(384));
        assert_eq!(mode("0700"), Ok(448));
        assert_eq!(mode("420"), Ok(420));
        assert_eq!(mode("384"), Ok(384));
        assert_eq!(mode("0"), Ok(0));
        assert_eq!(FileMode(384).to_string(), "0600");
    }

    #[test]
    fn decimal_that_means_octal_says_what_to_write() {
        for (text, hint) in [
            ("644", "write 0644"),
            ("600", "write 0600"),
            ("400", "write 0400"),
        ] {
            let err = mode(text).unwrap_err();
            assert!(err.contains(hint), "{text}: {err}");
        }
    }

    #[test]
    fn refuses_strings_special_bits_and_non_octal() {
        assert!(
            FileMode::from_yaml("0644", false)
                .unwrap_err()
                .contains("without quotes")
        );
        assert!(mode("04755").is_err());
        assert!(mode("0689").is_err());
        assert!(mode("0x1a4").is_err());
        assert!(mode("-1").is_err());
    }
}
