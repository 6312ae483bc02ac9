//! Rekor for key-based signatures, as cosign logs them by default: the signed DSSE envelope
//! with the public key as verifier, proposed as a v1 `dsse` entry (sigstore-rekor's client and
//! entry type, over our HTTP client; an entry that exists already, answered 409, is fetched
//! and used as cosign does); and on verify, the entry checked by sigstore-verify
//! against the trusted root with the key as policy (inclusion proof or SET, and the entry
//! describing this very envelope and key).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::{EncodePublicKey, LineEnding};
use sigstore_rekor::{DsseEntry, RekorClient};
use sigstore_types::{
    Artifact, Bundle, DerPublicKey, DsseEnvelope, EntryUuid, KindVersion, Sha256Hash,
};
use sigstore_verify::{PublicKeyVerificationPolicy, Verifier};

use super::KeylessError;
use super::trust::Trust;

fn rekor_error(reason: impl std::fmt::Display) -> KeylessError {
    KeylessError::Service {
        service: "Rekor",
        reason: reason.to_string(),
    }
}

/// Where key-based signatures and attestations are logged: the trust config's Rekor v1, reached
/// through the caller's HTTP client (its timeouts).
#[derive(Clone, Debug)]
pub struct Log {
    pub client: reqwest::Client,
    pub url: String,
}

impl Log {
    /// The Rekor the trust config names; `Usage` when it names none.
    pub fn new(trust: &Trust, client: reqwest::Client) -> Result<Self, KeylessError> {
        Ok(Log {
            client,
            url: url(trust)?,
        })
    }

    /// Logs `envelope`, signed by `key` (409: the entry that exists already).
    pub async fn upload(
        &self,
        envelope: &DsseEnvelope,
        key: &VerifyingKey,
    ) -> Result<sigstore_types::TransparencyLogEntry, KeylessError> {
        upload(&self.client, &self.url, envelope, key).await
    }
}

/// The Rekor v1 URL the trust config's signing config names.
pub fn url(trust: &Trust) -> Result<String, KeylessError> {
    let config = trust.signing.as_ref().ok_or_else(|| {
        KeylessError::Usage(format!(
            "{}: names no Rekor (a trusted root only); give a client trust config or --tlog-upload=false",
            trust.source
        ))
    })?;
    config
        .rekor_url(Some(1))
        .map(|e| e.url.clone())
        .ok_or_else(|| {
            KeylessError::Usage(format!(
                "{}: the signing config names no Rekor v1 log",
                trust.source
            ))
        })
}

/// Proposes `envelope`, signed by `key`, to the Rekor at `url`; the bundle's log entry.
pub async fn upload(
    client: &reqwest::Client,
    url: &str,
    envelope: &DsseEnvelope,
    key: &VerifyingKey,
) -> Result<sigstore_types::TransparencyLogEntry, KeylessError> {
    let pem = key
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeylessError::Usage(format!("public key PEM: {e}")))?;
    let envelope_json = serde_json::to_string(envelope).map_err(rekor_error)?;
    // sigstore-rekor builds dsse proposals for certificates only; the same proposal with a
    // public key verifier is built through its own serde form.
    let entry: DsseEntry = serde_json::from_value(serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": envelope_json,
            "verifiers": [STANDARD.encode(pem.as_bytes())],
        }},
    }))
    .map_err(rekor_error)?;
    let rekor = RekorClient::builder(url)
        .with_http_client(client.clone())
        .build()
        .map_err(rekor_error)?;
    let logged = match rekor.create_dsse_entry(entry).await {
        Ok(logged) => logged,
        // Rekor logs an entry once: the same envelope again (a deterministic key signature
        // re-signed) is answered 409 naming the entry that exists; cosign then uses that one.
        Err(sigstore_rekor::Error::Status {
            status: 409,
            message,
        }) => {
            let uuid = existing_uuid(&message).ok_or_else(|| {
                rekor_error(format!(
                    "answered 409 (entry exists) without naming its UUID: {message}"
                ))
            })?;
            rekor
                .get_entry_by_uuid(&EntryUuid::new(uuid))
                .await
                .map_err(|e| rekor_error(format!("the existing entry {uuid}: {e}")))?
        }
        Err(e) => return Err(rekor_error(e)),
    };
    logged
        .to_bundle_entry(KindVersion::DsseV001)
        .map_err(|e| rekor_error(format!("answer: {e}")))
}

/// The UUID in Rekor's 409 answer (`an equivalent entry already exists in the transparency
/// log with UUID <hex>`, also its `Location`): the last run of 64 or 80 hex digits.
fn existing_uuid(message: &str) -> Option<&str> {
    message
        .split(|c: char| !c.is_ascii_hexdigit())
        .rfind(|w| w.len() == 64 || w.len() == 80)
}

/// `Ok` when the key-based bundle's log entry verifies against the trusted root; else why
/// not (worded as `not in log` / `tampered payload` / `digest mismatch`).
pub fn check(
    verifier: &Verifier,
    bundle: &Bundle,
    key: &VerifyingKey,
    digest_hex: &str,
) -> Result<(), String> {
    let der = key
        .to_public_key_der()
        .map_err(|e| format!("public key: {e}"))?;
    let hash = Sha256Hash::from_hex(digest_hex).map_err(|e| format!("image digest: {e}"))?;
    let policy = PublicKeyVerificationPolicy::new(DerPublicKey::new(der.as_bytes().to_vec()));
    verifier
        .verify(Artifact::from_digest(hash), bundle, &policy)
        .map(|_| ())
        .map_err(|e| match e {
            sigstore_verify::Error::TransparencyLog(t) => format!("not in log: {t}"),
            sigstore_verify::Error::SignatureInvalid(s) => format!(
                "tampered payload: the signature does not verify over the DSSE payload ({s})"
            ),
            sigstore_verify::Error::ArtifactMismatch(m) => {
                format!("digest mismatch: the statement does not name this image ({m})")
            }
            other => format!("not in log: {other}"),
        })
}

#[cfg(test)]
mod tests {
    use super::existing_uuid;

    #[test]
    fn the_existing_entry_is_named_by_the_409_answer() {
        let uuid = "24296fb24b8ad77a".to_owned() + &"ab".repeat(32);
        let body = format!(
            "failed to create DSSE entry: {{\"code\":409,\"message\":\"an equivalent entry already exists in the transparency log with UUID {uuid}\"}}"
        );
        assert_eq!(existing_uuid(&body), Some(uuid.as_str()));
        assert_eq!(existing_uuid(&body[..body.len() - 20]), None);
        assert_eq!(existing_uuid("failed to create DSSE entry"), None);
        assert_eq!(existing_uuid(""), None);
    }
}
