//! Keyless signing of one image digest: the in-toto statement cicd always signs (or an
//! attestation's statement of any predicate), a
//! certificate from Fulcio for an ephemeral key, the DSSE entry in Rekor and a TSA stamp
//! (all sigstore-sign's `sign_raw_statement`, over our HTTP client and its timeouts), then
//! the bundle stored as a referrer like a key-based one. Several digests (`--recursive`) and
//! the legacy `.sig` layout are signed with one certificate (`session`).

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use sigstore_sign::{SigningContext, SigningServices};
use sigstore_types::Bundle;

use super::KeylessError;
use crate::oci::error::OciError;
use crate::oci::store::Store;
use crate::sign::store::{self, Stored, Subject};
use crate::sign::{bundle, statement};

pub struct Request<'a> {
    pub services: SigningServices,
    pub token: &'a SecretString,
    pub annotations: &'a BTreeMap<String, String>,
    /// RFC 3339 creation time for the referrer's annotation.
    pub created: String,
    /// The client every Fulcio, Rekor and TSA request goes through (its timeouts).
    pub client: reqwest::Client,
}

/// What a keyless signature recorded, for the command's output.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Signed {
    /// The certificate's SAN and OIDC issuer, as a verifier reads them.
    pub identity: Option<String>,
    pub issuer: Option<String>,
    pub log_index: Option<u64>,
}

/// Why signing failed: the services, or storing the bundle.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Keyless(#[from] KeylessError),
    #[error(transparent)]
    Oci(#[from] OciError),
}

/// Signs `subject` keylessly and stores the bundle next to it.
pub async fn sign(
    store: &Store,
    subject: &Subject,
    req: &Request<'_>,
) -> Result<(Stored, Signed), SignError> {
    let payload = statement::statement(
        subject.digest.hex(),
        req.annotations,
        statement::SIGN_PREDICATE,
        &serde_json::json!({}),
    );
    sign_statement(store, subject, payload, statement::SIGN_PREDICATE, req).await
}

/// Attests `predicate` of `predicate_type` about `subject` keylessly (Fulcio certificate,
/// Rekor entry) and stores the bundle as a referrer, as cosign v3 does. `req.annotations`
/// are not used: an attestation's statement carries only the predicate.
pub async fn attest(
    store: &Store,
    subject: &Subject,
    predicate_type: &str,
    predicate: &serde_json::Value,
    req: &Request<'_>,
) -> Result<(Stored, Signed), SignError> {
    let payload = crate::sign::attest::statement_for(subject, predicate_type, predicate);
    sign_statement(store, subject, payload, predicate_type, req).await
}

/// Signs the in-toto statement `payload` (of `predicate_type`) and stores its bundle.
async fn sign_statement(
    store: &Store,
    subject: &Subject,
    payload: Vec<u8>,
    predicate_type: &str,
    req: &Request<'_>,
) -> Result<(Stored, Signed), SignError> {
    let (signed, recorded) = sign_raw(&payload, req).await?;
    let bytes = bundle::to_bytes(&signed).map_err(OciError::Manifest)?;
    let stored = store::put_bundle(store, subject, &bytes, predicate_type, &req.created).await?;
    Ok((stored, recorded))
}

/// Signs the in-toto statement `payload`: a Fulcio certificate for an ephemeral key, the DSSE
/// entry in Rekor (and a TSA stamp when the signing config names one); the bundle is the
/// caller's to store (an OCI referrer, or a release asset).
pub async fn sign_raw(payload: &[u8], req: &Request<'_>) -> Result<(Bundle, Signed), KeylessError> {
    super::provider::install();
    let token = identity_token(req)?;
    let signer = SigningContext::new(req.services.clone())
        .with_http_client(req.client.clone())
        .signer(token);
    let signed = signer
        .sign_raw_statement(payload)
        .await
        .map_err(|e| KeylessError::Service {
            service: "Sigstore signing (Fulcio, Rekor, TSA)",
            reason: scrub(&e.to_string(), req.token),
        })?;
    // What Fulcio certified (the SAN a verifier matches), not what the token claimed.
    let certified = signed
        .signing_certificate()
        .and_then(|c| sigstore_crypto::parse_certificate_info(c).ok());
    let recorded = Signed {
        identity: certified
            .as_ref()
            .and_then(|c| c.identity.as_ref())
            .map(|s| s.as_str().to_owned()),
        issuer: certified.and_then(|c| c.issuer),
        log_index: log_index(&signed),
    };
    Ok((signed, recorded))
}

/// Signs each of `subjects` with one Fulcio certificate (`Session`), each bundle stored as a
/// referrer of its subject, as key-based `--recursive` does with one key.
pub async fn sign_each(
    store: &Store,
    subjects: &[Subject],
    req: &Request<'_>,
) -> Result<Vec<(Stored, Signed)>, SignError> {
    let session = super::session::Session::start(req).await?;
    let mut done = Vec::new();
    for subject in subjects {
        let payload = statement::statement(
            subject.digest.hex(),
            req.annotations,
            statement::SIGN_PREDICATE,
            &serde_json::json!({}),
        );
        let signed = session.bundle(payload).await?;
        let bytes = bundle::to_bytes(&signed).map_err(OciError::Manifest)?;
        let stored = store::put_bundle(
            store,
            subject,
            &bytes,
            statement::SIGN_PREDICATE,
            &req.created,
        )
        .await?;
        let mut who = session.signed.clone();
        who.log_index = log_index(&signed);
        done.push((stored, who));
    }
    Ok(done)
}

/// Signs each of `subjects` in cosign's legacy layout with one Fulcio certificate: the
/// simple-signing payload appended to `sha256-<hex>.sig` with the signature, certificate,
/// chain and Rekor bundle (`hashedrekord` entry and SET) as layer annotations.
pub async fn sign_legacy(
    store: &Store,
    subjects: &[Subject],
    docker_reference: &str,
    req: &Request<'_>,
) -> Result<Vec<(Stored, Signed)>, SignError> {
    let session = super::session::Session::start_legacy(req).await?;
    let mut done = Vec::new();
    for subject in subjects {
        let payload = crate::sign::legacy::payload(
            docker_reference,
            subject.digest.as_str(),
            req.annotations,
        );
        let (sig, entry) = session.simple_signing(&payload).await?;
        let annotations = super::legacy::annotations(
            &crate::sign::dsse::b64(sig.as_bytes()),
            &session.leaf,
            &session.chain,
            &entry,
        )
        .map_err(|reason| KeylessError::Service {
            service: "Rekor",
            reason,
        })?;
        let stored = store::put_legacy(store, subject, &payload, annotations).await?;
        let mut who = session.signed.clone();
        who.log_index = Some(u64::from(entry.log_index));
        done.push((stored, who));
    }
    Ok(done)
}

/// Attests `predicate` about each of `subjects` in cosign v2's `.att` layout with one Fulcio
/// certificate: the DSSE envelope appended as a layer with the certificate, chain and Rekor
/// bundle (`dsse` entry and SET) as annotations.
pub async fn attest_legacy(
    store: &Store,
    subjects: &[Subject],
    predicate_type: &str,
    predicate: &serde_json::Value,
    req: &Request<'_>,
) -> Result<Vec<(Stored, Signed)>, SignError> {
    let session = super::session::Session::start_legacy(req).await?;
    let mut done = Vec::new();
    for subject in subjects {
        let payload = crate::sign::attest::statement_for(subject, predicate_type, predicate);
        let (envelope, entry) = session.envelope(payload).await?;
        let annotations = super::legacy::annotations("", &session.leaf, &session.chain, &entry)
            .map_err(|reason| KeylessError::Service {
                service: "Rekor",
                reason,
            })?;
        let stored =
            crate::sign::attest::put_legacy(store, subject, &envelope, predicate_type, annotations)
                .await?;
        let mut who = session.signed.clone();
        who.log_index = Some(u64::from(entry.log_index));
        done.push((stored, who));
    }
    Ok(done)
}

/// The first log entry's index.
pub fn log_index(b: &Bundle) -> Option<u64> {
    b.verification_material
        .tlog_entries
        .first()
        .map(|e| u64::from(e.log_index))
}

/// The request's OIDC token as sigstore reads it; never shown in the error.
pub(super) fn identity_token(
    req: &Request<'_>,
) -> Result<sigstore_oidc::IdentityToken, KeylessError> {
    sigstore_oidc::IdentityToken::from_jwt(req.token.expose_secret()).map_err(|_| {
        KeylessError::Usage(
            "the OIDC token's claims cannot be read (not base64url JSON); it is not shown".into(),
        )
    })
}

/// A service's message with the token cut out, should a service ever echo it.
pub(super) fn scrub(message: &str, token: &SecretString) -> String {
    let secret = token.expose_secret();
    if secret.is_empty() {
        message.to_owned()
    } else {
        message.replace(secret, "[token]")
    }
}
