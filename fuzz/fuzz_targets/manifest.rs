//! Manifests come from registries and layouts nobody vouches for: `Manifest::parse` must
//! never panic, and `Location::parse` (the transports) neither.
#![no_main]

use cicd::oci::manifest::Manifest;
use cicd::oci::transport::Location;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data, None) {
        let _ = m.blobs();
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Location::parse(s);
    }
});
