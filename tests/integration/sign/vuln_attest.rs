//! `cicd check trivy REPORT --attest REF --key K` (issue 14 item 5): the gate's result is
//! attached as a cosign vuln attestation whatever the verdict, the exit code stays the gate's,
//! and the signed predicate carries the report, its scan times and the verdict.

use super::*;
use crate::harness::{data, images};

const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

fn gate(dir: &Path, args: &[&str]) -> Output {
    let out = cicd()
        .current_dir(dir)
        .env("CICD_KEY_PASSWORD", PASSWORD)
        .env("CICD_NOW", "2026-01-31T12:00:00Z")
        .args(["check", "trivy"])
        .args(args)
        .output()
        .expect("run cicd");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
    out
}

#[test]
fn a_failing_gate_is_attested_and_still_exits_1() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 700, 211);
    let reference = format!("oci:{}:v1", s(&lay));
    let report = data("trivy/image.json");
    let out = gate(
        tmp.path(),
        &[
            s(&report),
            "--attest",
            &reference,
            "--key",
            s(&key),
            "--tlog-upload=false",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the gate's verdict: {stderr}");
    assert!(
        stderr.contains("vuln attestation sha256:") && stderr.contains(&img.digest),
        "{stderr}"
    );
    let found = super::attest::attested(&Place::Layout(&lay), &img.digest, VULN);
    assert_eq!(found.len(), 1);
    let st = check_dsse_independently(
        tmp.path(),
        &public,
        &found[0].1["dsseEnvelope"],
        &img.digest,
    );
    assert_eq!(st["predicateType"], VULN);
    let p = &st["predicate"];
    let original: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    assert_eq!(p["scanner"]["result"], original);
    assert_eq!(p["metadata"]["scanStartedOn"], original["CreatedAt"]);
    assert_eq!(p["metadata"]["scanFinishedOn"], original["CreatedAt"]);
    assert_eq!(p["gate"]["result"], "failed");
    assert_eq!(p["gate"]["failed"], true);
    assert!(p["invocation"]["parameters"].is_array());

    let out = run(&[
        "verify-attestation",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--type",
        "vuln",
        &reference,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("predicate");
    assert_eq!(&printed, p);
}

#[test]
fn attest_flags_are_checked_before_the_gate_runs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 700, 221);
    let reference = format!("oci:{}:v1", s(&lay));
    let report = data("trivy/image.json");
    // No --key: clap refuses.
    let out = gate(tmp.path(), &[s(&report), "--attest", &reference]);
    assert_eq!(out.status.code(), Some(2));
    // Logging is the default: a trust root naming no Rekor is refused before any report is
    // rendered.
    let root_only = tmp.path().join("trusted_root.json");
    std::fs::write(&root_only, ROOT_ONLY).expect("write root");
    let out = cicd()
        .current_dir(tmp.path())
        .env("CICD_KEY_PASSWORD", PASSWORD)
        .env("CICD_TRUST_CONFIG", &root_only)
        .args(["check", "trivy", s(&report), "--attest", &reference])
        .args(["--key", s(&key)])
        .output()
        .expect("run cicd");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "the gate did not run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tlog-upload=false"));
    assert!(
        Place::Layout(&lay).fallback_bundles(&img.digest).is_empty(),
        "nothing attached"
    );
}
