//! Readers for the report formats Trivy writes: its JSON (SchemaVersion 2), SARIF 2.1.0 and
//! CycloneDX with `vulnerabilities`. Each turns one report into [`super::Parsed`] findings;
//! [`super::parse`] detects which one applies.

pub mod cyclonedx;
pub mod json;
pub mod sarif;
