//! Cosign's legacy signature: the simple-signing payload (`critical.image.docker-manifest-digest`
//! names the image, `critical.type` is `cosign container image signature`), signed with
//! ECDSA P-256 over SHA-256 of the exact payload bytes, the DER signature base64 in the layer's
//! `dev.cosignproject.cosign/signature` annotation.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use serde::Deserialize;
use serde_json::json;

pub const TYPE: &str = "cosign container image signature";

/// The payload bytes for `digest` of the image at `docker_reference`.
pub fn payload(
    docker_reference: &str,
    digest: &str,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let optional = if annotations.is_empty() {
        serde_json::Value::Null
    } else {
        json!(annotations)
    };
    let v = json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": TYPE,
        },
        "optional": optional,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The base64 DER signature of `payload`.
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let sig: DerSignature = key.sign(payload);
    STANDARD.encode(sig.as_bytes())
}

#[derive(Deserialize)]
struct Payload {
    critical: Critical,
}

#[derive(Deserialize)]
struct Critical {
    image: Image,
    #[serde(rename = "type")]
    type_: String,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest", alias = "Docker-manifest-digest")]
    digest: String,
}

/// Why a legacy signature does not hold for an image.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    BadSignature,
    NotCosign(String),
    Digest(String),
}

/// Checks the signature over the exact payload bytes, then what the payload claims.
pub fn verify(
    key: &VerifyingKey,
    payload: &[u8],
    signature_b64: &str,
    digest: &str,
) -> Result<(), Rejection> {
    check_signature(key, payload, signature_b64)?;
    check_claims(payload, digest)
}

/// Whether the base64 DER `signature_b64` holds over the exact `payload` bytes with `key`.
pub fn check_signature(
    key: &VerifyingKey,
    payload: &[u8],
    signature_b64: &str,
) -> Result<(), Rejection> {
    let der = STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| Rejection::BadSignature)?;
    let sig = Signature::from_der(&der).map_err(|_| Rejection::BadSignature)?;
    key.verify(payload, &sig)
        .map_err(|_| Rejection::BadSignature)
}

/// Whether the payload is cosign's simple-signing document naming `digest`.
pub fn check_claims(payload: &[u8], digest: &str) -> Result<(), Rejection> {
    let p: Payload = serde_json::from_slice(payload)
        .map_err(|e| Rejection::NotCosign(format!("payload is not simple-signing JSON: {e}")))?;
    if p.critical.type_ != TYPE {
        return Err(Rejection::NotCosign(format!(
            "critical.type is `{}`",
            p.critical.type_
        )));
    }
    if p.critical.image.digest != digest {
        return Err(Rejection::Digest(p.critical.image.digest));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_names_the_digest_and_verifies() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let p = payload("r/app", "sha256:aa", &BTreeMap::new());
        let sig = sign(&key, &p);
        assert_eq!(verify(key.verifying_key(), &p, &sig, "sha256:aa"), Ok(()));
        assert_eq!(
            verify(key.verifying_key(), &p, &sig, "sha256:bb"),
            Err(Rejection::Digest("sha256:aa".into()))
        );
        let mut tampered = p.clone();
        tampered[5] ^= 1;
        assert_eq!(
            verify(key.verifying_key(), &tampered, &sig, "sha256:aa"),
            Err(Rejection::BadSignature)
        );
    }
}
