//! Attestations come from registries nobody vouches for: a DSSE envelope (a legacy `.att`
//! layer or inside a bundle) must never make the statement checks panic, and whatever they
//! accept names the digest and predicate type that were asked for. `--type` values and vuln
//! predicates built from arbitrary reports never panic either.
#![no_main]

use std::collections::BTreeMap;

use cicd::oci::digest::Digest;
use cicd::sign::verify::{self, Material, Signer, Verifier};
use cicd::sign::{attest, attest_vuln, bundle, dsse};
use libfuzzer_sys::fuzz_target;
use sigstore_types::{DsseEnvelope, Sha256Hash};

/// A policy that accepts every signature, so the fuzzer reaches the statement checks.
struct AcceptAll;

impl Verifier for AcceptAll {
    fn check_envelope(
        &self,
        _: &DsseEnvelope,
        _: Material<'_>,
        _: &cicd::oci::digest::Digest,
    ) -> Result<Signer, String> {
        Ok(Signer {
            kind: "key",
            identity: String::new(),
            issuer: None,
            log_index: None,
            integrated_time: None,
        })
    }

    fn check_payload(&self, _: &[u8], _: &str, _: &BTreeMap<String, String>) -> Result<Signer, String> {
        Err("not used".into())
    }
}

fuzz_target!(|data: &[u8]| {
    let digest = Digest::of(b"fuzz subject");
    let hash = Sha256Hash::from_hex(digest.hex()).expect("hex");
    let mut envelopes = Vec::new();
    if let Ok(e) = dsse::parse(data) {
        envelopes.push(e);
    }
    if let Ok(b) = bundle::parse(data) {
        if let Some(e) = bundle::envelope(&b) {
            envelopes.push(e.clone());
        }
    }
    let none = BTreeMap::new();
    for e in &envelopes {
        for wanted in [attest::CYCLONEDX, attest::VULN] {
            if let Ok((stmt, _)) = verify::check_envelope_statement(
                e,
                Material::Annotations(&none),
                &digest,
                wanted,
                &AcceptAll,
            ) {
                assert_eq!(stmt.predicate_type, wanted);
                assert!(stmt.matches_sha256(&hash));
                let _ = attest_vuln::scan_finished_on(&stmt.predicate);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(uri) = attest::predicate_type(text) {
            assert!(!uri.chars().any(char::is_whitespace));
        }
    }
    if let Ok(report) = serde_json::from_slice::<serde_json::Value>(data) {
        let p = attest_vuln::predicate(&attest_vuln::Scan {
            reports: std::slice::from_ref(&report),
            gate: serde_json::Value::Null,
            now: "2026-01-31T12:00:00Z",
            parameters: Vec::new(),
            builder: attest_vuln::CHECK_TRIVY,
        });
        assert!(attest_vuln::scan_finished_on(&p).is_some());
    }
});
