//! Cosign-compatible signatures: cosign's key files (`keys`), DSSE envelopes around in-toto
//! statements (`dsse`, `statement`) in Sigstore bundles v0.3 (`bundle`), the legacy
//! simple-signing format (`legacy`), where both live next to an image (`store`), signing
//! (`signer`), the verification policy (`verify`: the `Verifier` trait, key-based `Policy`),
//! attestations of any predicate type (`attest`, `attest_verify`), keyless signing, Rekor and
//! the trust root (`keyless`) and who may have signed (`identity`). Bundle, DSSE and statement
//! types are sigstore-types'; ECDSA P-256 is RustCrypto's. Knows nothing of the command line.

pub mod attest;
pub mod attest_verify;
pub mod attest_vuln;
pub mod bundle;
pub mod dsse;
pub mod identity;
pub mod keyless;
pub mod keys;
pub mod legacy;
mod oci_io;
pub mod signer;
pub mod statement;
pub mod store;
pub mod verify;
