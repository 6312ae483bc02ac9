//! Keyless legacy `.sig` (and `.att`) layers as cosign v2 writes them (pkg/oci/static,
//! pkg/cosign/bundle): besides the signature (or DSSE envelope), the layer's `dev.sigstore.cosign/certificate` (the Fulcio leaf, PEM),
//! `/chain` (the CA certificates after it, PEM) and `/bundle` — cosign's `RekorBundle`, the
//! log's SET and the `hashedrekord` entry it signs: `{"SignedEntryTimestamp", "Payload":
//! {"body", "integratedTime", "logIndex", "logID"}}` (a `.sig`'s entry is `hashedrekord`, an
//! `.att`'s `dsse`). Verification reads a layer back as the Sigstore bundle v0.1 it amounts to
//! (message signature or DSSE envelope, SET-only log entry) so that sigstore-verify checks
//! chain, SET, entry and signature as for any bundle. cosign v2's own `.att` layers log an
//! `intoto` entry, which cicd does not check (refused as not in log).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sigstore_types::{Bundle, DerCertificate, DsseEnvelope, TransparencyLogEntry};

use crate::sign::store::SIGNATURE_ANNOTATION;

pub const CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN: &str = "dev.sigstore.cosign/chain";
pub const BUNDLE: &str = "dev.sigstore.cosign/bundle";

/// The layer annotations for a keyless signature `signature_b64` logged as `entry`.
pub fn annotations(
    signature_b64: &str,
    leaf: &DerCertificate,
    chain: &[DerCertificate],
    entry: &TransparencyLogEntry,
) -> Result<BTreeMap<String, String>, String> {
    let e = serde_json::to_value(entry).map_err(|e| e.to_string())?;
    let text = |pointer: &str| {
        e.pointer(pointer)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Rekor's entry has no {pointer}"))
    };
    let number = |pointer: &str| -> Result<i64, String> {
        match e.pointer(pointer) {
            Some(Value::String(s)) => s.parse().map_err(|_| format!("{pointer}: {s}")),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{pointer}: {n}")),
            _ => Err(format!("Rekor's entry has no {pointer}")),
        }
    };
    let log_id = STANDARD
        .decode(text("/logId/keyId")?)
        .map_err(|e| format!("log id: {e}"))?;
    let rekor_bundle = json!({
        "SignedEntryTimestamp": text("/inclusionPromise/signedEntryTimestamp")?,
        "Payload": {
            "body": text("/canonicalizedBody")?,
            "integratedTime": number("/integratedTime")?,
            "logIndex": number("/logIndex")?,
            "logID": hex::encode(log_id),
        },
    });
    let chain: Vec<String> = chain.iter().map(DerCertificate::to_pem).collect();
    Ok(BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_owned(), signature_b64.to_owned()),
        (CERTIFICATE.to_owned(), leaf.to_pem()),
        (CHAIN.to_owned(), chain.join("")),
        (BUNDLE.to_owned(), rekor_bundle.to_string()),
    ]))
}

/// Whether a layer's annotations say it was signed keylessly (a certificate).
pub fn is_keyless(annotations: &BTreeMap<String, String>) -> bool {
    annotations.contains_key(CERTIFICATE)
}

/// The bundle v0.1 a keyless `.sig` layer amounts to; `Err` says what is missing or malformed.
pub fn to_bundle(
    payload: &[u8],
    signature_b64: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<Bundle, String> {
    // sha2 directly: a plain digest needs no sigstore crypto provider installed.
    let digest = <sha2::Sha256 as sha2::Digest>::digest(payload);
    let mut bundle = material(annotations, "hashedrekord")?;
    bundle["messageSignature"] = json!({
        "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(digest)},
        "signature": signature_b64,
    });
    serde_json::from_value(bundle).map_err(|e| format!("invalid bundle: {e}"))
}

/// The bundle v0.1 a keyless `.att` layer (its DSSE `envelope`) amounts to.
pub fn envelope_bundle(
    envelope: &DsseEnvelope,
    annotations: &BTreeMap<String, String>,
) -> Result<Bundle, String> {
    let mut bundle = material(annotations, "dsse")?;
    bundle["dsseEnvelope"] = serde_json::to_value(envelope).map_err(|e| e.to_string())?;
    serde_json::from_value(bundle).map_err(|e| format!("invalid bundle: {e}"))
}

/// A bundle v0.1 without its content: the layer's certificate and its SET-only log entry,
/// which must be of `kind`.
fn material(annotations: &BTreeMap<String, String>, kind: &str) -> Result<Value, String> {
    let pem = annotations
        .get(CERTIFICATE)
        .ok_or("untrusted certificate: the layer carries no certificate")?;
    let leaf = DerCertificate::from_pem(pem)
        .map_err(|e| format!("untrusted certificate: {CERTIFICATE}: {e}"))?;
    let rb: Value = annotations
        .get(BUNDLE)
        .ok_or("not in log: the layer carries no Rekor bundle (dev.sigstore.cosign/bundle)")
        .and_then(|b| {
            serde_json::from_str(b).map_err(|_| "not in log: the Rekor bundle is not JSON")
        })?;
    let field = |pointer: &str| {
        rb.pointer(pointer)
            .filter(|v| v.is_string() || v.is_i64())
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .ok_or_else(|| format!("not in log: the Rekor bundle has no {pointer}"))
    };
    let log_id = hex::decode(field("/Payload/logID")?)
        .map_err(|_| "not in log: the Rekor bundle's logID is not hex")?;
    let body = field("/Payload/body")?;
    let entry: Value = STANDARD
        .decode(&body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("not in log: the Rekor bundle's body is not base64 JSON")?;
    if entry["kind"] != kind || entry["apiVersion"] != "0.0.1" {
        return Err(format!(
            "not in log: the Rekor entry is not a {kind} v0.0.1 entry (cicd checks those)"
        ));
    }
    Ok(json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": [{"rawBytes": STANDARD.encode(leaf.as_bytes())}]},
            "tlogEntries": [{
                "logIndex": field("/Payload/logIndex")?,
                "logId": {"keyId": STANDARD.encode(log_id)},
                "kindVersion": {"kind": kind, "version": "0.0.1"},
                "integratedTime": field("/Payload/integratedTime")?,
                "inclusionPromise": {"signedEntryTimestamp": field("/SignedEntryTimestamp")?},
                "canonicalizedBody": body,
            }],
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_without_its_keyless_parts_is_refused_with_the_reason() {
        let none = BTreeMap::new();
        let e = to_bundle(b"{}", "c2ln", &none).expect_err("no certificate");
        assert!(e.starts_with("untrusted certificate"), "{e}");
        let bad_pem = BTreeMap::from([(CERTIFICATE.to_owned(), "-----BEGIN".to_owned())]);
        assert!(to_bundle(b"{}", "c2ln", &bad_pem).is_err());
        assert!(!is_keyless(&none));
    }
}
