//! One keyless signing identity for several signatures, as cosign has one per invocation: an
//! ephemeral P-256 key and one Fulcio certificate for it, then per signature a log entry —
//! for an in-toto statement a Rekor v1 `dsse` entry, or with a Rekor v2 log the
//! `hashedrekord` v0.0.2 entry of the envelope's PAE (as Rekor v2 records DSSE), the bundle
//! stamped by the TSA when the signing config names one (always with v2); for a legacy
//! simple-signing payload a Rekor v1 `hashedrekord`. `sign --recursive`, `sign --format
//! legacy` and `attest --format legacy` sign through it; the legacy layouts need a v1 log
//! (their Rekor bundle annotation is a v1 SET). The Fulcio, Rekor v1/v2 and TSA clients are
//! sigstore-sign's (re-exported sigstore-fulcio, -rekor, -tsa), over our HTTP client and its
//! timeouts.

use sigstore_sign::bundle::BundleV03;
use sigstore_sign::crypto::KeyPair;
use sigstore_sign::fulcio::FulcioClient;
use sigstore_sign::rekor::{
    DsseEntry, HashedRekord, HashedRekordV2, RekorApiVersion, RekorClient, RekorV2Client,
    RekorV2KeyDetails,
};
use sigstore_sign::tsa::TimestampClient;
use sigstore_types::{
    Bundle, DerCertificate, DsseEnvelope, DsseSignature, KeyId, KindVersion, PayloadBytes,
    SignatureBytes, TransparencyLogEntry,
};

use super::KeylessError;
use super::sign::{Request, Signed};
use crate::sign::{dsse, statement};

fn service(service: &'static str) -> impl Fn(String) -> KeylessError {
    move |reason| KeylessError::Service { service, reason }
}

/// The transparency log entries go to, as the signing config names it.
enum Log {
    V1(RekorClient),
    V2(RekorV2Client),
}

/// The key and its certificate, and where entries go.
pub struct Session {
    key: KeyPair,
    /// Fulcio's certificate for `key`.
    pub leaf: DerCertificate,
    /// The CA certificates Fulcio returned after the leaf (intermediates, root).
    pub chain: Vec<DerCertificate>,
    rekor: Log,
    tsa: Option<TimestampClient>,
    /// The SAN and issuer Fulcio certified (what a verifier matches).
    pub signed: Signed,
}

impl Session {
    /// An ephemeral key and Fulcio's certificate for the token's identity, for bundles
    /// (Rekor v1 or v2).
    pub async fn start(req: &Request<'_>) -> Result<Self, KeylessError> {
        super::provider::install();
        let version = req.services.rekor_api_version();
        if !matches!(version, RekorApiVersion::V1 | RekorApiVersion::V2) {
            return Err(KeylessError::Usage(format!(
                "the signing config names a Rekor v{} log, which cicd cannot write to",
                version.major()
            )));
        }
        if version == RekorApiVersion::V2 && req.services.tsa_url().is_none() {
            return Err(KeylessError::Usage(
                "the signing config names a Rekor v2 log but no timestamp authority: a Rekor v2 entry carries no time, so a TSA is required".into(),
            ));
        }
        let token = super::sign::identity_token(req)?;
        let key = KeyPair::generate_ecdsa_p256()
            .map_err(|e| KeylessError::Usage(format!("ephemeral key: {e}")))?;
        let fulcio = FulcioClient::builder(req.services.fulcio_url())
            .with_http_client(req.client.clone())
            .build()
            .map_err(|e| service("Fulcio")(e.to_string()))?;
        let cert = fulcio
            .create_signing_certificate(&token, &key)
            .await
            .map_err(|e| service("Fulcio")(super::sign::scrub(&e.to_string(), req.token)))?;
        let mut certs = cert.certificate_chain().to_vec();
        let leaf = certs.remove(0);
        let info = sigstore_sign::crypto::parse_certificate_info(&leaf)
            .map_err(|e| service("Fulcio")(format!("its certificate: {e}")))?;
        let url = req.services.rekor_url();
        let rekor = if version == RekorApiVersion::V2 {
            RekorV2Client::builder(url)
                .with_http_client(req.client.clone())
                .build()
                .map(Log::V2)
        } else {
            RekorClient::builder(url)
                .with_http_client(req.client.clone())
                .build()
                .map(Log::V1)
        }
        .map_err(|e| service("Rekor")(e.to_string()))?;
        let tsa = match req.services.tsa_url() {
            Some(url) => Some(
                TimestampClient::builder(url)
                    .with_http_client(req.client.clone())
                    .build()
                    .map_err(|e| service("TSA")(e.to_string()))?,
            ),
            None => None,
        };
        Ok(Session {
            key,
            leaf,
            chain: certs,
            rekor,
            tsa,
            signed: Signed {
                identity: info.identity.as_ref().map(|s| s.as_str().to_owned()),
                issuer: info.issuer,
                log_index: None,
            },
        })
    }

    /// For the legacy layouts: an ephemeral key and Fulcio's certificate, refused up front
    /// (exit 2) when the signing config's log is not Rekor v1. A legacy layer's
    /// `dev.sigstore.cosign/bundle` annotation is a v1 SET over a v1 entry, which a Rekor v2
    /// log does not give; cosign v3 likewise signs the legacy layout only without a signing
    /// config (`--use-signing-config=false` and a v1 `--rekor-url`).
    pub async fn start_legacy(req: &Request<'_>) -> Result<Self, KeylessError> {
        if req.services.rekor_api_version() != RekorApiVersion::V1 {
            return Err(KeylessError::Usage(
                "the signing config names a Rekor v2 log: the legacy layout (--format legacy) records a Rekor v1 entry and its SET, which a v2 log does not give; sign in the default bundle layout, or use a trust config whose signing config names a Rekor v1 log".into(),
            ));
        }
        Self::start(req).await
    }

    /// A bundle v0.3 of the in-toto statement `payload`: DSSE envelope, its log entry (v1
    /// `dsse`, or v2 `hashedrekord` of the PAE), the TSA's stamp when there is a TSA.
    pub async fn bundle(&self, payload: Vec<u8>) -> Result<Bundle, KeylessError> {
        let envelope = self.sign_envelope(payload)?;
        let logged = match &self.rekor {
            Log::V1(_) => self.log_dsse(&envelope).await?,
            Log::V2(rekor) => {
                let pae = dsse::pae(&envelope.payload_type, envelope.payload.as_bytes());
                let entry = HashedRekordV2::new_with_certificate(
                    &sigstore_sign::crypto::sha256(&pae),
                    &envelope.signature.sig,
                    &self.leaf,
                    RekorV2KeyDetails::PkixEcdsaP256Sha256,
                );
                rekor
                    .create_entry(entry)
                    .await
                    .map_err(|e| service("Rekor v2")(e.to_string()))?
            }
        };
        let sig = envelope.signature.sig.clone();
        let mut bundle = BundleV03::with_certificate_and_dsse(self.leaf.clone(), envelope)
            .with_tlog_entry(logged);
        if let Some(tsa) = &self.tsa {
            let stamp = tsa
                .timestamp_signature(&sig)
                .await
                .map_err(|e| service("TSA")(e.to_string()))?;
            bundle = bundle.with_rfc3161_timestamp(stamp);
        }
        Ok(bundle.into_bundle())
    }

    /// The DSSE envelope of the in-toto statement `payload` and its `dsse` Rekor v1 entry (a
    /// legacy `.att` layer records them).
    pub async fn envelope(
        &self,
        payload: Vec<u8>,
    ) -> Result<(DsseEnvelope, TransparencyLogEntry), KeylessError> {
        let envelope = self.sign_envelope(payload)?;
        let logged = self.log_dsse(&envelope).await?;
        Ok((envelope, logged))
    }

    /// The DSSE envelope of `payload`, signed over its PAE with the ephemeral key.
    fn sign_envelope(&self, payload: Vec<u8>) -> Result<DsseEnvelope, KeylessError> {
        let pae = dsse::pae(statement::PAYLOAD_TYPE, &payload);
        let sig = self.sign(&pae)?;
        Ok(DsseEnvelope::new(
            statement::PAYLOAD_TYPE.to_owned(),
            PayloadBytes::new(payload),
            DsseSignature::new(sig, KeyId::default()),
        ))
    }

    /// `envelope`'s `dsse` entry in the Rekor v1 log.
    async fn log_dsse(
        &self,
        envelope: &DsseEnvelope,
    ) -> Result<TransparencyLogEntry, KeylessError> {
        let entry =
            DsseEntry::new(envelope, &self.leaf).map_err(|e| service("Rekor")(e.to_string()))?;
        self.v1()?
            .create_dsse_entry(entry)
            .await
            .map_err(|e| service("Rekor")(e.to_string()))?
            .to_bundle_entry(KindVersion::DsseV001)
            .map_err(|e| service("Rekor")(format!("answer: {e}")))
    }

    /// The Rekor v1 client; the legacy layouts start with `start_legacy`, which refuses v2.
    fn v1(&self) -> Result<&RekorClient, KeylessError> {
        match &self.rekor {
            Log::V1(rekor) => Ok(rekor),
            Log::V2(_) => Err(KeylessError::Usage(
                "a legacy signature needs a Rekor v1 log; the signing config names a v2 log".into(),
            )),
        }
    }

    /// The signature over the exact `payload` bytes and its `hashedrekord` Rekor entry, as a
    /// legacy `.sig` layer records them.
    pub async fn simple_signing(
        &self,
        payload: &[u8],
    ) -> Result<(SignatureBytes, TransparencyLogEntry), KeylessError> {
        let sig = self.sign(payload)?;
        let hash = sigstore_sign::crypto::sha256(payload);
        let logged = self
            .v1()?
            .create_entry(HashedRekord::new(&hash, &sig, &self.leaf))
            .await
            .map_err(|e| service("Rekor")(e.to_string()))?
            .to_bundle_entry(KindVersion::HashedRekordV001)
            .map_err(|e| service("Rekor")(format!("answer: {e}")))?;
        Ok((sig, logged))
    }

    fn sign(&self, data: &[u8]) -> Result<SignatureBytes, KeylessError> {
        self.key
            .sign(data)
            .map_err(|e| KeylessError::Usage(format!("signing with the ephemeral key: {e}")))
    }
}
