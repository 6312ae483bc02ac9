//! rpm databases inside images are untrusted: a header blob of any bytes must never panic the
//! header reader, and any bytes as an rpmdb.sqlite must give an error or blobs, never a panic.
#![no_main]

use cicd::sbom::catalogers::rpm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rpm::package(data, None);
    if let Ok(blobs) = rpm::blobs(data) {
        for b in blobs {
            let _ = rpm::package(&b, None);
        }
    }
});
