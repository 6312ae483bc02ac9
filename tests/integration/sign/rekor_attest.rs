//! Key-based attestations are logged in Rekor by default, as cosign logs them (`cicd attest`,
//! `cicd sbom --attach`, `cicd check trivy --attest`), and verification checks the entry
//! against the trusted root; signing or attesting the same payload again gets Rekor's 409 and
//! reuses the entry that exists (as cosign does) instead of failing. Rekor is npm
//! `@sigstore/mock` on loopback (with Rekor's once-only logging); every envelope is checked
//! with openssl over its DSSE PAE. See: issue 12.

use super::attest::{CYCLONEDX, attested, predicate_file};
use super::keyless::{Mock, refused, rewrite_bundle};
use super::*;
use crate::harness::{data, images};

const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

fn with_key(mock: &Mock, args: &[&str]) -> Output {
    let out = mock
        .cicd()
        .env("CICD_KEY_PASSWORD", PASSWORD)
        .env("CICD_TRUST_CONFIG", mock.trust())
        .args(args)
        .output()
        .expect("run cicd");
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(PASSWORD));
    }
    out
}

fn succeeded(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn log_index(bundle: &Value) -> u64 {
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "dsse", "{bundle}");
    assert!(
        entry["inclusionPromise"]["signedEntryTimestamp"].is_string(),
        "{entry}"
    );
    entry["logIndex"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .or_else(|| entry["logIndex"].as_u64())
        .expect("log index")
}

#[test]
fn key_based_attestation_is_logged_and_reattesting_reuses_the_entry() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 800, 121).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let (file, predicate) = predicate_file(tmp.path());
    let attest = [
        "attest",
        "--key",
        s(&key),
        "--type",
        "cyclonedx",
        "--predicate",
        s(&file),
        &reference,
    ];
    let first = succeeded(&with_key(&mock, &attest));
    assert!(first.starts_with("attested "), "{first}");
    let place = Place::Layout(&lay);
    let found = attested(&place, &image, CYCLONEDX);
    assert_eq!(found.len(), 1);
    let bundle = &found[0].1;
    let st = check_dsse_independently(tmp.path(), &public, &bundle["dsseEnvelope"], &image);
    assert_eq!(st["predicate"], predicate);
    let index = log_index(bundle);

    // The same predicate again: the same envelope, Rekor answers 409, the entry is reused.
    let again = succeeded(&with_key(&mock, &attest));
    assert!(
        again.contains("already attested (nothing written)"),
        "{again}"
    );
    let found = attested(&place, &image, CYCLONEDX);
    assert_eq!(found.len(), 1, "re-attesting wrote nothing new");
    assert_eq!(log_index(&found[0].1), index);

    let verify = [
        "verify-attestation",
        "--key",
        s(&public),
        "--type",
        "cyclonedx",
        &reference,
    ];
    let out = with_key(&mock, &verify);
    let printed: Value = serde_json::from_str(&succeeded(&out)).expect("predicate");
    assert_eq!(printed, predicate);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("transparency-log entry {index} checked")),
        "{stderr}"
    );
    // The entry stripped from the bundle: refused without --insecure-ignore-tlog.
    rewrite_bundle(&lay, &image, |b| {
        b["verificationMaterial"]["tlogEntries"] = json!([]);
    });
    refused(&with_key(&mock, &verify), "not in log");
}

// See: issue 12 (Rekor 409 on re-sign)
#[test]
fn re_signing_the_same_digest_reuses_the_rekor_entry() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 800, 122).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let sign = ["sign", "--key", s(&key), "--json", &reference];
    let first: Value = serde_json::from_str(&succeeded(&with_key(&mock, &sign))).expect("json");
    let second: Value = serde_json::from_str(&succeeded(&with_key(&mock, &sign))).expect("json");
    assert_eq!(first["written"], true);
    assert_eq!(second["written"], false, "{second}");
    assert!(first["log_index"].is_u64(), "{first}");
    assert_eq!(first["log_index"], second["log_index"]);
    assert_eq!(first["manifest"], second["manifest"]);
    let bundles = Place::Layout(&lay).fallback_bundles(&image);
    assert_eq!(bundles.len(), 1);
    check_bundle_independently(tmp.path(), &public, &bundles[0].1, &image);
    let text = succeeded(&with_key(&mock, &["sign", "--key", s(&key), &reference]));
    assert!(text.contains("already signed (nothing written)"), "{text}");
    let out = with_key(&mock, &["verify", "--key", s(&public), &reference]);
    assert!(succeeded(&out).contains("(transparency-log entry checked)"));
}

#[test]
fn sbom_attach_and_trivy_attest_are_logged_by_default() {
    let mock = Mock::start();
    // `--trust-config` names the Rekor, as on `sign`/`verify` (not only CICD_TRUST_CONFIG).
    let flagged = |args: &[&str]| {
        let out = mock
            .cicd()
            .current_dir(mock.dir.path())
            .env("CICD_KEY_PASSWORD", PASSWORD)
            .env_remove("CICD_TRUST_CONFIG")
            .args(args)
            .args(["--trust-config", s(&mock.trust())])
            .output()
            .expect("run cicd");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
        out
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 800, 123).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    succeeded(&flagged(&[
        "sbom",
        &reference,
        "--attach",
        "--key",
        s(&key),
    ]));
    let found = attested(&Place::Layout(&lay), &image, CYCLONEDX);
    assert_eq!(found.len(), 1);
    log_index(&found[0].1);
    let sbom = succeeded(&flagged(&[
        "sbom",
        &reference,
        "--from-attached",
        "--key",
        s(&public),
    ]));
    let sbom: Value = serde_json::from_str(&sbom).expect("sbom");
    assert_eq!(sbom["bomFormat"], "CycloneDX");

    let report = data("trivy/image.json");
    let out = flagged(&[
        "check",
        "trivy",
        s(&report),
        "--attest",
        &reference,
        "--key",
        s(&key),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the gate's verdict: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = attested(&Place::Layout(&lay), &image, VULN);
    assert_eq!(found.len(), 1);
    log_index(&found[0].1);
    let out = with_key(
        &mock,
        &[
            "verify-attestation",
            "--key",
            s(&public),
            "--type",
            "vuln",
            &reference,
        ],
    );
    succeeded(&out);
}

#[test]
fn key_based_recursive_signing_logs_the_index_and_each_platform() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 171);
    let reference = format!("oci:{}:v1", s(&lay));
    let out = with_key(
        &mock,
        &[
            "sign",
            "--key",
            s(&key),
            "--recursive",
            "--json",
            &reference,
        ],
    );
    let v: Value = serde_json::from_str(&succeeded(&out)).expect("json");
    let mut expected = vec![img.digest.clone()];
    expected.extend(img.children.iter().cloned());
    let signed = v["signed"].as_array().expect("signed");
    assert_eq!(signed.len(), 3, "{v:#}");
    let mut refs = Vec::new();
    for (entry, d) in signed.iter().zip(&expected) {
        assert_eq!(entry["digest"], *d);
        assert!(entry["log_index"].is_u64(), "{entry}");
        let found = attested(
            &Place::Layout(&lay),
            d,
            "https://sigstore.dev/cosign/sign/v1",
        );
        assert_eq!(found.len(), 1, "{d}");
        log_index(&found[0].1);
        refs.push(format!("oci:{}@{d}", s(&lay)));
    }
    let mut args = vec!["verify", "--key", s(&public)];
    args.extend(refs.iter().map(String::as_str));
    succeeded(&with_key(&mock, &args));
}
