//! Attestations: a predicate about one image digest, signed as a DSSE envelope around an
//! in-toto Statement v1 and stored as cosign v3 does — a Sigstore bundle v0.3 referrer whose
//! `dev.sigstore.bundle.predicateType` is the predicate's type — or, on request, as a
//! `application/vnd.dsse.envelope.v1+json` layer appended to `sha256-<hex>.att` (cosign v2).
//! Key-based bundles are logged in Rekor by default (`attest_logged`). Predicate-type
//! shorthands are cosign's. Verification is `attest_verify`.

use std::collections::BTreeMap;

use p256::ecdsa::SigningKey;
use sigstore_types::DsseEnvelope;

use super::keyless::rekor::Log;
use super::keyless::sign::SignError;
use super::signer::Format;
use super::store::{self, Layer, SIGNATURE_ANNOTATION, Stored, Subject};
use super::{bundle, dsse, statement};
use crate::oci::attach::Attachment;
use crate::oci::error::OciError;
use crate::oci::store::Store;

/// The layer media type of a legacy `.att` attestation (the DSSE envelope's JSON).
pub const DSSE_LAYER: &str = "application/vnd.dsse.envelope.v1+json";
/// The annotation cosign puts the predicate type under on a legacy `.att` layer.
pub const LEGACY_PREDICATE_ANNOTATION: &str = "predicateType";
/// The most bytes of a legacy `.att` layer we read (an SBOM predicate can be large).
pub const MAX_ENVELOPE: u64 = 64 << 20;

pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
pub const SPDX: &str = "https://spdx.dev/Document";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
pub const CUSTOM: &str = "https://cosign.sigstore.dev/attestation/v1";
pub const LINK: &str = "https://in-toto.io/Link/v1";
pub const OPENVEX: &str = "https://openvex.dev/ns";

/// The predicate type a `--type` value names: cosign's shorthands, or any URI as given.
pub fn predicate_type(value: &str) -> Result<String, String> {
    let uri = match value {
        "cyclonedx" => CYCLONEDX,
        "spdx" | "spdxjson" => SPDX,
        "slsaprovenance1" => SLSA_V1,
        "slsaprovenance" | "slsaprovenance02" => SLSA_V02,
        "vuln" => VULN,
        "custom" => CUSTOM,
        "link" => LINK,
        "openvex" => OPENVEX,
        other => {
            let is_uri = other
                .split_once("://")
                .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty())
                && !other.chars().any(|c| c.is_whitespace() || c.is_control());
            if !is_uri {
                return Err(format!(
                    "--type `{other}`: expected cyclonedx, spdx, spdxjson, slsaprovenance, slsaprovenance02, slsaprovenance1, link, vuln, openvex, custom or a URI"
                ));
            }
            other
        }
    };
    Ok(uri.to_owned())
}

/// The predicate for `--type custom`, as cosign writes it: the file's text and a timestamp.
pub fn custom_predicate(raw: &str, timestamp: &str) -> serde_json::Value {
    serde_json::json!({"Data": raw, "Timestamp": timestamp})
}

/// What an attestation is made of and where it goes.
pub struct Request<'a> {
    pub key: &'a SigningKey,
    pub format: Format,
    /// RFC 3339 creation time for the referrer's annotation.
    pub created: String,
}

/// The statement bytes for a predicate about `subject` (no name, as cosign v3 writes it).
pub fn statement_for(
    subject: &Subject,
    predicate_type: &str,
    predicate: &serde_json::Value,
) -> Vec<u8> {
    statement::statement(
        subject.digest.hex(),
        &BTreeMap::new(),
        predicate_type,
        predicate,
    )
}

/// Signs `predicate` of `predicate_type` about `subject` with a cosign key and stores it.
/// Deterministic signatures make attesting the same predicate again write nothing new.
pub async fn attest(
    store: &Store,
    subject: &Subject,
    predicate_type: &str,
    predicate: &serde_json::Value,
    req: &Request<'_>,
) -> Result<Stored, OciError> {
    let payload = statement_for(subject, predicate_type, predicate);
    let envelope = dsse::sign(req.key, statement::PAYLOAD_TYPE, payload);
    match req.format {
        Format::Bundle => {
            let b = bundle::key_based(req.key.verifying_key(), envelope, Vec::new());
            let bytes = bundle::to_bytes(&b).map_err(OciError::Manifest)?;
            store::put_bundle(store, subject, &bytes, predicate_type, &req.created).await
        }
        Format::Legacy => {
            put_legacy(store, subject, &envelope, predicate_type, BTreeMap::new()).await
        }
    }
}

/// Like `attest` in the bundle format, with the envelope logged in Rekor first (cosign's
/// default): the bundle carries the entry, so `verify-attestation` checks it without
/// `--insecure-ignore-tlog`. Attesting the same predicate again finds the same entry (Rekor's
/// 409) and writes nothing new. The legacy `.att` layout is not logged (callers refuse it).
pub async fn attest_logged(
    store: &Store,
    subject: &Subject,
    predicate_type: &str,
    predicate: &serde_json::Value,
    req: &Request<'_>,
    log: &Log,
) -> Result<Stored, SignError> {
    let payload = statement_for(subject, predicate_type, predicate);
    let envelope = dsse::sign(req.key, statement::PAYLOAD_TYPE, payload);
    let entry = log.upload(&envelope, req.key.verifying_key()).await?;
    let b = bundle::key_based(req.key.verifying_key(), envelope, vec![entry]);
    let bytes = bundle::to_bytes(&b).map_err(OciError::Manifest)?;
    Ok(store::put_bundle(store, subject, &bytes, predicate_type, &req.created).await?)
}

/// Appends a signed envelope to `sha256-<hex>.att` as cosign v2 does (layer annotations
/// `predicateType` and an empty `dev.cosignproject.cosign/signature`, plus `extra`, where a
/// keyless signer puts its certificate and log bundle).
pub async fn put_legacy(
    store: &Store,
    subject: &Subject,
    envelope: &DsseEnvelope,
    predicate_type: &str,
    extra: BTreeMap<String, String>,
) -> Result<Stored, OciError> {
    let json = serde_json::to_vec(envelope).map_err(|e| OciError::Manifest(e.to_string()))?;
    let mut annotations = extra;
    annotations.insert(
        LEGACY_PREDICATE_ANNOTATION.to_owned(),
        predicate_type.to_owned(),
    );
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
    let layer = Layer {
        tag: Attachment::Attestation.tag(&subject.digest),
        media_type: DSSE_LAYER,
        payload: &json,
        annotations,
        what: "cosign's attestation image",
    };
    store::append_layer(store, &layer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthands_are_cosigns_and_uris_pass_through() {
        assert_eq!(predicate_type("cyclonedx").as_deref(), Ok(CYCLONEDX));
        assert_eq!(predicate_type("spdxjson").as_deref(), Ok(SPDX));
        assert_eq!(predicate_type("slsaprovenance1").as_deref(), Ok(SLSA_V1));
        assert_eq!(predicate_type("vuln").as_deref(), Ok(VULN));
        assert_eq!(predicate_type("custom").as_deref(), Ok(CUSTOM));
        assert_eq!(
            predicate_type("https://example.com/p/v1").as_deref(),
            Ok("https://example.com/p/v1")
        );
        for bad in ["", "sbom", "https://", "https://a b", "x://y\n::error::z"] {
            assert!(predicate_type(bad).is_err(), "{bad:?}");
        }
    }
}
