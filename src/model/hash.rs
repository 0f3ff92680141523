//! `Sha512Hash`: the `sha512-<hex>` verification hash Butane and Ignition use.

use std::fmt;

use sha2::{Digest, Sha512};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sha512Hash([u8; 64]);

impl Sha512Hash {
    pub fn of(bytes: &[u8]) -> Sha512Hash {
        Sha512Hash(Sha512::digest(bytes).into())
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha512Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha512-{}", self.hex())
    }
}

impl fmt::Debug for Sha512Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Sha512Hash {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = s
            .strip_prefix("sha512-")
            .ok_or("a hash is written sha512-<128 hex digits>")?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(hex_part, &mut out)
            .map_err(|_| "a hash is written sha512-<128 hex digits>")?;
        Ok(Sha512Hash(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vector() {
        // FIPS 180-2 example: SHA-512("abc").
        let want = "sha512-ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
        assert_eq!(Sha512Hash::of(b"abc").to_string(), want);
        assert_eq!(want.parse::<Sha512Hash>().unwrap(), Sha512Hash::of(b"abc"));
        assert!("sha256-00".parse::<Sha512Hash>().is_err());
    }
}
