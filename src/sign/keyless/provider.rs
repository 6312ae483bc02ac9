//! The cryptography the sigstore crates run on: a `sigstore_crypto::CryptoProvider` over the
//! pure-Rust RustCrypto crates (`p256`, `p384`, `sha2`), installed once per process. The
//! sigstore crates' own provider is aws-lc-rs (C and cmake), which this project does not
//! build. Verifies ECDSA P-256 and P-384 with SHA-256/384 (Fulcio's and Rekor's keys, the
//! mock CA's P-256/SHA-384); signs with ephemeral P-256 keys.

use std::sync::Once;

use p256::ecdsa::signature::Signer;
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePrivateKey;
use sha2::Digest as _;
use sigstore_crypto::{
    CryptoProvider, Error, HashContext, KeyAlgorithm, Result, SigningKeyPair, SigningScheme,
};
use sigstore_types::HashAlgorithm;

static PROVIDER: RustCrypto = RustCrypto;
static INSTALL: Once = Once::new();

/// Makes [`RustCrypto`] the process-wide provider; cheap and idempotent.
pub fn install() {
    INSTALL.call_once(|| {
        // Another provider already installed is fine: nothing here depends on which.
        let _ = sigstore_crypto::install_default_provider(&PROVIDER);
    });
}

#[derive(Debug)]
pub struct RustCrypto;

struct Hasher<D>(D);

impl<D: sha2::Digest + Send> HashContext for Hasher<D> {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::UnsupportedAlgorithm(format!(
        "{what} is not supported by cicd's RustCrypto provider"
    ))
}

/// Verifies `signature` (DER) over `digest` (already hashed with the scheme's hash).
fn verify_digest(
    scheme: SigningScheme,
    spki_point: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<()> {
    let bad = |_| Error::Verification("ECDSA signature does not verify".into());
    match scheme {
        SigningScheme::EcdsaP256Sha256 | SigningScheme::EcdsaP256Sha384 => {
            let key = VerifyingKey::from_sec1_bytes(spki_point)
                .map_err(|e| Error::InvalidKey(format!("P-256 public key: {e}")))?;
            let sig = Signature::from_der(signature)
                .map_err(|e| Error::Verification(format!("signature: {e}")))?;
            key.verify_prehash(digest, &sig).map_err(bad)
        }
        SigningScheme::EcdsaP384Sha256 | SigningScheme::EcdsaP384Sha384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(spki_point)
                .map_err(|e| Error::InvalidKey(format!("P-384 public key: {e}")))?;
            let sig = p384::ecdsa::Signature::from_der(signature)
                .map_err(|e| Error::Verification(format!("signature: {e}")))?;
            key.verify_prehash(digest, &sig).map_err(bad)
        }
        other => Err(unsupported(format!("{other:?}"))),
    }
}

/// The scheme's message hash.
fn scheme_hash(scheme: SigningScheme, data: &[u8]) -> Result<Vec<u8>> {
    match scheme {
        SigningScheme::EcdsaP256Sha256 | SigningScheme::EcdsaP384Sha256 => {
            Ok(sha2::Sha256::digest(data).to_vec())
        }
        SigningScheme::EcdsaP256Sha384 | SigningScheme::EcdsaP384Sha384 => {
            Ok(sha2::Sha384::digest(data).to_vec())
        }
        other => Err(unsupported(format!("{other:?}"))),
    }
}

impl CryptoProvider for RustCrypto {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>> {
        Ok(match algorithm {
            HashAlgorithm::Sha2256 => Box::new(Hasher(sha2::Sha256::new())),
            HashAlgorithm::Sha2384 => Box::new(Hasher(sha2::Sha384::new())),
            HashAlgorithm::Sha2512 => Box::new(Hasher(sha2::Sha512::new())),
            other => return Err(unsupported(format!("{other:?}"))),
        })
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let digest = scheme_hash(scheme, data)?;
        verify_digest(scheme, spki_pubkey_bytes, &digest, signature)
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        verify_digest(scheme, spki_pubkey_bytes, digest, signature)
    }

    fn generate_key_pair(&self, algorithm: KeyAlgorithm) -> Result<Box<dyn SigningKeyPair>> {
        match algorithm {
            KeyAlgorithm::EcdsaP256 => Ok(Box::new(P256Pair::new(SigningKey::random(
                &mut rand_core::OsRng,
            )))),
            other => Err(unsupported(format!("{other:?} key generation"))),
        }
    }

    fn key_pair_from_pkcs8_der(&self, pkcs8: &[u8]) -> Result<Box<dyn SigningKeyPair>> {
        let key = SigningKey::from_pkcs8_der(pkcs8)
            .map_err(|e| Error::InvalidKey(format!("PKCS#8 P-256 private key: {e}")))?;
        Ok(Box::new(P256Pair::new(key)))
    }
}

/// An ECDSA P-256 signing key with its uncompressed public point.
pub struct P256Pair {
    key: SigningKey,
    public: Vec<u8>,
}

impl P256Pair {
    pub fn new(key: SigningKey) -> Self {
        let public = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        Self { key, public }
    }
}

impl SigningKeyPair for P256Pair {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }
    fn public_key_bytes(&self) -> &[u8] {
        &self.public
    }
    fn sign_raw(&self, data: &[u8]) -> Result<Vec<u8>> {
        let sig: DerSignature = self.key.sign(data);
        Ok(sig.as_bytes().to_vec())
    }
    fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let sig: Signature = self
            .key
            .sign_prehash(digest)
            .map_err(|e| Error::Signing(format!("ECDSA: {e}")))?;
        Ok(sig.to_der().as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_p256_both_hashes() {
        let pair = P256Pair::new(SigningKey::random(&mut rand_core::OsRng));
        let sig = pair.sign_raw(b"message").expect("sign");
        let p = RustCrypto;
        p.verify_raw(
            SigningScheme::EcdsaP256Sha256,
            pair.public_key_bytes(),
            b"message",
            &sig,
        )
        .expect("verifies");
        assert!(
            p.verify_raw(
                SigningScheme::EcdsaP256Sha256,
                pair.public_key_bytes(),
                b"other",
                &sig
            )
            .is_err()
        );
        let d384 = sha2::Sha384::digest(b"m").to_vec();
        let s384 = pair.sign_prehashed(&d384).expect("sign 384");
        p.verify_raw(
            SigningScheme::EcdsaP256Sha384,
            pair.public_key_bytes(),
            b"m",
            &s384,
        )
        .expect("P-256/SHA-384 verifies");
    }

    #[test]
    fn refuses_schemes_it_does_not_know() {
        let p = RustCrypto;
        assert!(
            p.verify_raw(SigningScheme::Ed25519, &[0; 32], b"m", &[0; 64])
                .is_err()
        );
    }
}
