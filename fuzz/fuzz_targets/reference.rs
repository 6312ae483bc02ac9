//! `Reference::parse` must never panic, and whatever it accepts must print back to a string
//! that parses to the same reference (normalisation is idempotent). A login server
//! (`registry_host`) and a digest given alone never panic either, and a digest accepted is
//! never a path.
#![no_main]

use cicd::oci::digest::Digest;
use cicd::oci::reference::{Reference, registry_host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(s) {
        let printed = r.to_string();
        let again = Reference::parse(&printed)
            .unwrap_or_else(|e| panic!("{s:?} parsed to {r:?}, but its display {printed:?} does not parse: {e}"));
        assert_eq!(r, again, "{s:?} -> {printed:?} parses differently");
    }
    if let Ok(host) = registry_host(s) {
        assert!(!host.contains('/'), "{s:?} -> {host:?}");
    }
    if let Ok(d) = Digest::parse(s) {
        assert!(!d.hex().contains(['/', '.']), "{s:?}");
    }
});
