//! Adversarial cases for the cli area (see `mod.rs`).
