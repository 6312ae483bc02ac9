//! The keyless verification policy, a `sign::verify::Verifier` like the key-based one: a
//! bundle is checked by sigstore-verify against the trusted root (the certificate chains to
//! a trusted Fulcio CA and was valid at the log's integrated time or the TSA's time, the
//! SCT, the Rekor inclusion proof or SET, the signature over the DSSE PAE, the statement's
//! subject = this digest), then its certificate's SAN and issuer against the identity
//! policy. A keyless legacy `.sig` layer is read as the bundle it amounts to (`legacy`) and
//! checked the same way. Signatures, attestations and promotion all verify through it.

use std::collections::BTreeMap;
use std::sync::Arc;

use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{Artifact, DsseEnvelope, Sha256Hash};
use sigstore_verify::{VerificationPolicy, Verifier};

use super::KeylessError;
use super::trust::{self, Trust};
use crate::oci::digest::Digest;
use crate::sign::identity::Policy;
use crate::sign::verify::{Material, Signer};

/// A verifier built once per invocation from the trusted root.
pub fn verifier(trust: &Trust) -> Result<Verifier, KeylessError> {
    super::provider::install();
    Verifier::new(&trust.root)
        .map_err(|e| KeylessError::Usage(format!("{}: trusted root: {e}", trust.source)))
}

/// Who may have signed keylessly (the identity policy) and what is trusted (the root).
pub struct KeylessPolicy {
    pub log: Arc<Verifier>,
    pub identity: Policy,
}

impl KeylessPolicy {
    /// The policy over the trust config at `path` (else the embedded public-good root).
    pub fn load(path: Option<&std::path::Path>, identity: Policy) -> Result<Self, KeylessError> {
        let trust = trust::load(path)?;
        Ok(KeylessPolicy {
            log: Arc::new(verifier(&trust)?),
            identity,
        })
    }
}

impl crate::sign::verify::Verifier for KeylessPolicy {
    fn check_envelope(
        &self,
        envelope: &DsseEnvelope,
        material: Material<'_>,
        subject: &Digest,
    ) -> Result<Signer, String> {
        let bundle = match material {
            Material::Bundle(bundle) => bundle,
            Material::Annotations(annotations) => {
                if !super::legacy::is_keyless(annotations) {
                    return Err(
                        "key-based legacy attestation (no certificate): verify it with --key"
                            .into(),
                    );
                }
                // The `.att` layer read as the bundle it amounts to (certificate, SET, the
                // dsse entry of this envelope).
                let b = super::legacy::envelope_bundle(envelope, annotations)?;
                let hash = Sha256Hash::from_hex(subject.hex())
                    .map_err(|e| format!("image digest {subject}: {e}"))?;
                return self.holds(Artifact::from_digest(hash), &b);
            }
        };
        if matches!(
            bundle.verification_material.content,
            VerificationMaterialContent::PublicKey(_)
        ) {
            return Err("key-based bundle (public key): verify it with --key".into());
        }
        if bundle.verification_material.tlog_entries.is_empty() {
            return Err("not in log: the bundle has no transparency-log entry".into());
        }
        if crate::sign::bundle::envelope(bundle) != Some(envelope) {
            return Err("not a DSSE bundle: the envelope checked is not the bundle's".into());
        }
        let hash = Sha256Hash::from_hex(subject.hex())
            .map_err(|e| format!("image digest {subject}: {e}"))?;
        self.holds(Artifact::from_digest(hash), bundle)
    }

    fn check_payload(
        &self,
        payload: &[u8],
        signature_b64: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<Signer, String> {
        if !super::legacy::is_keyless(annotations) {
            return Err("key-based legacy signature (no certificate): verify it with --key".into());
        }
        // The layer read as the bundle it amounts to: certificate chain, SET, the
        // hashedrekord entry and the signature over these exact payload bytes.
        let bundle = super::legacy::to_bundle(payload, signature_b64, annotations)?;
        self.holds(Artifact::from_blob(payload), &bundle)
    }
}

impl KeylessPolicy {
    /// sigstore-verify's verdict on `bundle` for `artifact`, then the identity policy.
    fn holds(
        &self,
        artifact: Artifact<'_>,
        bundle: &sigstore_types::Bundle,
    ) -> Result<Signer, String> {
        let result = self
            .log
            .verify(artifact, bundle, &VerificationPolicy::any_identity())
            .map_err(|e| classify(&e))?;
        if !result.certificate_verified() {
            return Err("untrusted certificate: the certificate chain was not checked".into());
        }
        if !result.tlog_verified() {
            return Err("not in log: the log entry's inclusion was not checked".into());
        }
        let san = result
            .identity()
            .map(|s| s.as_str().to_owned())
            .ok_or("untrusted certificate: no SAN identity")?;
        let issuer = result
            .issuer()
            .map(str::to_owned)
            .ok_or("untrusted certificate: no OIDC issuer extension")?;
        self.identity
            .check(&san, &issuer)
            .map_err(|m| m.to_string())?;
        Ok(Signer {
            kind: "certificate",
            identity: san,
            issuer: Some(issuer),
            log_index: super::sign::log_index(bundle),
            // A Rekor v1 SET's time, else (Rekor v2 entries carry none) the earliest TSA
            // time the certificate was checked at.
            integrated_time: result
                .integrated_time()
                .or_else(|| result.verified_timestamps().iter().min().copied())
                .map(|t| t.to_string()),
        })
    }
}

/// sigstore-verify's error, worded as the reason class it is.
fn classify(e: &sigstore_verify::Error) -> String {
    use sigstore_verify::Error as E;
    match e {
        E::Certificate(c) => format!("untrusted certificate: {c}"),
        E::TransparencyLog(t) => format!("not in log: {t}"),
        E::Timestamp(t) => format!("untrusted timestamp: {t}"),
        E::SignatureInvalid(s) => {
            format!("tampered payload: the signature does not verify over the DSSE payload ({s})")
        }
        E::ArtifactMismatch(m) => {
            format!("digest mismatch: the statement does not name this image ({m})")
        }
        other => format!("invalid bundle: {other}"),
    }
}
