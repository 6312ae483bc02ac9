//! Adversarial cases for the inputs area (see `mod.rs`).
