//! `Reference::parse` must never panic, and whatever it accepts must print back to a string
//! that parses to the same reference (normalisation is idempotent).
#![no_main]

use cicd::oci::reference::Reference;
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
});
