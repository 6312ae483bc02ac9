//! The verification policy for key-based signatures: bundle referrers first, then legacy
//! `.sig` layers, as cosign v3 reads them. A signature counts only when its signature holds
//! over the exact DSSE PAE or simple-signing payload, it names
//! this image's digest, and it is in a transparency log — or the caller said
//! `--insecure-ignore-tlog`. Every signature that does not hold keeps its own reason.

use p256::ecdsa::VerifyingKey;
use serde::Serialize;
use sigstore_types::Sha256Hash;

use super::store::{self, FoundBundle, FoundLegacy, SIGNATURE_ANNOTATION, Subject};
use super::{bundle, legacy, statement};
use crate::oci::attach::Attachment;
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::store::Store;

/// What is asked: the key, and whether a signature without a log entry may pass.
pub struct Policy {
    pub key: VerifyingKey,
    pub ignore_tlog: bool,
    /// Checks log entries against the trusted root (absent with `ignore_tlog`).
    pub log: Option<std::sync::Arc<sigstore_verify::Verifier>>,
}

/// One signature found on the image and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    pub format: &'static str,
    /// Where it was found: the referrer manifest digest, or `sha256-<hex>.sig` layer N.
    pub location: String,
    pub verified: bool,
    /// Why it does not hold (absent when verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Present only when a log entry was checked; never invented.
    pub log_index: Option<u64>,
    pub integrated_time: Option<String>,
}

/// The verdict for one image.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub digest: Digest,
    pub verified: bool,
    pub signatures: Vec<Checked>,
}

impl Verdict {
    /// One line saying why verification failed (for exit 1).
    pub fn reason(&self) -> String {
        if self.signatures.is_empty() {
            return format!(
                "no signature: {} has no bundle referrer and no sha256-<hex>.sig signature",
                self.digest
            );
        }
        let reasons: Vec<String> = self
            .signatures
            .iter()
            .filter_map(|c| {
                c.reason
                    .as_ref()
                    .map(|r| format!("{} {}: {r}", c.format, c.location))
            })
            .collect();
        reasons.join("; ")
    }
}

/// Checks every signature attached to `subject` with `policy`.
pub async fn verify(
    store: &Store,
    subject: &Subject,
    policy: &Policy,
) -> Result<Verdict, OciError> {
    let mut signatures = Vec::new();
    for found in store::bundles(store, subject).await? {
        signatures.push(check_bundle(&found, &subject.digest, policy));
    }
    for (i, found) in store::legacy(store, subject).await?.iter().enumerate() {
        signatures.push(check_legacy(found, i, &subject.digest, policy));
    }
    Ok(Verdict {
        digest: subject.digest.clone(),
        verified: signatures.iter().any(|c| c.verified),
        signatures,
    })
}

fn checked(format: &'static str, location: String, reason: Option<String>) -> Checked {
    Checked {
        format,
        location,
        verified: reason.is_none(),
        reason,
        log_index: None,
        integrated_time: None,
    }
}

fn check_bundle(found: &FoundBundle, digest: &Digest, policy: &Policy) -> Checked {
    let reason = bundle_reason(found, digest, policy).err();
    checked("bundle", found.manifest.to_string(), reason)
}

/// `Ok` when the bundle holds; else why not.
fn bundle_reason(found: &FoundBundle, digest: &Digest, policy: &Policy) -> Result<(), String> {
    if let Some(s) = &found.subject
        && s != digest
    {
        return Err(format!(
            "digest mismatch: the signature manifest's subject is {s}, not this image (a signature copied from another image)"
        ));
    }
    let parsed = bundle::parse(&found.bytes)?;
    let envelope = bundle::envelope(&parsed)
        .ok_or("not a DSSE bundle: cicd verify reads DSSE in-toto signatures")?;
    if envelope.payload_type != statement::PAYLOAD_TYPE {
        return Err(format!(
            "DSSE payload type `{}` is not in-toto",
            envelope.payload_type
        ));
    }
    let stmt: sigstore_types::Statement = serde_json::from_slice(envelope.payload.as_bytes())
        .map_err(|e| format!("tampered payload: not an in-toto statement ({e})"))?;
    if stmt.predicate_type != statement::SIGN_PREDICATE {
        return Err(format!(
            "an attestation ({}), not a signature",
            stmt.predicate_type
        ));
    }
    let hint_ok = match &parsed.verification_material.content {
        sigstore_types::bundle::VerificationMaterialContent::PublicKey(p) => {
            p.hint.is_empty() || p.hint == bundle::key_hint(&policy.key)
        }
        _ => return Err("keyless bundle (certificate): verify it with an identity policy".into()),
    };
    if !policy.ignore_tlog && parsed.verification_material.tlog_entries.is_empty() {
        return Err("not in log: the bundle has no transparency-log entry (signed with --tlog-upload=false?); pass --insecure-ignore-tlog to accept that".into());
    }
    if !policy.ignore_tlog {
        let verifier = policy
            .log
            .as_deref()
            .ok_or("not in log: no trusted root was loaded to check the log entry")?;
        crate::sign::keyless::rekor::check(verifier, &parsed, &policy.key, digest.hex())?;
    }
    // sigstore-verify refuses a bundle with neither log entry nor timestamp (exactly what
    // `--tlog-upload=false` makes), so the signature and subject are checked here, with the
    // same PAE and subject rules it applies.
    if !super::dsse::verify(envelope, &policy.key) {
        return Err(if hint_ok {
            "tampered payload: the signature does not match the DSSE payload for this key".into()
        } else {
            "wrong key: signed by another key (the bundle's key hint differs)".into()
        });
    }
    let hash =
        Sha256Hash::from_hex(digest.hex()).map_err(|e| format!("image digest {digest}: {e}"))?;
    if stmt.subject.len() != 1 || !stmt.matches_sha256(&hash) {
        return Err(format!(
            "digest mismatch: the statement's subject is not {digest} (a signature of another image)"
        ));
    }
    Ok(())
}

fn check_legacy(found: &FoundLegacy, i: usize, digest: &Digest, policy: &Policy) -> Checked {
    let location = format!("{} layer {}", Attachment::Signature.tag(digest), i + 1);
    let reason = (|| {
        let sig = found
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .ok_or("no dev.cosignproject.cosign/signature annotation")?;
        match legacy::verify(&policy.key, &found.payload, sig, digest.as_str()) {
            Ok(()) => {}
            Err(legacy::Rejection::BadSignature) => {
                return Err("wrong key or tampered payload: the signature does not verify over the payload with this key".to_owned());
            }
            Err(legacy::Rejection::NotCosign(m)) => return Err(m),
            Err(legacy::Rejection::Digest(d)) => {
                return Err(format!(
                    "digest mismatch: the payload signs {d} (a signature copied from another image)"
                ));
            }
        }
        if !policy.ignore_tlog {
            return Err("not in log: legacy signatures are accepted only with --insecure-ignore-tlog until Rekor bundles are checked".to_owned());
        }
        Ok(())
    })()
    .err();
    checked("legacy", location, reason)
}
