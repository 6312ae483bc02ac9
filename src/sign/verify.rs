//! The verification policy for signatures: bundle referrers first, then — only when no
//! bundle holds — legacy `.sig` layers, as cosign v3 reads them. A signature counts only when the policy's `Verifier`
//! accepts its signature (over the exact DSSE PAE or simple-signing payload) and evidence, and
//! it names this image's digest. The key-based `Policy` is here; the keyless one
//! (`keyless::verify::KeylessPolicy`) implements the same trait. Every signature that does not hold keeps its own
//! reason.

use std::collections::BTreeMap;

use p256::ecdsa::VerifyingKey;
use serde::Serialize;
use sigstore_types::{Bundle, DsseEnvelope, Sha256Hash, Statement};

use super::store::{self, FoundBundle, FoundLegacy, SIGNATURE_ANNOTATION, Subject};
use super::{bundle, legacy, statement};
use crate::oci::attach::Attachment;
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::store::Store;

/// Who signed, as the verifier established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// `key` for a cosign key, `certificate` for keyless.
    pub kind: &'static str,
    /// The key's hint (base64 SHA-256 of its SPKI) or the certificate's identity.
    pub identity: String,
    /// The OIDC issuer of a keyless certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Present only when a log entry was checked; never invented.
    pub log_index: Option<u64>,
    /// RFC 3339 time the log (or a timestamp authority) vouches for; never invented.
    pub integrated_time: Option<String>,
}

/// Where the signature material of a DSSE envelope came from.
#[derive(Clone, Copy)]
pub enum Material<'a> {
    /// A Sigstore bundle (key hint or certificate, log entries, timestamps).
    Bundle(&'a Bundle),
    /// A legacy `.att`/`.sig` layer's annotations (cosign's certificate/chain/bundle keys).
    Annotations(&'a BTreeMap<String, String>),
}

/// A verification policy: who may sign and what evidence (log entry, time) it demands. The
/// checks of what is signed (subject digest, predicate type) are the callers', the same for
/// every policy.
pub trait Verifier: Send + Sync {
    /// Whether the envelope's signature over its PAE is by whom the policy trusts.
    /// `subject` is the image digest the statement must name (a log entry is checked for it).
    fn check_envelope(
        &self,
        envelope: &DsseEnvelope,
        material: Material<'_>,
        subject: &Digest,
    ) -> Result<Signer, String>;

    /// Whether a simple-signing payload's base64 signature is by whom the policy trusts.
    fn check_payload(
        &self,
        payload: &[u8],
        signature_b64: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<Signer, String>;
}

/// The key-based policy: the key, and whether a signature without a log entry may pass.
pub struct Policy {
    pub key: VerifyingKey,
    pub ignore_tlog: bool,
    /// Checks log entries against the trusted root (absent with `ignore_tlog`).
    pub log: Option<std::sync::Arc<sigstore_verify::Verifier>>,
}

impl Policy {
    fn signer(&self) -> Signer {
        Signer {
            kind: "key",
            identity: bundle::key_hint(&self.key),
            issuer: None,
            log_index: None,
            integrated_time: None,
        }
    }
}

impl Verifier for Policy {
    fn check_envelope(
        &self,
        envelope: &DsseEnvelope,
        material: Material<'_>,
        subject: &Digest,
    ) -> Result<Signer, String> {
        let bundle = match material {
            Material::Bundle(b) => Some(b),
            Material::Annotations(_) => None,
        };
        let hint_ok = match material {
            Material::Bundle(b) => {
                let hint_ok: bool = match &b.verification_material.content {
                    sigstore_types::bundle::VerificationMaterialContent::PublicKey(p) => {
                        p.hint.is_empty() || p.hint == bundle::key_hint(&self.key)
                    }
                    _ => {
                        return Err(
                            "keyless bundle (certificate): verify it with an identity policy"
                                .into(),
                        );
                    }
                };
                if !self.ignore_tlog && b.verification_material.tlog_entries.is_empty() {
                    return Err("not in log: the bundle has no transparency-log entry (signed with --tlog-upload=false?); pass --insecure-ignore-tlog to accept that".into());
                }
                Some(hint_ok)
            }
            Material::Annotations(_) => None,
        };
        let mut signer = self.signer();
        if !self.ignore_tlog {
            let Some(bundle) = bundle else {
                return Err("not in log: a legacy attestation carries no log entry cicd checks; pass --insecure-ignore-tlog".into());
            };
            let verifier = self
                .log
                .as_deref()
                .ok_or("not in log: no trusted root was loaded to check the log entry")?;
            crate::sign::keyless::rekor::check(verifier, bundle, &self.key, subject.hex())?;
            signer.log_index = crate::sign::keyless::sign::log_index(bundle);
        }
        // sigstore-verify refuses a bundle with neither log entry nor timestamp (exactly what
        // `--tlog-upload=false` makes), so the signature is checked here over the same PAE.
        if !super::dsse::verify(envelope, &self.key) {
            return Err(match hint_ok {
                Some(true) => {
                    "tampered payload: the signature does not match the DSSE payload for this key"
                }
                Some(false) => "wrong key: signed by another key (the bundle's key hint differs)",
                None => {
                    "wrong key or tampered payload: the signature does not verify over the DSSE payload with this key"
                }
            }
            .into());
        }
        Ok(signer)
    }

    fn check_payload(
        &self,
        payload: &[u8],
        signature_b64: &str,
        _annotations: &BTreeMap<String, String>,
    ) -> Result<Signer, String> {
        legacy::check_signature(&self.key, payload, signature_b64).map_err(|_| {
            "wrong key or tampered payload: the signature does not verify over the payload with this key".to_owned()
        })?;
        if !self.ignore_tlog {
            return Err("not in log: legacy signatures are accepted only with --insecure-ignore-tlog until Rekor bundles are checked".to_owned());
        }
        Ok(self.signer())
    }
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
    /// A keyless certificate's SAN and issuer (absent for a key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
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

/// Checks every signature attached to `subject` with `verifier`.
pub async fn verify(
    store: &Store,
    subject: &Subject,
    verifier: &dyn Verifier,
) -> Result<Verdict, OciError> {
    let mut signatures = Vec::new();
    for found in store::bundles_of(store, subject, Some(statement::SIGN_PREDICATE)).await? {
        signatures.push(check_bundle(&found, &subject.digest, verifier));
    }
    // As cosign v3: the legacy `.sig` layers are read only when no bundle holds (every
    // bundle that holds is listed; a signer who signed only the legacy layout is still
    // found when no bundle verifies).
    if !signatures.iter().any(|c| c.verified) {
        for (i, found) in store::legacy(store, subject).await?.iter().enumerate() {
            signatures.push(check_legacy(found, i, &subject.digest, verifier));
        }
    }
    Ok(Verdict {
        digest: subject.digest.clone(),
        verified: signatures.iter().any(|c| c.verified),
        signatures,
    })
}

fn checked(format: &'static str, location: String, result: Result<Signer, String>) -> Checked {
    let (reason, signer) = match result {
        Ok(s) => (None, Some(s)),
        Err(r) => (Some(r), None),
    };
    Checked {
        format,
        location,
        verified: reason.is_none(),
        reason,
        identity: signer
            .as_ref()
            .filter(|s| s.kind == "certificate")
            .map(|s| s.identity.clone()),
        issuer: signer.as_ref().and_then(|s| s.issuer.clone()),
        log_index: signer.as_ref().and_then(|s| s.log_index),
        integrated_time: signer.and_then(|s| s.integrated_time),
    }
}

fn check_bundle(found: &FoundBundle, digest: &Digest, verifier: &dyn Verifier) -> Checked {
    let result = check_bundle_statement(found, digest, statement::SIGN_PREDICATE, verifier)
        .map(|(_, signer)| signer);
    checked("bundle", found.manifest.to_string(), result)
}

/// Checks a bundle referrer holding a DSSE in-toto statement of `predicate_type` about
/// `digest`: the referrer's own subject, the envelope, the policy, the statement's subject.
pub fn check_bundle_statement(
    found: &FoundBundle,
    digest: &Digest,
    predicate_type: &str,
    verifier: &dyn Verifier,
) -> Result<(Statement, Signer), String> {
    if let Some(s) = &found.subject
        && s != digest
    {
        return Err(format!(
            "digest mismatch: the referrer manifest's subject is {s}, not this image (a signature copied from another image)"
        ));
    }
    let parsed = bundle::parse(&found.bytes)?;
    let envelope = bundle::envelope(&parsed)
        .ok_or("not a DSSE bundle: cicd verifies DSSE in-toto statements")?;
    check_envelope_statement(
        envelope,
        Material::Bundle(&parsed),
        digest,
        predicate_type,
        verifier,
    )
}

/// Checks a DSSE envelope around an in-toto statement (v1, or cosign v2's v0.1): payload
/// type, predicate type, the policy over the PAE, then the statement's subject is `digest`.
pub fn check_envelope_statement(
    envelope: &DsseEnvelope,
    material: Material<'_>,
    digest: &Digest,
    predicate_type: &str,
    verifier: &dyn Verifier,
) -> Result<(Statement, Signer), String> {
    if envelope.payload_type != statement::PAYLOAD_TYPE {
        return Err(format!(
            "DSSE payload type `{}` is not in-toto",
            envelope.payload_type
        ));
    }
    let stmt: Statement = serde_json::from_slice(envelope.payload.as_bytes())
        .map_err(|e| format!("tampered payload: not an in-toto statement ({e})"))?;
    if stmt.predicate_type != predicate_type {
        return Err(if predicate_type == statement::SIGN_PREDICATE {
            format!("an attestation ({}), not a signature", stmt.predicate_type)
        } else {
            format!(
                "predicate type mismatch: the statement is {}, not {predicate_type}",
                stmt.predicate_type
            )
        });
    }
    let signer = verifier.check_envelope(envelope, material, digest)?;
    let hash =
        Sha256Hash::from_hex(digest.hex()).map_err(|e| format!("image digest {digest}: {e}"))?;
    if stmt.subject.len() != 1 || !stmt.matches_sha256(&hash) {
        return Err(format!(
            "digest mismatch: the statement's subject is not {digest} (a statement about another image)"
        ));
    }
    Ok((stmt, signer))
}

fn check_legacy(
    found: &FoundLegacy,
    i: usize,
    digest: &Digest,
    verifier: &dyn Verifier,
) -> Checked {
    let location = format!("{} layer {}", Attachment::Signature.tag(digest), i + 1);
    let result = (|| {
        let sig = found
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .ok_or("no dev.cosignproject.cosign/signature annotation")?;
        let signer = verifier.check_payload(&found.payload, sig, &found.annotations)?;
        match legacy::check_claims(&found.payload, digest.as_str()) {
            Ok(()) => Ok(signer),
            Err(legacy::Rejection::Digest(d)) => Err(format!(
                "digest mismatch: the payload signs {d} (a signature copied from another image)"
            )),
            Err(legacy::Rejection::NotCosign(m)) => Err(m),
            Err(legacy::Rejection::BadSignature) => Err("bad signature".to_owned()),
        }
    })();
    checked("legacy", location, result)
}
