//! Signing images in `oci:` layouts, both formats, read back and checked with openssl.

use super::*;
use crate::harness::images;

#[test]
fn bundle_signature_in_a_layout_verifies_with_openssl_and_cicd() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let key_text = std::fs::read_to_string(&key).expect("key");
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 2000, 11);
    let reference = format!("oci:{}:v1", s(&lay));
    let out = run(&["sign", "--key", s(&key), "--tlog-upload=false", &reference]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("to {}", img.digest)),
        "the tag's digest is said"
    );
    let place = Place::Layout(&lay);
    let found = place.fallback_bundles(&img.digest);
    assert_eq!(found.len(), 1);
    let (manifest, bundle) = &found[0];
    assert_eq!(manifest["artifactType"], BUNDLE);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(manifest["subject"]["digest"], img.digest.as_str());
    assert_eq!(
        manifest["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );
    assert_eq!(
        manifest["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        "2026-01-31T12:00:00Z"
    );
    assert!(bundle["verificationMaterial"]["publicKey"].is_object());
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    check_bundle_independently(tmp.path(), &public, bundle, &img.digest);

    let json = ok(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--json",
        &reference,
    ]);
    let v: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["verified"], true);
    assert_eq!(v["digest"], img.digest.as_str());
    assert_eq!(v["signatures"][0]["format"], "bundle");
    // No log entry was checked, so none is claimed.
    assert_eq!(v["signatures"][0]["log_index"], Value::Null);
    assert_password_absent(tmp.path());
}

#[test]
fn legacy_signature_in_a_layout_verifies_with_openssl_and_cicd() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 21);
    let reference = format!("oci:{}@{}", s(&lay), img.digest);
    ok(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--format",
        "legacy",
        &reference,
    ]);
    let m = check_legacy_independently(tmp.path(), &public, &Place::Layout(&lay), &img.digest);
    assert_eq!(m["layers"].as_array().map(Vec::len), Some(1));
    let out = ok(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &reference,
    ]);
    assert!(
        out.starts_with(&format!("verified {}\n  legacy ", img.digest)),
        "{out}"
    );
}

#[test]
fn resigning_is_idempotent_and_two_signers_both_verify() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (k1, p1) = keygen(tmp.path(), "one");
    let (k2, p2) = keygen(tmp.path(), "two");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 1000, 31);
    let reference = format!("oci:{}:v1", s(&lay));
    for format in ["bundle", "legacy"] {
        let first = ok(&[
            "sign",
            "--key",
            s(&k1),
            "--tlog-upload=false",
            "--format",
            format,
            "--json",
            &reference,
        ]);
        let again = ok(&[
            "sign",
            "--key",
            s(&k1),
            "--tlog-upload=false",
            "--format",
            format,
            "--json",
            &reference,
        ]);
        let (a, b): (Value, Value) = (
            serde_json::from_str(&first).expect("j"),
            serde_json::from_str(&again).expect("j"),
        );
        assert_eq!(a["written"], true);
        assert_eq!(
            b["written"], false,
            "re-signing with the same key wrote again"
        );
        assert_eq!(a["manifest"], b["manifest"]);
        ok(&[
            "sign",
            "--key",
            s(&k2),
            "--tlog-upload=false",
            "--format",
            format,
            &reference,
        ]);
    }
    let place = Place::Layout(&lay);
    assert_eq!(
        place.fallback_bundles(&img.digest).len(),
        2,
        "both bundles listed, none replaced"
    );
    let sig = place
        .manifest(&format!("sha256-{}.sig", &img.digest[7..]))
        .expect(".sig");
    assert_eq!(
        sig["layers"].as_array().map(Vec::len),
        Some(2),
        "second signer appended"
    );
    for public in [&p1, &p2] {
        let v: Value = serde_json::from_str(&ok(&[
            "verify",
            "--key",
            s(public),
            "--insecure-ignore-tlog",
            "--json",
            &reference,
        ]))
        .expect("json");
        let verified: Vec<&str> = v["signatures"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["verified"] == true)
            .map(|c| c["format"].as_str().expect("format"))
            .collect();
        // As cosign v3: the legacy `.sig` is read only when no bundle holds.
        assert_eq!(verified, ["bundle"]);
    }
    // A third signer in the legacy layout only: no bundle holds for that key, so the `.sig`
    // is read and its layer verifies (the bundles' refusals listed too).
    let (k3, p3) = keygen(tmp.path(), "three");
    ok(&[
        "sign",
        "--key",
        s(&k3),
        "--tlog-upload=false",
        "--format",
        "legacy",
        &reference,
    ]);
    let v: Value = serde_json::from_str(&ok(&[
        "verify",
        "--key",
        s(&p3),
        "--insecure-ignore-tlog",
        "--json",
        &reference,
    ]))
    .expect("json");
    let listed: Vec<(&str, bool)> = v["signatures"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| (c["format"].as_str().expect("format"), c["verified"] == true))
        .collect();
    assert_eq!(
        listed,
        [
            ("bundle", false),
            ("bundle", false),
            ("legacy", false),
            ("legacy", false),
            ("legacy", true)
        ]
    );
}

#[test]
fn sign_and_verify_output() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let (_, other) = keygen(tmp.path(), "other");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 700, 91);
    let reference = format!("oci:{}:v1", s(&lay));
    let filters = vec![
        (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
        (r"sha256-[0-9a-f]{64}", "sha256-[hex]"),
        (r"oci:/\S+:v1", "oci:[layout]:v1"),
    ];
    let signed = ok(&["sign", "--key", s(&key), "--tlog-upload=false", &reference]);
    let verified = ok(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &reference,
    ]);
    let refused = run(&[
        "verify",
        "--key",
        s(&other),
        "--insecure-ignore-tlog",
        &reference,
    ]);
    let refused = String::from_utf8_lossy(&refused.stderr).into_owned();
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(signed, @r"
        signed sha256:[digest]
          signature sha256:[digest]
        ");
        insta::assert_snapshot!(verified, @r"
        verified sha256:[digest]
          bundle sha256:[digest] (no transparency-log entry checked)
        ");
        insta::assert_snapshot!(refused, @r"
        resolved oci:[layout]:v1 to sha256:[digest]
        error: verification failed for sha256:[digest]: bundle sha256:[digest]: wrong key: signed by another key (the bundle's key hint differs)
        ");
    });
}
