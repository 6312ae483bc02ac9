//! Keyless signing against a Rekor v2 log (issue 12, item 3): when the signing config names a
//! v2 log (npm `@sigstore/mock`'s, on loopback) and a TSA, `cicd sign`, `sign --recursive` and
//! `cicd attest` write bundles whose entry is what Rekor v2 records (`hashedrekord` v0.0.2 of
//! the DSSE PAE, an inclusion proof with a signed checkpoint, no SET, no integrated time) with
//! an RFC 3161 stamp; sigstore-python and `cicd verify` accept them at the TSA's time, and
//! refuse one without its stamp or with its entry altered. The legacy layouts, which record a
//! v1 SET, are refused (exit 2) as cosign v3 refuses them with a signing config.

use super::attest::{CYCLONEDX, attested, predicate_file};
use super::keyless::{
    ISSUER, Mock, SAN, assert_token_only_masked, refused, rewrite_bundle, sigstore_python,
};
use super::*;
use crate::harness::images;

const WORKFLOW: &str = "acme/ci/.github/workflows/sign.yml@refs/heads/*";

fn run(mock: &Mock, args: &[&str]) -> Output {
    let out = mock.cicd().args(args).output().expect("run cicd");
    assert_token_only_masked(mock, &out);
    out
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The bundle is Rekor v2's: its entry, proof and checkpoint, and a TSA stamp.
fn assert_rekor_v2(bundle: &Value) {
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord", "{entry}");
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{entry}");
    assert!(entry.get("inclusionPromise").is_none(), "no SET: {entry}");
    assert!(
        entry
            .get("integratedTime")
            .is_none_or(|t| t == "0" || t == 0),
        "no integrated time: {entry}"
    );
    let checkpoint = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .expect("checkpoint");
    assert!(checkpoint.contains("\n\n\u{2014} "), "{checkpoint}");
    let body: Value = serde_json::from_slice(
        &STANDARD
            .decode(entry["canonicalizedBody"].as_str().expect("body"))
            .expect("base64"),
    )
    .expect("body json");
    assert_eq!(body["apiVersion"], "0.0.2");
    let rekord = &body["spec"]["hashedRekordV002"];
    // The entry's signature is the envelope's, its digest the SHA-256 of the DSSE PAE.
    assert_eq!(
        rekord["signature"]["content"],
        bundle["dsseEnvelope"]["signatures"][0]["sig"]
    );
    let env = &bundle["dsseEnvelope"];
    let payload = STANDARD
        .decode(env["payload"].as_str().expect("payload"))
        .expect("b64");
    let kind = env["payloadType"].as_str().expect("type");
    let mut pae = format!("DSSEv1 {} {kind} {} ", kind.len(), payload.len()).into_bytes();
    pae.extend(&payload);
    use sha2::Digest as _;
    assert_eq!(
        rekord["data"]["digest"],
        STANDARD.encode(sha2::Sha256::digest(&pae))
    );
    let stamps = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(
        stamps.as_array().map(Vec::len),
        Some(1),
        "a TSA stamp: {bundle}"
    );
}

fn verify(mock: &Mock, trust: &Path, reference: &str, extra: &[&str]) -> Output {
    mock.cicd()
        .args([
            "verify",
            "--trust-config",
            s(trust),
            "--github-workflow",
            WORKFLOW,
        ])
        .args(extra)
        .arg(reference)
        .output()
        .expect("run cicd")
}

#[test]
fn rekor_v2_signature_and_attestation_verify_with_cicd_and_sigstore_python() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 1000, 201).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let trust = mock.trust_v2();
    let out = run(&mock, &["sign", "--trust-config", s(&trust), &reference]);
    ok(&out);
    let (_, bundle) = Place::Layout(&lay).fallback_bundles(&image).remove(0);
    assert_rekor_v2(&bundle);
    let (good, log) = sigstore_python(tmp.path(), &trust, &bundle, &image);
    assert!(
        good && log.contains("OK: verified"),
        "sigstore-python: {log}"
    );
    // A root without the v2 log's key: sigstore-python cannot check the checkpoint.
    let (good, log) = sigstore_python(tmp.path(), &mock.trust(), &bundle, &image);
    assert!(
        !good,
        "sigstore-python accepted without the v2 log's key: {log}"
    );

    let out = verify(&mock, &trust, &reference, &["--json"]);
    ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verified"], true);
    let sig = &v["signatures"][0];
    assert_eq!(sig["identity"], SAN);
    assert_eq!(sig["issuer"], ISSUER);
    // The time the certificate was checked at is the TSA's (a v2 entry has none).
    assert!(sig["integrated_time"].is_string(), "{sig}");
    assert!(sig["log_index"].is_u64(), "{sig}");
    // The same root without the v2 log: the entry proves nothing.
    refused(&verify(&mock, &mock.trust(), &reference, &[]), "not in log");

    let (predicate_path, predicate) = predicate_file(tmp.path());
    let out = run(
        &mock,
        &[
            "attest",
            "--trust-config",
            s(&trust),
            "--type",
            "cyclonedx",
            "--predicate",
            s(&predicate_path),
            &reference,
        ],
    );
    ok(&out);
    let (_, att) = attested(&Place::Layout(&lay), &image, CYCLONEDX).remove(0);
    assert_rekor_v2(&att);
    let (good, log) = sigstore_python(tmp.path(), &trust, &att, &image);
    assert!(
        good && log.contains("OK: verified"),
        "sigstore-python: {log}"
    );
    let out = mock
        .cicd()
        .args(["verify-attestation", "--type", "cyclonedx", "--json"])
        .args(["--trust-config", s(&trust), "--github-workflow", WORKFLOW])
        .arg(&reference)
        .output()
        .expect("run cicd");
    ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verified"][0]["predicate"], predicate);
    assert_eq!(v["verified"][0]["signer"]["identity"], SAN);
}

#[test]
fn rekor_v2_bundle_without_its_stamp_or_with_its_entry_altered_is_refused() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 1000, 202).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let trust = mock.trust_v2();
    ok(&run(
        &mock,
        &["sign", "--trust-config", s(&trust), &reference],
    ));
    let (_, bundle) = Place::Layout(&lay).fallback_bundles(&image).remove(0);

    // Without the TSA stamp nothing vouches for when the certificate was used.
    let mut unstamped = bundle.clone();
    unstamped["verificationMaterial"]
        .as_object_mut()
        .expect("material")
        .remove("timestampVerificationData");
    let (good, log) = sigstore_python(tmp.path(), &trust, &unstamped, &image);
    assert!(
        !good,
        "sigstore-python accepted an unstamped v2 bundle: {log}"
    );
    rewrite_bundle(&lay, &image, |b| *b = unstamped.clone());
    refused(
        &verify(&mock, &trust, &reference, &[]),
        "untrusted timestamp",
    );

    // The entry's body altered (another digest): its leaf is not in the checkpoint's tree.
    let mut altered = bundle.clone();
    let entry = &mut altered["verificationMaterial"]["tlogEntries"][0];
    let mut body: Value = serde_json::from_slice(
        &STANDARD
            .decode(entry["canonicalizedBody"].as_str().expect("body"))
            .expect("b64"),
    )
    .expect("json");
    body["spec"]["hashedRekordV002"]["data"]["digest"] = json!(STANDARD.encode([7u8; 32]));
    entry["canonicalizedBody"] = json!(STANDARD.encode(body.to_string()));
    let (good, log) = sigstore_python(tmp.path(), &trust, &altered, &image);
    assert!(!good, "sigstore-python accepted an altered entry: {log}");
    rewrite_bundle(&lay, &image, |b| *b = altered.clone());
    refused(&verify(&mock, &trust, &reference, &[]), "not in log");

    // The checkpoint's signature altered: the log did not sign this tree head.
    let mut forged = bundle.clone();
    let proof = &mut forged["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
    let envelope = proof["checkpoint"]["envelope"]
        .as_str()
        .expect("cp")
        .to_owned();
    let (note, sig) = envelope.rsplit_once(' ').expect("signature line");
    let mut raw = STANDARD.decode(sig.trim_end()).expect("b64");
    let last = raw.len() - 1;
    raw[last] ^= 1;
    proof["checkpoint"]["envelope"] = json!(format!("{note} {}\n", STANDARD.encode(raw)));
    rewrite_bundle(&lay, &image, |b| *b = forged.clone());
    refused(&verify(&mock, &trust, &reference, &[]), "not in log");

    // The untouched bundle back: it verifies (the refusals were for the edits).
    rewrite_bundle(&lay, &image, |b| *b = bundle.clone());
    ok(&verify(&mock, &trust, &reference, &[]));
}

#[test]
fn rekor_v2_recursive_logs_one_entry_per_digest_with_one_certificate() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 203);
    let trust = mock.trust_v2();
    let out = run(
        &mock,
        &[
            "sign",
            "--trust-config",
            s(&trust),
            "--recursive",
            &format!("oci:{}:v1", s(&lay)),
        ],
    );
    ok(&out);
    let mut digests = vec![img.digest.clone()];
    digests.extend(img.children.iter().cloned());
    let bundles: Vec<Value> = digests
        .iter()
        .map(|d| {
            let mut found = Place::Layout(&lay).fallback_bundles(d);
            assert_eq!(found.len(), 1, "{d} has its own signature");
            found.remove(0).1
        })
        .collect();
    let cert = |b: &Value| b["verificationMaterial"]["certificate"]["rawBytes"].clone();
    for b in &bundles {
        assert_rekor_v2(b);
        assert_eq!(cert(b), cert(&bundles[0]), "one certificate signs them all");
    }
    let (good, log) = sigstore_python(tmp.path(), &trust, &bundles[1], &digests[1]);
    assert!(
        good && log.contains("OK: verified"),
        "sigstore-python: {log}"
    );
    let refs: Vec<String> = digests
        .iter()
        .map(|d| format!("oci:{}@{d}", s(&lay)))
        .collect();
    let out = mock
        .cicd()
        .args([
            "verify",
            "--trust-config",
            s(&trust),
            "--github-workflow",
            WORKFLOW,
        ])
        .args(&refs)
        .output()
        .expect("run cicd");
    ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("verified sha256:")
            .count(),
        digests.len()
    );
}

#[test]
fn rekor_v2_legacy_layouts_are_refused_with_exit_2() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 100, 204).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let trust = mock.trust_v2();
    let (predicate, _) = predicate_file(tmp.path());
    for args in [
        vec!["sign", "--format", "legacy"],
        vec![
            "attest",
            "--format",
            "legacy",
            "--type",
            "cyclonedx",
            "--predicate",
            s(&predicate),
        ],
    ] {
        let mut args = args.clone();
        args.extend(["--trust-config", s(&trust), &reference]);
        let out = run(&mock, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("names a Rekor v2 log: the legacy layout"),
            "{args:?}: {stderr}"
        );
    }
    // Nothing was written next to the image.
    assert!(Place::Layout(&lay).fallback_bundles(&image).is_empty());
}
