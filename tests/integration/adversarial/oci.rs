//! Adversarial cases for the oci area (see `mod.rs`).
