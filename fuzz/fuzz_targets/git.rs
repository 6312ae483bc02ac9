//! What a Git server (or anyone in the middle) sends `cicd pin` and the online rules: the
//! v2 `ls-refs` answer, the v0 advertisement, a `fetch` answer and the packfile inside it,
//! and GitHub's `actions.lock`. None may panic, whatever the bytes.
#![no_main]

use cicd::github::git::{pack, refs};
use cicd::pin::lockfile::Lockfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = refs::parse_ls_refs(data);
    let _ = refs::parse_advertisement(data);
    if let Ok(p) = pack::packfile(data) {
        let _ = pack::commit_times(&p);
    }
    let _ = pack::commit_times(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(lock) = Lockfile::parse(text)
    {
        // What cicd writes back must read back the same.
        let again = Lockfile::parse(&lock.render()).expect("rendered lockfile parses");
        assert_eq!(lock.render(), again.render());
    }
});
