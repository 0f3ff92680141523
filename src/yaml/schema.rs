//! What a scalar means: the YAML 1.2 core schema as serde_norway reads it, so that replacing it changes no value. `deserialize_any` (a `serde_json::Value`, an untagged enum) resolves a plain scalar with [`Scalar::resolve`]; a typed number field reads it with the grammar of its width, as serde_norway's do.

use compact_str::CompactString;

/// How a scalar was written. A plain scalar tagged `!!str` is recorded as
/// `SingleQuoted`: the tag makes it a string exactly as quoting would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// Inline up to 24 bytes: most of an inventory's scalars are short keys and names,
    /// and a fleet's inventory has millions of them.
    pub text: CompactString,
    pub style: Style,
}

/// A scalar as serde_norway reads it: the YAML 1.2 core schema, with its
/// refinements. Digits with a leading zero (`0644`) stay strings; `0b`
/// binary and signed `-0x`/`+0o` forms are integers; an integer past `u64`
/// or `i64` is still an integer (`Big*`) up to 128 bits, and only past that
/// a float; a float that overflows stays a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Resolved<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    BigUnsigned(u128),
    BigSigned(i128),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    /// Whether it resolves to null, without resolving it otherwise (an optional field
    /// asks this of every value).
    pub(super) fn is_null(&self) -> bool {
        self.style == Style::Plain && (self.text.is_empty() || is_null(&self.text))
    }

    /// Mirrors serde_norway's `visit_untagged_scalar`, so `deserialize_any`
    /// (a `serde_json::Value`, an untagged enum) sees the same values.
    pub(super) fn resolve(&self) -> Resolved<'_> {
        let text = self.text.as_str();
        if self.is_null() {
            return Resolved::Null;
        }
        if self.style != Style::Plain {
            return Resolved::Str(text);
        }
        if let Some(b) = parse_bool(text) {
            return Resolved::Bool(b);
        }
        // serde_norway tries u64, then i64, then u128, then i128; the
        // prefixes of those forms exclude each other, so parsing wide and
        // narrowing gives the same answers.
        if let Some(n) = parse_unsigned(text) {
            return u64::try_from(n).map_or(Resolved::BigUnsigned(n), Resolved::Unsigned);
        }
        if let Some(n) = parse_negative(text) {
            return i64::try_from(n).map_or(Resolved::BigSigned(n), Resolved::Signed);
        }
        if !digits_but_not_number(text)
            && let Some(f) = parse_float(text)
        {
            return Resolved::Float(f);
        }
        Resolved::Str(text)
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

const RADIX_PREFIXES: [(&str, u32); 3] = [("0x", 16), ("0o", 8), ("0b", 2)];

/// serde_norway's `parse_unsigned_int`: what an unsigned field accepts.
/// Rust's `from_str_radix` takes a sign of its own, so one after a prefix
/// (`0x+1`) is refused first.
pub(super) fn parse_unsigned(text: &str) -> Option<u128> {
    let unpositive = text.strip_prefix('+').unwrap_or(text);
    for (prefix, radix) in RADIX_PREFIXES {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = u128::from_str_radix(rest, radix) {
                return Some(n);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(text) {
        return None;
    }
    unpositive.parse().ok()
}

/// serde_norway's `parse_signed_int`: what a signed field accepts.
pub(super) fn parse_signed(text: &str) -> Option<i128> {
    let unpositive = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    for (prefix, radix) in RADIX_PREFIXES {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = i128::from_str_radix(rest, radix) {
                return Some(n);
            }
        }
        if let Some(n) = negative_with_prefix(text, prefix, radix) {
            return Some(n);
        }
    }
    if digits_but_not_number(text) {
        return None;
    }
    unpositive.parse().ok()
}

/// serde_norway's `parse_negative_int`, which `deserialize_any` tries after
/// the unsigned forms.
fn parse_negative(text: &str) -> Option<i128> {
    for (prefix, radix) in RADIX_PREFIXES {
        if let Some(n) = negative_with_prefix(text, prefix, radix) {
            return Some(n);
        }
    }
    if digits_but_not_number(text) {
        return None;
    }
    text.parse().ok()
}

/// `-0x10` and the like; the minus goes back on so `i128::MIN` fits.
fn negative_with_prefix(text: &str, prefix: &str, radix: u32) -> Option<i128> {
    let rest = text.strip_prefix('-')?.strip_prefix(prefix)?;
    i128::from_str_radix(&format!("-{rest}"), radix).ok()
}

/// serde_norway's `parse_f64`: what a float field accepts. Unlike
/// [`Scalar::resolve`] it reads `0644` as 644.0, as serde_norway does.
pub(super) fn parse_float(text: &str) -> Option<f64> {
    let unpositive = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = text {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = text {
        return Some(f64::NAN);
    }
    // Rust also reads `inf`, `NaN` and `infinity`, which YAML leaves strings.
    unpositive.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Leading zeros before more digits make a string in YAML 1.2 (`0644`,
/// `-007`), where YAML 1.1 read octal.
fn digits_but_not_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}
