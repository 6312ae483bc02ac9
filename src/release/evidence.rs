//! The evidence a release attaches to an image digest: the key-based signature of the index
//! and of each platform manifest (`--recursive`, as cosign), a CycloneDX SBOM attestation per
//! platform, and the vulnerability gate's result as a `vuln` attestation (predicate from
//! `sign::attest_vuln`, as `cicd check trivy --attest`), all as DSSE bundles
//! stored as referrers by `crate::sign::attest` (idempotent: the same statement is never
//! stored twice). Without a key nothing is attached; the caller says so once.

use std::collections::BTreeMap;

use p256::ecdsa::SigningKey;

use crate::oci::error::OciError;
use crate::oci::store::Store;
use crate::sign::signer::{self, Format};
use crate::sign::store::{Stored, Subject};

/// cosign's predicate type for a CycloneDX SBOM attestation.
pub const SBOM_PREDICATE: &str = crate::sign::attest::CYCLONEDX;
/// cosign's predicate type for a vulnerability scan attestation.
pub const VULN_PREDICATE: &str = crate::sign::attest::VULN;

/// Signs `subject` (bundle format).
pub async fn sign(
    store: &Store,
    subject: &Subject,
    key: &SigningKey,
    created: &str,
) -> Result<Stored, OciError> {
    let req = signer::Request {
        key,
        format: Format::Bundle,
        annotations: BTreeMap::new(),
        docker_reference: String::new(),
        created: created.to_owned(),
    };
    signer::sign(store, subject, &req).await
}

/// Attests `predicate` of `predicate_type` about `subject` (a bundle referrer).
pub async fn attest(
    store: &Store,
    subject: &Subject,
    key: &SigningKey,
    predicate_type: &str,
    predicate: &serde_json::Value,
    created: &str,
) -> Result<Stored, OciError> {
    let req = crate::sign::attest::Request {
        key,
        format: Format::Bundle,
        created: created.to_owned(),
    };
    crate::sign::attest::attest(store, subject, predicate_type, predicate, &req).await
}
