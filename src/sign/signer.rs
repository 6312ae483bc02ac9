//! Signing one image digest with a cosign key: the default DSSE in-toto statement in a bundle
//! stored as a referrer, or the legacy simple-signing layer. Signing is deterministic
//! (RFC 6979), so signing the same digest with the same key again writes nothing new.
//! `sign_logged` logs the bundle's envelope in Rekor first, as cosign does by default.

use std::collections::BTreeMap;

use p256::ecdsa::SigningKey;

use super::keyless::rekor::Log;
use super::keyless::sign::SignError;
use super::store::{self, SIGNATURE_ANNOTATION, Stored, Subject};
use super::{bundle, dsse, legacy, statement};
use crate::oci::error::OciError;
use crate::oci::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Sigstore bundle v0.3 with a DSSE in-toto statement, as an OCI 1.1 referrer.
    Bundle,
    /// Simple-signing payload in `sha256-<hex>.sig`.
    Legacy,
}

pub struct Request<'a> {
    pub key: &'a SigningKey,
    pub format: Format,
    pub annotations: BTreeMap<String, String>,
    /// `identity.docker-reference` of a legacy payload (ignored by verifiers).
    pub docker_reference: String,
    /// RFC 3339 creation time for the referrer's annotation.
    pub created: String,
}

/// Signs `subject` and stores the signature in `store`.
pub async fn sign(store: &Store, subject: &Subject, req: &Request<'_>) -> Result<Stored, OciError> {
    match req.format {
        Format::Bundle => {
            let hex = subject.digest.hex();
            let payload = statement::statement(
                hex,
                &req.annotations,
                statement::SIGN_PREDICATE,
                &serde_json::json!({}),
            );
            let envelope = dsse::sign(req.key, statement::PAYLOAD_TYPE, payload);
            let b = bundle::key_based(req.key.verifying_key(), envelope, Vec::new());
            let bytes = bundle::to_bytes(&b).map_err(OciError::Manifest)?;
            store::put_bundle(
                store,
                subject,
                &bytes,
                statement::SIGN_PREDICATE,
                &req.created,
            )
            .await
        }
        Format::Legacy => {
            let payload = legacy::payload(
                &req.docker_reference,
                subject.digest.as_str(),
                &req.annotations,
            );
            let signature = legacy::sign(req.key, &payload);
            let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), signature)]);
            store::put_legacy(store, subject, &payload, annotations).await
        }
    }
}

/// Like `sign` in the bundle format, with the envelope logged in Rekor first (cosign's
/// default): the bundle carries the entry. Signing again finds the same entry (Rekor's 409)
/// and writes nothing new. Returns the entry's log index too.
pub async fn sign_logged(
    store: &Store,
    subject: &Subject,
    req: &Request<'_>,
    log: &Log,
) -> Result<(Stored, u64), SignError> {
    let payload = statement::statement(
        subject.digest.hex(),
        &req.annotations,
        statement::SIGN_PREDICATE,
        &serde_json::json!({}),
    );
    let envelope = dsse::sign(req.key, statement::PAYLOAD_TYPE, payload);
    let entry = log.upload(&envelope, req.key.verifying_key()).await?;
    let log_index = u64::from(entry.log_index);
    let b = bundle::key_based(req.key.verifying_key(), envelope, vec![entry]);
    let bytes = bundle::to_bytes(&b).map_err(OciError::Manifest)?;
    let stored = store::put_bundle(
        store,
        subject,
        &bytes,
        statement::SIGN_PREDICATE,
        &req.created,
    )
    .await?;
    Ok((stored, log_index))
}
