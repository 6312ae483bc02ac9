//! The scan requirement applies `policy.trivy` as `cicd check trivy` does: a critical finding
//! that an ignore in `cicd.yaml` names, or that a VEX statement in the scanned CycloneDX
//! report marks `not_affected`, does not stop promotion; without the ignore or the statement
//! the same attestation is refused (exit 1) naming the finding, and staging is unchanged.
//! See: issue 15 (scan requirement and `policy.trivy`).

use super::attested::attest_image;
use super::*;
use crate::harness::registry::plain;
use cicd::sign::attest::VULN;
use serde_json::json;

const FINISHED: &str = "2026-01-31T11:00:00Z";

fn predicate(result: Value) -> Value {
    json!({
        "invocation": {"uri": "", "event_id": "", "builder.id": ""},
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.58.0", "result": result},
        "metadata": {"scanStartedOn": FINISHED, "scanFinishedOn": FINISHED},
    })
}

/// A Trivy JSON report: one critical finding in openssl, one low in zlib.
fn trivy_report(critical: &str) -> Value {
    json!({"SchemaVersion": 2, "Results": [{"Target": "img (debian 12)", "Class": "os-pkgs",
        "Vulnerabilities": [
            {"VulnerabilityID": critical, "PkgName": "openssl", "InstalledVersion": "3.0.1",
             "Severity": "CRITICAL"},
            {"VulnerabilityID": "CVE-2026-5000", "PkgName": "zlib", "InstalledVersion": "1.2",
             "Severity": "LOW"}]}]})
}

/// A CycloneDX vulnerability report (`trivy --format cyclonedx`) with one critical finding,
/// marked `not_affected` by a VEX analysis when `state` is given.
fn cyclonedx_report(id: &str, state: Option<&str>) -> Value {
    let mut vuln = json!({"id": id, "ratings": [{"severity": "critical"}],
        "affects": [{"ref": "pkg:deb/debian/libc6@2.36"}]});
    if let Some(state) = state {
        vuln["analysis"] = json!({"state": state, "justification": "code_not_reachable"});
    }
    json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"name": "img", "bom-ref": "img"}},
        "components": [{"bom-ref": "pkg:deb/debian/libc6@2.36", "name": "libc6",
            "version": "2.36", "purl": "pkg:deb/debian/libc6@2.36"}],
        "vulnerabilities": [vuln]})
}

fn config(w: &World, ignore: Option<&str>) {
    let ignores = ignore.map_or_else(String::new, |id| {
        format!(
            "    ignores:\n      - id: {id}\n        reason: not reachable from the service\n        expires: 2026-06-30\n"
        )
    });
    let text = format!(
        "policy:\n  trivy:\n    fail-on: [CRITICAL, HIGH]\n{ignores}environments:\n  staging:\n    repository: {}\n    require:\n      signature: {{ key: cosign.pub, insecure-ignore-tlog: true }}\n      scan: {{ max-age: 1d }}\n",
        w.repo("staging")
    );
    std::fs::write(w.tmp.path().join("cicd.yaml"), text).expect("config");
}

/// Pushes, signs and attests an image with `result` as its scan; its reference.
fn scanned(w: &World, tag: &str, seed: u64, result: Value) -> String {
    let src = w.repo("src");
    let digest = w.push(&src, tag, seed);
    let r = format!("docker://{src}@{digest}");
    w.sign(&r, &w.key);
    attest_image(w, &r, VULN, &predicate(result), false, &[]);
    r
}

fn promote(w: &World, reference: &str) -> (Option<i32>, String, Value) {
    let out = w.run(&["promote", reference, "--to", "staging", "--json"], NOW);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
    )
}

fn scan_detail(v: &Value) -> String {
    v["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["evidence"] == "scan")
        .and_then(|c| c["detail"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_critical_finding_ignored_by_id_in_policy_trivy_passes_and_fails_without_it() {
    let reg = plain();
    let w = World::new(&reg.addr, "scanpolicy-id");
    let r = scanned(&w, "ignored", 2401, trivy_report("CVE-2026-4242"));
    let staging = w.repo("staging");

    config(&w, None);
    let (code, stderr, v) = promote(&w, &r);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("1 failing of 2 findings (CVE-2026-4242 CRITICAL in openssl"),
        "{stderr}"
    );
    assert!(
        skopeo_tags(&staging).is_empty(),
        "a refused promotion tagged"
    );
    assert_eq!(v["refused"].as_array().map(Vec::len), Some(1), "{v}");

    config(&w, Some("CVE-2026-4242"));
    let (code, stderr, v) = promote(&w, &r);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        scan_detail(&v),
        "scan finished 2026-01-31T11:00:00Z: 2 findings, none failing, 1 ignored by policy"
    );
    let digest = r.rsplit('@').next().unwrap_or_default();
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")).as_deref(),
        Some(digest)
    );
}

#[test]
fn a_critical_finding_a_vex_statement_marks_not_affected_passes_and_fails_without_it() {
    let reg = plain();
    let w = World::new(&reg.addr, "scanpolicy-vex");
    config(&w, None);
    let staging = w.repo("staging");

    let open = scanned(&w, "open", 2411, cyclonedx_report("CVE-2026-7777", None));
    let (code, stderr, _) = promote(&w, &open);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("1 failing of 1 finding (CVE-2026-7777 CRITICAL in libc6"),
        "{stderr}"
    );
    assert!(
        skopeo_tags(&staging).is_empty(),
        "a refused promotion tagged"
    );

    let vexed = scanned(
        &w,
        "vexed",
        2412,
        cyclonedx_report("CVE-2026-7777", Some("not_affected")),
    );
    let (code, stderr, v) = promote(&w, &vexed);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        scan_detail(&v),
        "scan finished 2026-01-31T11:00:00Z: 0 findings, none failing"
    );
}
