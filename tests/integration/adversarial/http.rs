//! Adversarial cases for the http area (see `mod.rs`).
