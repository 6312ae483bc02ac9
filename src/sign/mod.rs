//! Cosign-compatible signatures: cosign's key files (`keys`), DSSE envelopes around in-toto
//! statements (`dsse`, `statement`) in Sigstore bundles v0.3 (`bundle`), the legacy
//! simple-signing format (`legacy`), where both live next to an image (`store`), signing
//! (`signer`) and the key-based verification policy (`verify`). Cryptography runs on the
//! sigstore crates over a pure-Rust provider (`provider`). Knows nothing of the command line.

pub mod bundle;
pub mod dsse;
pub mod keys;
pub mod legacy;
mod oci_io;
pub mod provider;
pub mod signer;
pub mod statement;
pub mod store;
pub mod verify;
