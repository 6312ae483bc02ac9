//! `cicd init`'s parsers of untrusted text: a `.git/config`'s origin remote and `--action`
//! must return a value or `None`/`Err` for any input, never panic.
#![no_main]

use cicd::init::ActionArg;
use cicd::init::detect::origin_in;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = origin_in(&text);
    let _ = text.parse::<ActionArg>();
});
