//! DSSE envelopes: the PAE bytes a signature covers, signing a payload with a P-256 key, and
//! reading an envelope back with its single signature checked against a key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use sigstore_types::{DsseEnvelope, DsseSignature, KeyId, PayloadBytes, SignatureBytes};

/// `DSSEv1 <len(type)> <type> <len(body)> <body>`, the bytes a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    sigstore_types::pae(payload_type, payload)
}

/// An envelope of `payload` signed by `key` over its PAE.
pub fn sign(key: &SigningKey, payload_type: &str, payload: Vec<u8>) -> DsseEnvelope {
    let sig: DerSignature = key.sign(&pae(payload_type, &payload));
    DsseEnvelope::new(
        payload_type,
        PayloadBytes::new(payload),
        DsseSignature::new(SignatureBytes::new(sig.as_bytes().to_vec()), KeyId::new("")),
    )
}

/// Whether the envelope's signature verifies with `key` over the PAE of its payload.
pub fn verify(envelope: &DsseEnvelope, key: &VerifyingKey) -> bool {
    let Ok(sig) = Signature::from_der(envelope.signature.sig.as_bytes()) else {
        return false;
    };
    key.verify(&envelope.pae(), &sig).is_ok()
}

/// Parses an envelope's JSON (exactly one signature).
pub fn parse(bytes: &[u8]) -> Result<DsseEnvelope, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("DSSE envelope: {e}"))
}

/// The standard base64 of a DER signature, as annotations and JSON carry it.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn signature_covers_payload_and_type() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let env = sign(&key, "t", b"{}".to_vec());
        assert!(verify(&env, key.verifying_key()));
        let json = serde_json::to_vec(&env).expect("json");
        let back = parse(&json).expect("parse");
        assert!(verify(&back, key.verifying_key()));
        let mut tampered = back.clone();
        tampered.payload_type = "u".into();
        assert!(!verify(&tampered, key.verifying_key()));
        let other = SigningKey::random(&mut rand_core::OsRng);
        assert!(!verify(&back, other.verifying_key()));
    }
}
