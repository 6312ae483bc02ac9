//! The `cicd check trivy` readers must return `Ok` or `Err` for any bytes, never panic:
//! report parsing (format detection, Trivy JSON, SARIF, CycloneDX, the UTF-8 check), the
//! ignore files, package URLs and dates.
#![no_main]

use std::path::Path;

use cicd::scan::{ignore, parse, purl::Purl};
use cicd::time;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::parse(data, Path::new("fuzz.json"));
    if let Ok(text) = std::str::from_utf8(data) {
        let mut notes = Vec::new();
        let _ = ignore::parse_lines(text, ".trivyignore", &mut notes);
        let _ = ignore::parse_yaml(text, ".trivyignore.yaml");
        if let Some(p) = Purl::parse(text) {
            assert!(p.matches(&p), "a purl matches itself");
        }
        if let Some(t) = time::parse(text) {
            let _ = time::rfc3339(t);
            let _ = time::date(t);
        }
    }
});
