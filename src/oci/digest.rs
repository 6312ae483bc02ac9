//! Content digests: computing sha256 over streamed bytes and checking them against the
//! digest something claimed to have. Every byte cicd moves passes through a [`Verifier`].

use sha2::{Digest as _, Sha256};

use super::error::OciError;

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

/// The hex part of a `sha256:` digest, refusing anything else (a digest is also a file name in
/// an image layout, so it must never contain a path separator).
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

/// Hashes bytes as they stream past and checks the total against the expected digest.
pub struct Verifier {
    hasher: Sha256,
    expected: String,
    len: u64,
}

impl Verifier {
    pub fn new(expected: &str) -> Result<Self, OciError> {
        sha256_hex(expected)?;
        Ok(Self {
            hasher: Sha256::new(),
            expected: expected.to_owned(),
            len: 0,
        })
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// Ok when the bytes seen hash to the expected digest (and, when known, have its size).
    pub fn finish(self, size: Option<u64>, what: &str, place: &str) -> Result<(), OciError> {
        let actual = format!("sha256:{}", hex(&self.hasher.finalize()));
        if actual != self.expected || size.is_some_and(|s| s != self.len) {
            return Err(OciError::DigestMismatch {
                what: what.to_owned(),
                place: place.to_owned(),
                expected: self.expected,
                actual: format!("{actual} ({} bytes)", self.len),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_and_refuses() {
        let d = sha256(b"hello");
        assert_eq!(
            d,
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let mut v = Verifier::new(&d).expect("sha256");
        v.update(b"hel");
        v.update(b"lo");
        assert!(v.finish(Some(5), "blob", "here").is_ok());
        let mut v = Verifier::new(&d).expect("sha256");
        v.update(b"hellO");
        assert!(matches!(
            v.finish(None, "blob", "here"),
            Err(OciError::DigestMismatch { .. })
        ));
        let mut v = Verifier::new(&d).expect("sha256");
        v.update(b"hello");
        assert!(v.finish(Some(6), "blob", "here").is_err());
        assert!(sha256_hex("sha256:../../etc/passwd").is_err());
        assert!(Verifier::new("md5:abc").is_err());
    }
}
