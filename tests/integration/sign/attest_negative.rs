//! What `cicd verify-attestation` must refuse, each with its own reason (exit 1), and what
//! `cicd attest` refuses as bad input (exit 2).

use super::attest::{CYCLONEDX, attest, attested, predicate_file, verify_attestation};
use super::*;
use crate::harness::images;

struct Case {
    tmp: tempfile::TempDir,
    lay: PathBuf,
    key: PathBuf,
    public: PathBuf,
    image: String,
    reference: String,
}

fn attested_case(format: &str) -> Case {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 800, 151).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let (file, _) = predicate_file(tmp.path());
    attest(&key, &file, "cyclonedx", format, &reference);
    Case {
        tmp,
        lay,
        key,
        public,
        image,
        reference,
    }
}

fn refused(public: &Path, type_: &str, reference: &str, reason: &str) {
    let out = verify_attestation(public, type_, reference);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing verified is printed");
    assert!(stderr.contains(reason), "expected `{reason}` in: {stderr}");
}

#[test]
fn wrong_key_and_absent_type_are_refused_in_both_layouts() {
    for format in ["bundle", "legacy"] {
        let case = attested_case(format);
        let (_, other) = keygen(case.tmp.path(), "other");
        refused(&other, "cyclonedx", &case.reference, "wrong key");
        refused(&case.public, "spdxjson", &case.reference, "no attestation");
        // Without --insecure-ignore-tlog nothing unlogged passes.
        let out = run(&[
            "verify-attestation",
            "--key",
            s(&case.public),
            "--type",
            "cyclonedx",
            &case.reference,
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not in log"));
    }
}

#[test]
fn tampered_predicate_is_refused() {
    let case = attested_case("bundle");
    let place = Place::Layout(&case.lay);
    let (mut manifest, mut bundle) = attested(&place, &case.image, CYCLONEDX).remove(0);
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("b64");
    let text = String::from_utf8(payload)
        .expect("utf8")
        .replace("\"1.3\"", "\"1.2.13\"");
    bundle["dsseEnvelope"]["payload"] = json!(STANDARD.encode(text));
    let bytes = bundle.to_string().into_bytes();
    manifest["layers"][0]["digest"] = json!(put(&case.lay, &bytes));
    manifest["layers"][0]["size"] = json!(bytes.len());
    let m = manifest.to_string().into_bytes();
    let md = put(&case.lay, &m);
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": m.len()}]});
    let ib = idx.to_string().into_bytes();
    retag(
        &case.lay,
        &format!("sha256-{}", &case.image[7..]),
        &json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(&case.lay, &ib), "size": ib.len()}),
    );
    refused(
        &case.public,
        "cyclonedx",
        &case.reference,
        "tampered payload",
    );
}

#[test]
fn another_digests_attestation_copied_onto_this_image_is_refused_in_both_layouts() {
    for (format, suffix) in [("bundle", ""), ("legacy", ".att")] {
        let case = attested_case(format);
        let other = images::single(&case.lay, "v2", 1200, 152).digest;
        let src = tagged(&case.lay, &format!("sha256-{}{suffix}", &case.image[7..]));
        retag(&case.lay, &format!("sha256-{}{suffix}", &other[7..]), &src);
        let reference = format!("oci:{}:v2", s(&case.lay));
        refused(&case.public, "cyclonedx", &reference, "digest mismatch");
    }
}

#[test]
fn an_attestation_relabelled_as_another_type_is_refused() {
    // The referrer's unsigned annotation says SPDX; the signed statement says CycloneDX.
    let case = attested_case("legacy");
    let att = format!("sha256-{}.att", &case.image[7..]);
    let place = Place::Layout(&case.lay);
    let mut m = place.manifest(&att).expect(".att");
    m["layers"][0]["annotations"]["predicateType"] = json!("https://spdx.dev/Document");
    let bytes = m.to_string().into_bytes();
    let d = put(&case.lay, &bytes);
    retag(
        &case.lay,
        &att,
        &json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": bytes.len()}),
    );
    refused(
        &case.public,
        "spdxjson",
        &case.reference,
        "predicate type mismatch",
    );
}

#[test]
fn attest_refuses_bad_input_with_exit_2() {
    let case = attested_case("bundle");
    let bad_json = case.tmp.path().join("bad.json");
    std::fs::write(&bad_json, "{\n  \"a\": 1,\n  oops\n}\n").expect("write");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--predicate", s(&bad_json), "--type", "cyclonedx"],
            "line 3",
        ),
        (
            &["--predicate", s(&bad_json), "--type", "sbom"],
            "expected cyclonedx",
        ),
        (
            &[
                "--predicate",
                s(&bad_json),
                "--type",
                "https://sigstore.dev/cosign/sign/v1",
            ],
            "what `cicd sign` writes",
        ),
        (
            &["--predicate", "/nonexistent/p.json", "--type", "vuln"],
            "/nonexistent/p.json",
        ),
    ];
    for (extra, reason) in cases {
        let mut args = vec!["attest", "--key", s(&case.key), "--tlog-upload=false"];
        args.extend_from_slice(extra);
        args.push(&case.reference);
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "expected `{reason}` in: {stderr}");
    }
    // Uploading is the default (as cosign): a trust root that names no Rekor has nowhere to
    // log to, so nothing is attested.
    let (file, _) = predicate_file(case.tmp.path());
    let root_only = case.tmp.path().join("trusted_root.json");
    std::fs::write(&root_only, ROOT_ONLY).expect("write root");
    let out = run(&[
        "attest",
        "--key",
        s(&case.key),
        "--trust-config",
        s(&root_only),
        "--predicate",
        s(&file),
        &case.reference,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tlog-upload=false"));
}
