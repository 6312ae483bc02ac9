//! GitHub's `Link` header decides which page cicd reads next (and where its token goes): any
//! header text must never panic, and a next link found is always written `<…>` in it.
#![no_main]

use cicd::github::releases::next_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(next) = next_link(text) {
        assert!(text.contains(&format!("<{next}>")));
    }
});
