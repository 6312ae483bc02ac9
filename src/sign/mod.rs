//! Cosign-compatible signatures: cosign's key files (`keys`), DSSE envelopes around in-toto
//! statements (`dsse`, `statement`) in Sigstore bundles v0.3 (`bundle`), the legacy
//! simple-signing format (`legacy`), where both live next to an image (`store`), signing
//! (`signer`), the verification policy (`verify`: the `Verifier` trait, key-based `Policy`)
//! and attestations of any predicate type (`attest`, `attest_verify`). Bundle, DSSE and statement
//! types are sigstore-types'; ECDSA P-256 is RustCrypto's. Knows nothing of the command line.

pub mod attest;
pub mod attest_verify;
pub mod bundle;
pub mod dsse;
pub mod keys;
pub mod legacy;
mod oci_io;
pub mod signer;
pub mod statement;
pub mod store;
pub mod verify;
