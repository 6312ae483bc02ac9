//! The parsers of `cicd promote`'s untrusted input never panic: `max-age` durations from
//! cicd.yaml (an accepted age is positive), history tag names listed by a registry (an
//! accepted tag is the environment's own).
#![no_main]

use cicd::config::environments::parse_age;
use cicd::promote::history::parse_tag;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(secs) = parse_age(s) {
        assert!(secs >= 1, "{s:?} -> {secs}");
    }
    let (env, tag) = s.split_once('|').unwrap_or(("staging", s));
    if let Some((stamp, n)) = parse_tag(env, tag) {
        assert!(tag.starts_with(env) && stamp.len() == 16 && n >= 1, "{tag:?}");
    }
});
