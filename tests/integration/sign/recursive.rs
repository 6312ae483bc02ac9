//! `--recursive` (issue 12 item 2): an index signs (attests) its own digest and each platform
//! manifest; `cicd verify` takes many references in one invocation.

use super::attest::{CYCLONEDX, attested, predicate_file, verify_attestation};
use super::*;
use crate::harness::images;

#[test]
fn sign_recursive_signs_the_index_and_each_platform_and_verify_takes_them_all() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 161);
    let reference = format!("oci:{}:v1", s(&lay));
    let v: Value = serde_json::from_str(&ok(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--recursive",
        "--json",
        &reference,
    ]))
    .expect("json");
    let signed: Vec<&str> = v["signed"]
        .as_array()
        .expect("signed")
        .iter()
        .map(|e| e["digest"].as_str().expect("digest"))
        .collect();
    let mut expected = vec![img.digest.as_str()];
    expected.extend(img.children.iter().map(String::as_str));
    assert_eq!(signed, expected);
    let place = Place::Layout(&lay);
    let refs: Vec<String> = expected
        .iter()
        .map(|d| {
            let found = place.fallback_bundles(d);
            assert_eq!(found.len(), 1, "{d} has its own signature");
            check_bundle_independently(tmp.path(), &public, &found[0].1, d);
            format!("oci:{}@{d}", s(&lay))
        })
        .collect();
    let mut args = vec![
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--json",
    ];
    args.extend(refs.iter().map(String::as_str));
    let v: Value = serde_json::from_str(&ok(&args)).expect("json");
    let verdicts = v.as_array().expect("one verdict per reference");
    assert_eq!(verdicts.len(), 3);
    for (verdict, d) in verdicts.iter().zip(&expected) {
        assert_eq!(verdict["digest"], *d);
        assert_eq!(verdict["verified"], true);
    }
}

#[test]
fn verify_of_many_fails_when_one_does_not_hold_and_says_which() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 171);
    let reference = format!("oci:{}:v1", s(&lay));
    // Without --recursive only the index is signed.
    ok(&["sign", "--key", s(&key), "--tlog-upload=false", &reference]);
    let child = format!("oci:{}@{}", s(&lay), img.children[1]);
    let out = run(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &reference,
        &child,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.starts_with(&format!("verified {}\n", img.digest)),
        "{stdout}"
    );
    assert!(!stdout.contains(&img.children[1]), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "verification failed for {}: no signature",
            img.children[1]
        )),
        "{stderr}"
    );
}

#[test]
fn attest_recursive_attests_each_platform() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 181);
    let reference = format!("oci:{}:v1", s(&lay));
    let (file, predicate) = predicate_file(tmp.path());
    ok(&[
        "attest",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--predicate",
        s(&file),
        "--type",
        "cyclonedx",
        "--recursive",
        &reference,
    ]);
    let place = Place::Layout(&lay);
    for d in std::iter::once(&img.digest).chain(&img.children) {
        let found = attested(&place, d, CYCLONEDX);
        assert_eq!(found.len(), 1, "{d}");
        let st = check_dsse_independently(tmp.path(), &public, &found[0].1["dsseEnvelope"], d);
        assert_eq!(st["predicate"], predicate);
        let out = verify_attestation(&public, "cyclonedx", &format!("oci:{}@{d}", s(&lay)));
        assert_eq!(out.status.code(), Some(0));
    }
}
