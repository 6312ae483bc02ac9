//! One keyless signing identity for several signatures, as cosign has one per invocation: an
//! ephemeral P-256 key and one Fulcio certificate for it, then per signature a Rekor v1 entry
//! — `dsse` for an in-toto statement (a bundle's stamped by the TSA when the signing config
//! names one), `hashedrekord` for a legacy simple-signing payload. `sign --recursive`,
//! `sign --format legacy` and `attest --format legacy` sign through it. The Fulcio, Rekor and TSA clients are sigstore-sign's
//! (re-exported sigstore-fulcio, -rekor, -tsa), over our HTTP client and its timeouts.

use sigstore_sign::bundle::BundleV03;
use sigstore_sign::crypto::KeyPair;
use sigstore_sign::fulcio::FulcioClient;
use sigstore_sign::rekor::{DsseEntry, HashedRekord, RekorApiVersion, RekorClient};
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

/// The key and its certificate, and where entries go.
pub struct Session {
    key: KeyPair,
    /// Fulcio's certificate for `key`.
    pub leaf: DerCertificate,
    /// The CA certificates Fulcio returned after the leaf (intermediates, root).
    pub chain: Vec<DerCertificate>,
    rekor: RekorClient,
    tsa: Option<TimestampClient>,
    /// The SAN and issuer Fulcio certified (what a verifier matches).
    pub signed: Signed,
}

impl Session {
    /// An ephemeral key and Fulcio's certificate for the token's identity.
    pub async fn start(req: &Request<'_>) -> Result<Self, KeylessError> {
        super::provider::install();
        if req.services.rekor_api_version() != RekorApiVersion::V1 {
            return Err(KeylessError::Usage(
                "the signing config names a Rekor v2 log: signing several digests with one certificate (--recursive) or the legacy format needs a Rekor v1 log".into(),
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
        let rekor = RekorClient::builder(req.services.rekor_url())
            .with_http_client(req.client.clone())
            .build()
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

    /// A bundle v0.3 of the in-toto statement `payload`: DSSE envelope, `dsse` Rekor entry,
    /// the TSA's stamp when there is a TSA.
    pub async fn bundle(&self, payload: Vec<u8>) -> Result<Bundle, KeylessError> {
        let (envelope, logged) = self.envelope(payload).await?;
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

    /// The DSSE envelope of the in-toto statement `payload` and its `dsse` Rekor entry (a
    /// legacy `.att` layer records them).
    pub async fn envelope(
        &self,
        payload: Vec<u8>,
    ) -> Result<(DsseEnvelope, TransparencyLogEntry), KeylessError> {
        let pae = dsse::pae(statement::PAYLOAD_TYPE, &payload);
        let sig = self.sign(&pae)?;
        let envelope = DsseEnvelope::new(
            statement::PAYLOAD_TYPE.to_owned(),
            PayloadBytes::new(payload),
            DsseSignature::new(sig, KeyId::default()),
        );
        let entry =
            DsseEntry::new(&envelope, &self.leaf).map_err(|e| service("Rekor")(e.to_string()))?;
        let logged = self
            .rekor
            .create_dsse_entry(entry)
            .await
            .map_err(|e| service("Rekor")(e.to_string()))?
            .to_bundle_entry(KindVersion::DsseV001)
            .map_err(|e| service("Rekor")(format!("answer: {e}")))?;
        Ok((envelope, logged))
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
            .rekor
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
