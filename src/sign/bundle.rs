//! Sigstore bundle v0.3 JSON (`application/vnd.dev.sigstore.bundle.v0.3+json`): built around a
//! signed DSSE envelope with the public key's hint (key-based) and its log entries, and read
//! back from a registry blob. The types are sigstore-types'; this file only assembles them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::EncodePublicKey;
use sha2::{Digest as _, Sha256};
use sigstore_bundle::{BundleV03, VerificationMaterialV03};
use sigstore_types::bundle::SignatureContent;
use sigstore_types::{Bundle, DsseEnvelope, TransparencyLogEntry};

pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The most bytes a bundle blob may have before we refuse to parse it.
pub const MAX_BYTES: u64 = 4 << 20;

/// The hint cosign puts in a key-based bundle: base64 of SHA-256 over the key's SPKI DER.
pub fn key_hint(key: &VerifyingKey) -> String {
    let der = key
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    STANDARD.encode(Sha256::digest(der))
}

/// A key-based bundle around `envelope`, with `tlog` entries when a log recorded it.
pub fn key_based(
    key: &VerifyingKey,
    envelope: DsseEnvelope,
    tlog: Vec<TransparencyLogEntry>,
) -> Bundle {
    let mut b = BundleV03::new(
        VerificationMaterialV03::PublicKey {
            hint: key_hint(key),
        },
        SignatureContent::DsseEnvelope(envelope),
    );
    for entry in tlog {
        b = b.with_tlog_entry(entry);
    }
    b.into_bundle()
}

/// The bundle's JSON bytes (what is stored as the layer blob).
pub fn to_bytes(bundle: &Bundle) -> Result<Vec<u8>, String> {
    bundle
        .to_json()
        .map(String::into_bytes)
        .map_err(|e| format!("bundle JSON: {e}"))
}

/// Parses a stored bundle (any of v0.1–v0.3, as sigstore-types reads them).
pub fn parse(bytes: &[u8]) -> Result<Bundle, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "bundle is not UTF-8".to_owned())?;
    Bundle::from_json(text).map_err(|e| format!("bundle JSON: {e}"))
}

/// The DSSE envelope a bundle carries, if it carries one.
pub fn envelope(bundle: &Bundle) -> Option<&DsseEnvelope> {
    match &bundle.content {
        SignatureContent::DsseEnvelope(e) => Some(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;

    #[test]
    fn key_based_bundle_round_trips() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let env = super::super::dsse::sign(&key, "t", b"{}".to_vec());
        let b = key_based(key.verifying_key(), env.clone(), Vec::new());
        let bytes = to_bytes(&b).expect("json");
        let text = String::from_utf8(bytes.clone()).expect("utf8");
        assert!(text.contains(MEDIA_TYPE), "{text}");
        assert!(text.contains("\"publicKey\""), "{text}");
        let back = parse(&bytes).expect("parse");
        assert_eq!(envelope(&back), Some(&env));
    }
}
