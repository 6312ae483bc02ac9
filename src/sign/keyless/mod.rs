//! Keyless signing and its verification: the GitHub Actions OIDC token (`oidc`), where
//! Fulcio, Rekor and the TSA are and what is trusted (`trust`), signing a digest with a
//! Fulcio certificate and a Rekor entry (`sign`), and checking such bundles against a trust
//! root and an identity policy (`verify`). Fulcio/Rekor/TSA clients, certificate chains, SCTs,
//! inclusion proofs and SETs are the sigstore-sign and sigstore-verify crates'; the
//! cryptography under them is ours (`provider`, RustCrypto), the OCI layout is `sign::store`'s.

pub mod legacy;
pub mod oidc;
pub mod provider;
pub mod rekor;
pub mod session;
pub mod sign;
pub mod trust;
pub mod verify;

use crate::error::Exit;

/// What went wrong signing or setting up keyless verification.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    /// The environment or a flag does not allow keyless signing (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A trust file that cannot be read or parsed (exit 2).
    #[error("{path}: {reason}")]
    TrustFile {
        path: std::path::PathBuf,
        reason: String,
    },
    /// A service (token endpoint, Fulcio, Rekor, TSA) failed or timed out (exit 3).
    #[error("{service}: {reason}")]
    Service {
        service: &'static str,
        reason: String,
    },
}

impl KeylessError {
    pub fn exit(&self) -> Exit {
        match self {
            KeylessError::Usage(_) | KeylessError::TrustFile { .. } => Exit::BadInput,
            KeylessError::Service { .. } => Exit::External,
        }
    }
}
