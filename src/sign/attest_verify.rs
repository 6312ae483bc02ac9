//! Verifying attestations of one predicate type about an image digest, with the same
//! `Verifier` policy as signatures: bundle referrers first, then legacy `.att` layers. Each
//! attestation found keeps its own reason when it does not hold; those that hold are returned
//! with their statement's predicate, who signed and when.

use serde::Serialize;

use super::attest::{DSSE_LAYER, LEGACY_PREDICATE_ANNOTATION, MAX_ENVELOPE};
use super::dsse;
use super::store::{self, FoundLegacy, Subject};
use super::verify::{self, Material, Signer, Verifier};
use crate::oci::attach::Attachment;
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::store::Store;

/// One attestation that holds.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// `bundle` or `legacy`.
    pub format: &'static str,
    /// The referrer manifest digest, or `sha256-<hex>.att layer N`.
    pub location: String,
    pub predicate_type: String,
    /// The statement's predicate, as signed.
    pub predicate: serde_json::Value,
    pub signer: Signer,
    /// The referrer's `org.opencontainers.image.created` annotation: the signer's claim, not
    /// covered by the signature (a trusted time is `signer.integrated_time`, or a time the
    /// predicate itself carries, such as a vuln scan's `metadata.scanFinishedOn`).
    pub created: Option<String>,
}

/// One attestation that does not hold, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Rejected {
    pub format: &'static str,
    pub location: String,
    pub reason: String,
}

/// Every attestation of a predicate type found on an image, verified or not.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub digest: Digest,
    pub predicate_type: String,
    pub verified: Vec<Verified>,
    pub rejected: Vec<Rejected>,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        !self.verified.is_empty()
    }

    /// One line saying why no attestation holds (for exit 1).
    pub fn reason(&self) -> String {
        if self.rejected.is_empty() {
            return format!(
                "no attestation: {} has no {} attestation (no bundle referrer and no sha256-<hex>.att layer of that type)",
                self.digest, self.predicate_type
            );
        }
        let reasons: Vec<String> = self
            .rejected
            .iter()
            .map(|r| format!("{} {}: {}", r.format, r.location, r.reason))
            .collect();
        reasons.join("; ")
    }
}

/// Checks every attestation of `predicate_type` attached to `subject` with `verifier`.
pub async fn verify_attestations(
    store: &Store,
    subject: &Subject,
    predicate_type: &str,
    verifier: &dyn Verifier,
) -> Result<Verdict, OciError> {
    let mut verdict = Verdict {
        digest: subject.digest.clone(),
        predicate_type: predicate_type.to_owned(),
        verified: Vec::new(),
        rejected: Vec::new(),
    };
    for found in store::bundles_of(store, subject, Some(predicate_type)).await? {
        let location = found.manifest.to_string();
        match verify::check_bundle_statement(&found, &subject.digest, predicate_type, verifier) {
            Ok((stmt, signer)) => verdict.verified.push(Verified {
                format: "bundle",
                location,
                predicate_type: stmt.predicate_type,
                predicate: stmt.predicate,
                signer,
                created: found.created,
            }),
            Err(reason) => verdict.rejected.push(Rejected {
                format: "bundle",
                location,
                reason,
            }),
        }
    }
    let tag = Attachment::Attestation.tag(&subject.digest);
    let layers = store::layers_of(store, &tag, DSSE_LAYER, MAX_ENVELOPE).await?;
    for (i, found) in layers.iter().enumerate() {
        if found
            .annotations
            .get(LEGACY_PREDICATE_ANNOTATION)
            .is_some_and(|t| t != predicate_type)
        {
            continue; // Another predicate type by its (unsigned) label: not asked for.
        }
        let location = format!("{tag} layer {}", i + 1);
        match check_legacy(found, &subject.digest, predicate_type, verifier) {
            Ok((stmt, signer)) => verdict.verified.push(Verified {
                format: "legacy",
                location,
                predicate_type: stmt.predicate_type,
                predicate: stmt.predicate,
                signer,
                created: None,
            }),
            Err(reason) => verdict.rejected.push(Rejected {
                format: "legacy",
                location,
                reason,
            }),
        }
    }
    Ok(verdict)
}

fn check_legacy(
    found: &FoundLegacy,
    digest: &Digest,
    predicate_type: &str,
    verifier: &dyn Verifier,
) -> Result<(sigstore_types::Statement, Signer), String> {
    let envelope = dsse::parse(&found.payload)?;
    verify::check_envelope_statement(
        &envelope,
        Material::Annotations(&found.annotations),
        digest,
        predicate_type,
        verifier,
    )
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::SigningKey;

    use super::*;
    use crate::oci::auth::Sources;
    use crate::oci::store::Context;
    use crate::oci::transport::Location;
    use crate::sign::attest::{self, Request};
    use crate::sign::signer::Format;
    use crate::sign::verify::Policy;

    #[tokio::test]
    async fn both_layouts_round_trip_and_refuse_other_keys_and_types() {
        let tmp = tempfile::tempdir().expect("tmp");
        let loc = Location::parse(&format!("oci:{}:t", tmp.path().display())).expect("loc");
        let ctx = Context::new(Default::default(), Sources::default()).expect("ctx");
        let store = ctx.store(&loc, true).expect("store");
        let subject = Subject {
            digest: Digest::of(b"an image"),
            media_type: crate::oci::manifest::OCI_MANIFEST.into(),
            size: 8,
        };
        let key = SigningKey::random(&mut rand_core::OsRng);
        let predicate = serde_json::json!({"scanner": {"uri": "x"}});
        for format in [Format::Bundle, Format::Legacy] {
            let req = Request {
                key: &key,
                format,
                created: "2026-01-31T12:00:00Z".into(),
            };
            let stored = attest::attest(&store, &subject, attest::VULN, &predicate, &req)
                .await
                .expect("attest");
            assert!(stored.written);
            let again = attest::attest(&store, &subject, attest::VULN, &predicate, &req)
                .await
                .expect("attest again");
            assert!(
                !again.written,
                "attesting the same predicate twice is idempotent"
            );
        }
        let policy = Policy {
            key: *key.verifying_key(),
            ignore_tlog: true,
        };
        let v = verify_attestations(&store, &subject, attest::VULN, &policy)
            .await
            .expect("verify");
        assert_eq!(v.verified.len(), 2, "{:?}", v.rejected);
        assert!(v.verified.iter().all(|a| a.predicate == predicate));
        assert_eq!(
            v.verified[0].created.as_deref(),
            Some("2026-01-31T12:00:00Z")
        );
        let none = verify_attestations(&store, &subject, attest::CYCLONEDX, &policy)
            .await
            .expect("verify");
        assert!(!none.holds());
        assert!(
            none.reason().starts_with("no attestation"),
            "{}",
            none.reason()
        );
        let other = Policy {
            key: *SigningKey::random(&mut rand_core::OsRng).verifying_key(),
            ignore_tlog: true,
        };
        let wrong = verify_attestations(&store, &subject, attest::VULN, &other)
            .await
            .expect("verify");
        assert!(!wrong.holds());
        assert_eq!(wrong.rejected.len(), 2);
        assert!(wrong.reason().contains("wrong key"), "{}", wrong.reason());
        let strict = Policy {
            key: *key.verifying_key(),
            ignore_tlog: false,
        };
        let unlogged = verify_attestations(&store, &subject, attest::VULN, &strict)
            .await
            .expect("verify");
        assert!(!unlogged.holds());
        assert!(unlogged.reason().contains("not in log"));
    }
}
