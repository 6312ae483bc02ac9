//! Adversarial cases for the gate area (see `mod.rs`).
