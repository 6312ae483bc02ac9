//! The evidence a release attaches to an image digest: the key-based signature of the index
//! and of each platform manifest (`--recursive`, as cosign), a CycloneDX SBOM attestation per
//! platform, and the vulnerability gate's result as a `vuln` attestation (predicate from
//! `sign::attest_vuln`, as `cicd check trivy --attest`), all as DSSE bundles
//! stored as referrers by `crate::sign::attest` (idempotent: the same statement is never
//! stored twice). Signing is with a cosign key — each signature and attestation logged in
//! Rekor first unless `release.signing.tlog-upload: false`, as `cicd sign`/`cicd attest` do —
//! or keyless (a Fulcio certificate and a Rekor entry, through `sign::keyless`). Without
//! either nothing is attached; the caller says so once.

use std::collections::BTreeMap;

use futures_util::future::try_join_all;
use p256::ecdsa::SigningKey;

use super::PipelineError;
use crate::oci::store::{Fetched, Store};
use crate::sign::keyless::rekor::Log;
use crate::sign::keyless::sign::{self as keyless_sign, SignError};
use crate::sign::signer::{self, Format};
use crate::sign::store::{Stored, Subject};

/// How the release signs, as configured in `release.signing`.
pub enum Signing {
    /// The key, and the Rekor its entries go to (`None`: `tlog-upload: false`).
    Key(SigningKey, Option<Log>),
    /// The Fulcio, Rekor and TSA endpoints of the trust config (`CICD_TRUST_CONFIG`).
    Keyless(sigstore_sign::SigningServices),
}

/// What signs while the pipeline runs (the keyless request holds this run's OIDC token).
pub enum Signer<'a> {
    Key(&'a SigningKey, Option<&'a Log>),
    Keyless(keyless_sign::Request<'a>),
}

/// cosign's predicate type for a CycloneDX SBOM attestation.
pub const SBOM_PREDICATE: &str = crate::sign::attest::CYCLONEDX;
/// cosign's predicate type for a vulnerability scan attestation.
pub const VULN_PREDICATE: &str = crate::sign::attest::VULN;

/// Signs `subject` (bundle format).
pub async fn sign(
    store: &Store,
    subject: &Subject,
    signer: &Signer<'_>,
    created: &str,
) -> Result<Stored, PipelineError> {
    match signer {
        Signer::Key(key, log) => {
            let req = signer::Request {
                key,
                format: Format::Bundle,
                annotations: BTreeMap::new(),
                docker_reference: String::new(),
                created: created.to_owned(),
            };
            match log {
                Some(log) => Ok(signer::sign_logged(store, subject, &req, log)
                    .await
                    .map_err(keyless)?
                    .0),
                None => Ok(signer::sign(store, subject, &req).await?),
            }
        }
        Signer::Keyless(req) => Ok(keyless_sign::sign(store, subject, req)
            .await
            .map_err(keyless)?
            .0),
    }
}

/// Attests `predicate` of `predicate_type` about `subject` (a bundle referrer).
pub async fn attest(
    store: &Store,
    subject: &Subject,
    signer: &Signer<'_>,
    predicate_type: &str,
    predicate: &serde_json::Value,
    created: &str,
) -> Result<Stored, PipelineError> {
    match signer {
        Signer::Key(key, log) => {
            let req = crate::sign::attest::Request {
                key,
                format: Format::Bundle,
                created: created.to_owned(),
            };
            let attest = crate::sign::attest::attest_logged;
            match log {
                Some(log) => attest(store, subject, predicate_type, predicate, &req, log)
                    .await
                    .map_err(keyless),
                None => Ok(crate::sign::attest::attest(
                    store,
                    subject,
                    predicate_type,
                    predicate,
                    &req,
                )
                .await?),
            }
        }
        Signer::Keyless(req) => {
            Ok(
                keyless_sign::attest(store, subject, predicate_type, predicate, req)
                    .await
                    .map_err(keyless)?
                    .0,
            )
        }
    }
}

fn keyless(e: SignError) -> PipelineError {
    match e {
        SignError::Keyless(k) => PipelineError::Keyless(k),
        SignError::Oci(o) => PipelineError::Oci(o),
    }
}

/// What [`attach`] stored for one image.
pub struct Attached {
    /// Each platform's SBOM attestation (its referrer manifest), in the order given.
    pub sboms: Vec<String>,
    /// The index's signature, then each platform's, in the order given.
    pub signatures: Vec<String>,
}

/// One image's evidence in one wave: the empty config blob every referrer shares is stored
/// first, alone (a blob uploaded twice at once while a manifest naming it is `PUT` is what
/// docker-registry refuses: see `oci::copy`'s `in_flight`); then every piece at once — the
/// index's signature and the gate's `vuln` attestation, each platform's SBOM attestation and
/// signature (two pieces of one subject append to its referrers fallback index one at a
/// time: `oci::referrers`). `platforms` pairs each platform's manifest with its SBOM (the
/// predicate).
pub async fn attach(
    store: &Store,
    signer: &Signer<'_>,
    root: &Fetched,
    platforms: &[(&Fetched, &[u8])],
    vuln: Option<&serde_json::Value>,
    created: &str,
) -> Result<Attached, PipelineError> {
    crate::oci::referrers::put_empty(store).await?;
    let root_subject = Subject::of(root);
    let index = async {
        let signed = sign(store, &root_subject, signer, created);
        let attested = async {
            if let Some(predicate) = vuln {
                attest(
                    store,
                    &root_subject,
                    signer,
                    VULN_PREDICATE,
                    predicate,
                    created,
                )
                .await?;
            }
            Ok::<_, PipelineError>(())
        };
        let (signed, ()) = tokio::try_join!(signed, attested)?;
        Ok::<_, PipelineError>(signed.manifest.to_string())
    };
    let each = try_join_all(platforms.iter().map(|(manifest, sbom)| async move {
        let subject = Subject::of(manifest);
        let predicate: serde_json::Value =
            serde_json::from_slice(sbom).map_err(|e| PipelineError::Plan(e.to_string()))?;
        let attested = attest(store, &subject, signer, SBOM_PREDICATE, &predicate, created);
        let signed = sign(store, &subject, signer, created);
        let (attested, signed) = tokio::try_join!(attested, signed)?;
        Ok::<_, PipelineError>((attested.manifest.to_string(), signed.manifest.to_string()))
    }));
    let (index, each) = tokio::try_join!(index, each)?;
    let (sboms, mut signatures): (Vec<_>, Vec<_>) = each.into_iter().unzip();
    signatures.insert(0, index);
    Ok(Attached { sboms, signatures })
}
