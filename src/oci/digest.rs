//! Content digests: the validated [`Digest`] (`sha256:<64 lowercase hex>`, the only algorithm
//! cicd can check), computing it over bytes, and the [`Verifier`] every streamed byte passes
//! through before it is trusted or sent on.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use super::error::OciError;

/// A content digest, checked when made: `sha256:` and 64 lowercase hex digits. It is also a
/// file name in an image layout, so it can never hold a path separator.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(String);

impl Digest {
    pub const ALGORITHM: &'static str = "sha256";

    pub fn parse(s: &str) -> Result<Self, OciError> {
        sha256_hex(s)?;
        Ok(Self(s.to_owned()))
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha256(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn algorithm(&self) -> &str {
        Self::ALGORITHM
    }

    /// The hex part (the blob's file name in a layout).
    pub fn hex(&self) -> &str {
        &self.0[Self::ALGORITHM.len() + 1..]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Digest {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Digest {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::str::FromStr for Digest {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, OciError> {
        Self::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The hex part of a `sha256:` digest, refusing anything else.
pub fn sha256_hex(digest: &str) -> Result<&str, OciError> {
    match digest.split_once(':') {
        Some(("sha256", hex))
            if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(hex)
        }
        _ => Err(OciError::Unsupported(format!(
            "digest `{digest}`: only sha256:<64 lowercase hex> is supported"
        ))),
    }
}

/// Hashes bytes whose digest is not known beforehand (a layer being compressed): what they
/// hash to is learned at the end, from the bytes themselves.
#[derive(Clone, Default)]
pub struct Hasher {
    hasher: Sha256,
    len: u64,
}

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// The digest and size of every byte seen.
    pub fn finish(self) -> (Digest, u64) {
        (
            Digest(format!("sha256:{}", hex(&self.hasher.finalize()))),
            self.len,
        )
    }
}

/// Hashes bytes as they stream past and checks the total against the expected digest.
pub struct Verifier {
    hasher: Sha256,
    expected: Digest,
    len: u64,
}

/// What arrived instead of the expected bytes: `sha256:<hex> (N bytes)`.
#[derive(Debug)]
pub struct Mismatch(pub String);

impl Verifier {
    pub fn new(expected: &Digest) -> Self {
        Self {
            hasher: Sha256::new(),
            expected: expected.clone(),
            len: 0,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// Ok when the bytes seen hash to the expected digest (and, when known, have its size).
    pub fn check(self, size: Option<u64>) -> Result<(), Mismatch> {
        let actual = format!("sha256:{}", hex(&self.hasher.finalize()));
        if self.expected != actual.as_str() || size.is_some_and(|s| s != self.len) {
            return Err(Mismatch(format!("{actual} ({} bytes)", self.len)));
        }
        Ok(())
    }

    /// [`Verifier::check`] as the error for bytes that came from `place` (a registry).
    pub fn finish(self, size: Option<u64>, what: &str, place: &str) -> Result<(), OciError> {
        let expected = self.expected.to_string();
        self.check(size)
            .map_err(|Mismatch(actual)| OciError::DigestMismatch {
                what: what.to_owned(),
                place: place.to_owned(),
                expected,
                actual,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_and_refuses() {
        let d = Digest::of(b"hello");
        assert_eq!(
            d.as_str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(d.hex().len(), 64);
        let mut v = Verifier::new(&d);
        v.update(b"hel");
        v.update(b"lo");
        assert!(v.finish(Some(5), "blob", "here").is_ok());
        let mut v = Verifier::new(&d);
        v.update(b"hellO");
        assert!(matches!(
            v.finish(None, "blob", "here"),
            Err(OciError::DigestMismatch { .. })
        ));
        let mut v = Verifier::new(&d);
        v.update(b"hello");
        assert!(v.check(Some(6)).is_err());
        assert!(Digest::parse("sha256:../../etc/passwd").is_err());
        assert!(Digest::parse("md5:abc").is_err());
        assert!(Digest::parse(&d.as_str().to_uppercase()).is_err());
        let json = serde_json::to_string(&d).expect("serialize");
        assert_eq!(serde_json::from_str::<Digest>(&json).expect("back"), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:zz\"").is_err());
    }
}
