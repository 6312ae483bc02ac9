//! Package databases inside images are untrusted: the dpkg status, apk db, Python core
//! metadata, os-release and npm parsers must never panic, whatever the bytes.
#![no_main]

use cicd::sbom::catalogers::{apk, dpkg, npm, os_release, python};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = npm::parse_manifest(data);
    let _ = npm::parse_lock(data);
    let text = String::from_utf8_lossy(data);
    let distro = os_release::parse(&text);
    let _ = dpkg::parse(&text, distro.as_ref());
    let _ = apk::parse(&text, distro.as_ref());
    let _ = python::parse(&text);
});
