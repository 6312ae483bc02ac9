//! Java archives inside images are untrusted: opening one (nested archives, zip bombs, lying
//! sizes) and reading its pom.properties and MANIFEST.MF must never panic, and must stay within
//! the archive reader's bounds.
#![no_main]

use cicd::sbom::catalogers::{java, java_archive};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in java_archive::read(data) {
        let _ = java::packages(&record);
    }
    let text = String::from_utf8_lossy(data);
    let _ = java::properties(&text);
    let _ = java::manifest(&text);
});
