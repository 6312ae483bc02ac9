//! What verification must refuse, each with its own reason, and signing's refusals.

use super::*;
use crate::harness::images;

/// Rewrites the first bundle referrer of `image` through `edit`, as an attacker with write
/// access to the repository would: new blob, new manifest, new fallback index.
fn rewrite_bundle(lay: &Path, image: &str, edit: impl FnOnce(&mut Value)) {
    let tag = format!("sha256-{}", &image[7..]);
    let place = Place::Layout(lay);
    let (mut manifest, mut bundle) = place.fallback_bundles(image).remove(0);
    edit(&mut bundle);
    let bytes = bundle.to_string().into_bytes();
    manifest["layers"][0]["digest"] = json!(put(lay, &bytes));
    manifest["layers"][0]["size"] = json!(bytes.len());
    let m = manifest.to_string().into_bytes();
    let md = put(lay, &m);
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": m.len(),
        "artifactType": BUNDLE}]});
    let ib = idx.to_string().into_bytes();
    retag(
        lay,
        &tag,
        &json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(lay, &ib), "size": ib.len()}),
    );
}

struct Case {
    tmp: tempfile::TempDir,
    lay: PathBuf,
    key: PathBuf,
    public: PathBuf,
    image: String,
    reference: String,
}

fn signed(format: &str) -> Case {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 1000, 41).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    ok(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--format",
        format,
        &reference,
    ]);
    Case {
        tmp,
        lay,
        key,
        public,
        image,
        reference,
    }
}

/// `cicd verify` exits 1 and says `reason`.
fn refused(case: &Case, public: &Path, reason: &str) {
    let out = run(&[
        "verify",
        "--key",
        s(public),
        "--insecure-ignore-tlog",
        &case.reference,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing verified is printed");
    assert!(stderr.contains(reason), "expected `{reason}` in: {stderr}");
}

#[test]
fn wrong_key_is_refused_in_both_layouts() {
    for format in ["bundle", "legacy"] {
        let case = signed(format);
        let (_, other) = keygen(case.tmp.path(), "other");
        let reason = if format == "bundle" {
            "wrong key"
        } else {
            "wrong key or tampered payload"
        };
        refused(&case, &other, reason);
    }
}

#[test]
fn tampered_bundle_payload_is_refused() {
    let case = signed("bundle");
    rewrite_bundle(&case.lay, &case.image, |b| {
        let payload = STANDARD
            .decode(b["dsseEnvelope"]["payload"].as_str().expect("payload"))
            .expect("b64");
        let text = String::from_utf8(payload)
            .expect("utf8")
            .replace("\"predicate\":{}", "\"predicate\":{\"x\":1}");
        b["dsseEnvelope"]["payload"] = json!(STANDARD.encode(text));
    });
    refused(&case, &case.public, "tampered payload");
}

#[test]
fn tampered_blob_in_place_fails_closed() {
    let case = signed("bundle");
    let (m, _) = Place::Layout(&case.lay)
        .fallback_bundles(&case.image)
        .remove(0);
    let layer = m["layers"][0]["digest"].as_str().expect("layer").to_owned();
    let path = case.lay.join("blobs/sha256").join(&layer[7..]);
    let mut bytes = std::fs::read(&path).expect("blob");
    bytes[10] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let out = run(&[
        "verify",
        "--key",
        s(&case.public),
        "--insecure-ignore-tlog",
        &case.reference,
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match its digest"));
}

#[test]
fn another_digests_signature_copied_onto_this_image_is_refused_in_both_layouts() {
    for (format, suffix) in [("bundle", ""), ("legacy", ".sig")] {
        let case = signed(format);
        // A second image in the same layout, unsigned; the first one's signature is pointed at it.
        let other = images::single(&case.lay, "v2", 1200, 42).digest;
        let src = tagged(&case.lay, &format!("sha256-{}{suffix}", &case.image[7..]));
        retag(&case.lay, &format!("sha256-{}{suffix}", &other[7..]), &src);
        let copied = Case {
            reference: format!("oci:{}:v2", s(&case.lay)),
            image: other,
            ..case
        };
        refused(&copied, &copied.public, "digest mismatch");
    }
}

#[test]
fn deleted_signature_manifest_means_no_signature() {
    for (format, suffix) in [("bundle", ""), ("legacy", ".sig")] {
        let case = signed(format);
        retag(
            &case.lay,
            &format!("sha256-{}{suffix}", &case.image[7..]),
            &Value::Null,
        );
        refused(&case, &case.public, "no signature");
    }
}

#[test]
fn a_signature_without_a_log_entry_needs_insecure_ignore_tlog() {
    for format in ["bundle", "legacy"] {
        let case = signed(format);
        let out = run(&["verify", "--key", s(&case.public), &case.reference]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not in log"));
    }
}

#[test]
fn signing_refuses_to_pretend_a_log_entry_and_a_wrong_password() {
    let case = signed("bundle");
    // A trust root that names no Rekor: nothing to log to, so nothing is signed.
    let root_only = case.tmp.path().join("trusted_root.json");
    std::fs::write(
        &root_only,
        r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}"#,
    )
    .expect("write root");
    let out = run(&[
        "sign",
        "--key",
        s(&case.key),
        "--trust-config",
        s(&root_only),
        &case.reference,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tlog-upload=false"));
    let out = cicd()
        .env("CICD_KEY_PASSWORD", "not-the-password")
        .args([
            "sign",
            "--key",
            s(&case.key),
            "--tlog-upload=false",
            &case.reference,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not-the-password"));
    let out = cicd()
        .env_remove("CICD_KEY_PASSWORD")
        .env_remove("COSIGN_PASSWORD")
        .args([
            "sign",
            "--key",
            s(&case.key),
            "--tlog-upload=false",
            &case.reference,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("set CICD_KEY_PASSWORD or COSIGN_PASSWORD")
    );
}
