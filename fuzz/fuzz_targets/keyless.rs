//! Trust configs, OIDC tokens and `--github-workflow` specs come from users and runners: the
//! parsers must never panic, a token that is not JWT-shaped is refused, and a workflow policy
//! never accepts a SAN outside `https://github.com/OWNER/REPO/.github/workflows/FILE@`. A
//! legacy `.sig` layer's keyless annotations (certificate PEM, cosign's Rekor bundle JSON) are
//! the signer's text too: read back as a bundle, never a panic.
#![no_main]

use std::path::Path;

use cicd::sign::identity::{Flags, GITHUB_ISSUER, Identity, Policy};
use cicd::sign::keyless::{legacy, oidc, trust};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = trust::parse(text, Path::new("fuzz.json"));
    let (certificate, rekor_bundle) = text.split_once('\0').unwrap_or((text, text));
    let annotations = std::collections::BTreeMap::from([
        (legacy::CERTIFICATE.to_owned(), certificate.to_owned()),
        (legacy::BUNDLE.to_owned(), rekor_bundle.to_owned()),
    ]);
    let _ = legacy::to_bundle(data, "MEUCIQ==", &annotations);
    if oidc::check_shape(text).is_ok() {
        assert!(!text.contains('\n') && !text.contains("::") && text.split('.').count() == 3);
    }
    let (spec, san) = text.split_once('\n').unwrap_or((text, ""));
    let flags = Flags {
        github_workflow: Some(spec),
        ..Flags::default()
    };
    if let Ok(policy) = Policy::from_flags(&flags) {
        let Identity::Workflow { prefix, .. } = &policy.identity else {
            panic!("--github-workflow built another kind of identity");
        };
        if policy.check(san, GITHUB_ISSUER).is_ok() {
            assert!(san.starts_with(prefix.as_str()) && prefix.starts_with("https://github.com/"));
        }
    }
});
