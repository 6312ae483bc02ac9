//! Signing and verification used as an attacker would: key files that ask for unbounded work,
//! referrers forged to name this image around another image's statement, a fallback tag that
//! is not an index, a bundle blob that claims to be huge; attestations: a `.att` layer that
//! claims to be huge, a `.att` tag squatted by an index, hostile predicate files and types.

use serde_json::{Value, json};

use crate::harness::images;
use crate::sign::{BUNDLE, Place, index, keygen, ok, put, retag, run, s, tagged};

/// A layout with one signed image: (tmp, layout, public key, image digest, reference).
fn signed() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
    String,
) {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 900, 81).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    ok(&["sign", "--key", s(&key), "--tlog-upload=false", &reference]);
    (tmp, lay, public, image, reference)
}

// See: issue 12 (key files are untrusted input)
#[test]
fn key_file_asking_scrypt_for_gigabytes_is_refused_at_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sealed = json!({"kdf": {"name": "scrypt", "params": {"N": 1u64 << 30, "r": 8, "p": 1}, "salt": "AAAA"},
        "cipher": {"name": "nacl/secretbox", "nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "ciphertext": "AAAA"});
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(sealed.to_string());
    let key = tmp.path().join("evil.key");
    std::fs::write(&key, format!("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{body}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")).expect("write");
    let started = std::time::Instant::now();
    let out = run(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "oci:/nonexistent:v1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside what cosign writes"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

// See: issue 12 (a valid signature of another digest copied onto this image)
#[test]
fn forged_referrer_naming_this_image_around_another_images_statement_is_refused() {
    let (_tmp, lay, public, image, _) = signed();
    let other = images::single(&lay, "v2", 950, 82).digest;
    // A fresh referrer manifest whose `subject` is the other image, carrying this image's
    // (validly signed) bundle, listed in the other image's fallback index.
    let (mut manifest, _) = Place::Layout(&lay).fallback_bundles(&image).remove(0);
    let other_size = std::fs::metadata(lay.join("blobs/sha256").join(&other[7..]))
        .expect("m")
        .len();
    manifest["subject"] = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": other, "size": other_size});
    let m = manifest.to_string().into_bytes();
    let md = put(&lay, &m);
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": m.len(), "artifactType": BUNDLE}]});
    let ib = idx.to_string().into_bytes();
    retag(
        &lay,
        &format!("sha256-{}", &other[7..]),
        &json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(&lay, &ib), "size": ib.len()}),
    );
    let out = run(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &format!("oci:{}:v2", s(&lay)),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("digest mismatch: the statement's subject is not")
    );
}

// See: issue 12 (the fallback index is appended to, never replaced)
#[test]
fn fallback_tag_holding_an_image_is_not_replaced() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 900, 83).digest;
    let squatter = tagged(&lay, "v1");
    retag(&lay, &format!("sha256-{}", &image[7..]), &squatter);
    let before = index(&lay);
    let out = run(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        &format!("oci:{}@{image}", s(&lay)),
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to replace it"));
    let after: Value = index(&lay);
    let tag = format!("sha256-{}", &image[7..]);
    let find = |v: &Value| {
        v["manifests"]
            .as_array()
            .expect("l")
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag.as_str())
            .cloned()
    };
    assert_eq!(find(&before), find(&after));
}

// See: issue 12 (bundles are read whole: their size is capped before reading)
#[test]
fn bundle_layer_claiming_to_be_huge_is_refused_before_reading() {
    let (_tmp, lay, public, image, reference) = signed();
    let tag = format!("sha256-{}", &image[7..]);
    let (mut manifest, _) = Place::Layout(&lay).fallback_bundles(&image).remove(0);
    manifest["layers"][0]["size"] = json!(1u64 << 40);
    let m = manifest.to_string().into_bytes();
    let md = put(&lay, &m);
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": m.len()}]});
    let ib = idx.to_string().into_bytes();
    retag(
        &lay,
        &tag,
        &json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(&lay, &ib), "size": ib.len()}),
    );
    let out = run(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &reference,
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing it"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A layout with one image attested in the legacy layout: (tmp, layout, key, public, digest,
/// reference, predicate file).
fn attested_legacy() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
    String,
) {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 900, 85).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let (file, _) = crate::sign::attest::predicate_file(tmp.path());
    crate::sign::attest::attest(&key, &file, "vuln", "legacy", &reference);
    (tmp, lay, key, public, image, reference)
}

// See: issue 12 item 5 (`.att` layers are read whole: their size is capped before reading)
#[test]
fn att_layer_claiming_to_be_huge_is_refused_before_reading() {
    let (_tmp, lay, _key, public, image, reference) = attested_legacy();
    let tag = format!("sha256-{}.att", &image[7..]);
    let mut m = Place::Layout(&lay).manifest(&tag).expect(".att");
    m["layers"][0]["size"] = json!(1u64 << 40);
    let bytes = m.to_string().into_bytes();
    let d = put(&lay, &bytes);
    retag(
        &lay,
        &tag,
        &json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": bytes.len()}),
    );
    let out = run(&[
        "verify-attestation",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--type",
        "vuln",
        &reference,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("refusing it"), "{stderr}");
}

// See: issue 12 item 5 (cosign's `.att` image is appended to, never replaced)
#[test]
fn att_tag_holding_an_index_is_not_replaced() {
    let (tmp, lay, key, _public, image, reference) = attested_legacy();
    let tag = format!("sha256-{}.att", &image[7..]);
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []});
    let ib = idx.to_string().into_bytes();
    let squatter = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(&lay, &ib), "size": ib.len()});
    retag(&lay, &tag, &squatter);
    let file = tmp.path().join("other.json");
    std::fs::write(&file, r#"{"other":true}"#).expect("write");
    let out = run(&[
        "attest",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--format",
        "legacy",
        "--predicate",
        s(&file),
        "--type",
        "vuln",
        &reference,
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to replace it"));
    assert_eq!(tagged(&lay, &tag)["digest"], squatter["digest"]);
}

// See: issue 12 item 5 (predicate files and `--type` are user input)
#[test]
fn hostile_predicates_and_types_are_bad_input_and_cannot_open_a_workflow_command() {
    let (tmp, _lay, key, _public, _image, reference) = attested_legacy();
    let empty = tmp.path().join("empty.json");
    std::fs::write(&empty, "").expect("write");
    let truncated = tmp.path().join("truncated.json");
    std::fs::write(&truncated, r#"{"bomFormat": "CycloneDX", "compo"#).expect("write");
    let evil_dir = tmp.path().join("x\n::error::pwned");
    std::fs::create_dir_all(&evil_dir).expect("mkdir");
    let evil = evil_dir.join("p.json");
    std::fs::write(&evil, "not json").expect("write");
    for (file, type_) in [
        (s(&empty), "cyclonedx"),
        (s(&truncated), "cyclonedx"),
        (s(&evil), "slsaprovenance1"),
        (s(&truncated), "x\n::error::pwned"),
    ] {
        let out = run(&[
            "attest",
            "--key",
            s(&key),
            "--tlog-upload=false",
            "--predicate",
            file,
            "--type",
            type_,
            &reference,
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{type_:?}: {stderr}");
        assert!(
            !stderr.lines().any(|l| l.starts_with("::")),
            "a workflow command escaped: {stderr}"
        );
    }
}
