//! Key files, bundles and DSSE envelopes come from users and registries: the parsers must never
//! panic, and a DSSE envelope or legacy payload never verifies under a key that did not sign it.
#![no_main]

use cicd::sign::{bundle, dsse, keys, legacy};
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::SigningKey;

fuzz_target!(|data: &[u8]| {
    // A fixed key nobody signed the fuzz input with.
    let key = SigningKey::from_slice(&[7u8; 32]).expect("valid scalar");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keys::parse_private(text);
        let _ = keys::public_key(text);
        let _ = legacy::verify(key.verifying_key(), data, text, "sha256:00");
    }
    if let Ok(b) = bundle::parse(data) {
        if let Some(e) = bundle::envelope(&b) {
            assert!(!dsse::verify(e, key.verifying_key()));
        }
    }
    if let Ok(e) = dsse::parse(data) {
        assert!(!dsse::verify(&e, key.verifying_key()));
    }
});
