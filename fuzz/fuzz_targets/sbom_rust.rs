//! Rust binaries and lock files inside images are untrusted: the cargo-auditable reader (section
//! lookup and decompression through auditable-info, then the JSON model) and the Cargo.lock
//! reader must never panic, whatever the bytes.
#![no_main]

use cicd::sbom::catalogers::{binary, cargo, rust_audit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = binary::audit_json(data);
    let _ = rust_audit::parse(data);
    let _ = cargo::parse(&String::from_utf8_lossy(data));
});
