//! `input::parse` as a workflow must return `Ok` or `Err` for any bytes, never panic.
#![no_main]

use std::path::Path;

use cicd::inputs::document::Kind;
use cicd::inputs::input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = input::parse(
        Path::new(".github/workflows/fuzz.yml"),
        None,
        data.to_vec(),
        Some(Kind::Workflow),
    );
});
