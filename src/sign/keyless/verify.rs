//! Verifying keyless signatures on an image: every bundle referrer is checked by
//! sigstore-verify against the trusted root (the certificate chains to a trusted Fulcio CA
//! and was valid at the log's integrated time or the TSA's time, the SCT, the Rekor
//! inclusion proof or SET, the signature over the DSSE PAE, the statement's subject = this
//! digest), then its certificate's SAN and issuer against the identity policy. Each bundle
//! that does not hold keeps its own reason, worded as the key-based verify words them.

use serde::Serialize;
use sigstore_types::{Artifact, Sha256Hash};
use sigstore_verify::{VerificationPolicy, Verifier};

use super::KeylessError;
use super::trust::Trust;
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::store::Store;
use crate::sign::identity::Policy;
use crate::sign::store::{self, FoundBundle, Subject};
use crate::sign::{bundle, statement};

/// One keyless signature found on the image and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    pub format: &'static str,
    /// The referrer manifest digest.
    pub location: String,
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The certificate's SAN and issuer, when the certificate was read.
    pub identity: Option<String>,
    pub issuer: Option<String>,
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
                "no signature: {} has no bundle referrer (keyless signatures are read from bundles)",
                self.digest
            );
        }
        self.signatures
            .iter()
            .filter_map(|c| {
                c.reason
                    .as_ref()
                    .map(|r| format!("bundle {}: {r}", c.location))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A verifier built once per invocation from the trusted root.
pub fn verifier(trust: &Trust) -> Result<Verifier, KeylessError> {
    super::provider::install();
    Verifier::new(&trust.root)
        .map_err(|e| KeylessError::Usage(format!("{}: trusted root: {e}", trust.source)))
}

/// Checks every bundle attached to `subject`.
pub async fn verify(
    store: &Store,
    subject: &Subject,
    verifier: &Verifier,
    policy: &Policy,
) -> Result<Verdict, OciError> {
    let signatures: Vec<Checked> = store::bundles(store, subject)
        .await?
        .iter()
        .map(|found| check(found, &subject.digest, verifier, policy))
        .collect();
    Ok(Verdict {
        digest: subject.digest.clone(),
        verified: signatures.iter().any(|c| c.verified),
        signatures,
    })
}

fn check(found: &FoundBundle, digest: &Digest, verifier: &Verifier, policy: &Policy) -> Checked {
    let mut c = Checked {
        format: "bundle",
        location: found.manifest.to_string(),
        verified: false,
        reason: None,
        identity: None,
        issuer: None,
        log_index: None,
        integrated_time: None,
    };
    match judge(found, digest, verifier, policy, &mut c) {
        Ok(()) => c.verified = true,
        Err(reason) => c.reason = Some(reason),
    }
    c
}

/// `Ok` when the bundle holds; fills in what was learnt on the way.
fn judge(
    found: &FoundBundle,
    digest: &Digest,
    verifier: &Verifier,
    policy: &Policy,
    c: &mut Checked,
) -> Result<(), String> {
    if let Some(s) = &found.subject
        && s != digest
    {
        return Err(format!(
            "digest mismatch: the signature manifest's subject is {s}, not this image (a signature copied from another image)"
        ));
    }
    let parsed = bundle::parse(&found.bytes)?;
    if matches!(
        parsed.verification_material.content,
        sigstore_types::bundle::VerificationMaterialContent::PublicKey(_)
    ) {
        return Err("key-based bundle (public key): verify it with --key".into());
    }
    let envelope = bundle::envelope(&parsed)
        .ok_or("not a DSSE bundle: cicd verify reads DSSE in-toto signatures")?;
    let stmt: sigstore_types::Statement = serde_json::from_slice(envelope.payload.as_bytes())
        .map_err(|e| format!("tampered payload: not an in-toto statement ({e})"))?;
    if stmt.predicate_type != statement::SIGN_PREDICATE {
        return Err(format!(
            "an attestation ({}), not a signature",
            stmt.predicate_type
        ));
    }
    if parsed.verification_material.tlog_entries.is_empty() {
        return Err("not in log: the bundle has no transparency-log entry".into());
    }
    c.log_index = super::sign::log_index(&parsed);
    let hash =
        Sha256Hash::from_hex(digest.hex()).map_err(|e| format!("image digest {digest}: {e}"))?;
    let result = verifier
        .verify(
            Artifact::from_digest(hash),
            &parsed,
            &VerificationPolicy::any_identity(),
        )
        .map_err(|e| classify(&e))?;
    c.identity = result.identity().map(|s| s.as_str().to_owned());
    c.issuer = result.issuer().map(str::to_owned);
    c.integrated_time = result.integrated_time().map(|t| t.to_string());
    if !result.certificate_verified() {
        return Err("untrusted certificate: the certificate chain was not checked".into());
    }
    if !result.tlog_verified() {
        return Err("not in log: the log entry's inclusion was not checked".into());
    }
    let san = c
        .identity
        .as_deref()
        .ok_or("untrusted certificate: no SAN identity")?;
    let issuer = c
        .issuer
        .as_deref()
        .ok_or("untrusted certificate: no OIDC issuer extension")?;
    policy.check(san, issuer).map_err(|m| m.to_string())
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

/// The log verifier for key-based policies that are not given flags (promotion's
/// `require.signature.key`): the trust config named by `CICD_TRUST_CONFIG`, else the embedded
/// public-good root. `None` when it cannot be loaded, so a log entry then fails to verify.
pub fn log_verifier_from_env() -> Option<std::sync::Arc<Verifier>> {
    let path = std::env::var_os("CICD_TRUST_CONFIG").map(std::path::PathBuf::from);
    let trust = super::trust::load(path.as_deref()).ok()?;
    verifier(&trust).ok().map(std::sync::Arc::new)
}
