//! SBOM per platform and vulnerability scans: attestations made with the project's own
//! attestation API (`sign::attest`, what `cicd sbom --attach` and `cicd check trivy --attest`
//! write), then promotion passes only with an SBOM on every platform and a recent passing
//! scan; each gap is refused (exit 1) with its reason and nothing changes.

use super::*;
use crate::harness::registry::plain;
use cicd::oci::store::Context;
use cicd::oci::transport::Location;
use cicd::sign::attest::{self, CYCLONEDX, VULN};
use cicd::sign::signer::Format;
use cicd::sign::store::{Subject, recursive};
use serde_json::json;

/// Attests `predicate` about the image `reference` names (`platforms`: about each platform
/// manifest instead, all but those whose architecture is in `skip`).
pub fn attest_image(
    w: &World,
    reference: &str,
    kind: &str,
    predicate: &Value,
    platforms: bool,
    skip: &[&str],
) {
    let pem = std::fs::read_to_string(&w.key).expect("key");
    let key = cicd::sign::keys::decrypt(&pem, &PASSWORD.to_owned().into()).expect("decrypt");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = Context::new(Default::default(), Default::default()).expect("ctx");
        let loc = Location::parse(reference).expect("loc");
        let store = ctx.store(&loc, false).expect("store");
        let image = store.resolve(&loc).await.expect("resolve");
        let subjects: Vec<Subject> = if platforms {
            recursive(&store, &image)
                .await
                .expect("children")
                .into_iter()
                .filter(|(_, p)| {
                    p.as_ref()
                        .is_some_and(|p| !skip.contains(&p.architecture.as_str()))
                })
                .map(|(s, _)| s)
                .collect()
        } else {
            vec![Subject::of(&image)]
        };
        let req = attest::Request {
            key: &key,
            format: Format::Bundle,
            created: NOW.into(),
        };
        for s in subjects {
            attest::attest(&store, &s, kind, predicate, &req)
                .await
                .expect("attest");
        }
    });
}

fn scan(finished: &str, severities: &[&str]) -> Value {
    let vulns: Vec<Value> = severities
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"VulnerabilityID": format!("CVE-2026-{i:04}"), "Severity": s}))
        .collect();
    json!({
        "invocation": {"uri": "", "event_id": "", "builder.id": ""},
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.58.0",
            "result": {"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": vulns}]}},
        "metadata": {"scanStartedOn": finished, "scanFinishedOn": finished},
    })
}

fn refused(w: &World, reference: &str, reason: &str) {
    let staging = w.repo("staging");
    let before = skopeo_tags(&staging);
    let out = w.run(&["promote", reference, "--to", "staging"], NOW);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(reason), "expected `{reason}` in: {stderr}");
    assert_eq!(
        skopeo_tags(&staging),
        before,
        "a refused promotion changed staging"
    );
}

#[test]
fn sbom_per_platform_and_a_recent_passing_scan_are_required() {
    let reg = plain();
    let w = World::new(&reg.addr, "attested");
    let staging = w.repo("staging");
    std::fs::write(
        w.tmp.path().join("cicd.yaml"),
        format!("policy:\n  trivy:\n    fail-on: [CRITICAL, HIGH]\nenvironments:\n  staging:\n    repository: {staging}\n    require:\n      signature: {{ key: cosign.pub, insecure-ignore-tlog: true }}\n      sbom: true\n      scan: {{ max-age: 1d }}\n"),
    )
    .expect("config");
    let src = w.repo("src");
    let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []});
    let fresh = "2026-01-31T11:00:00Z";

    // Everything present: promoted, each piece of evidence listed.
    let good = w.push(&src, "good", 2301);
    let r = format!("docker://{src}@{good}");
    w.sign(&r, &w.key);
    attest_image(&w, &r, CYCLONEDX, &sbom, true, &[]);
    attest_image(&w, &r, VULN, &scan(fresh, &["LOW"]), false, &[]);
    let v = w.json(&["promote", &r, "--to", "staging", "--json"], NOW);
    let evidence: Vec<String> = v["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|c| format!("{} {}", c["evidence"].as_str().unwrap_or(""), c["verified"]))
        .collect();
    assert_eq!(
        evidence,
        [
            "signature true",
            "sbom linux/amd64 true",
            "sbom linux/arm64 true",
            "scan true"
        ]
    );
    // The attestations travelled: they verify at the destination too.
    assert_eq!(
        v["evidence_at_destination"].as_array().map(Vec::len),
        Some(4)
    );

    // An SBOM missing for one platform.
    let partial = w.push(&src, "partial", 2302);
    let r = format!("docker://{src}@{partial}");
    w.sign(&r, &w.key);
    attest_image(&w, &r, CYCLONEDX, &sbom, true, &["arm64"]);
    attest_image(&w, &r, VULN, &scan(fresh, &[]), false, &[]);
    refused(&w, &r, "sbom linux/arm64: no SBOM attestation");

    // A failing scan, and a passing one that is too old.
    let failing = w.push(&src, "failing", 2303);
    let r = format!("docker://{src}@{failing}");
    w.sign(&r, &w.key);
    attest_image(&w, &r, CYCLONEDX, &sbom, true, &[]);
    attest_image(&w, &r, VULN, &scan(fresh, &["CRITICAL", "LOW"]), false, &[]);
    refused(&w, &r, "1 failing of 2 findings (CVE-2026-0000 CRITICAL");
    let stale = w.push(&src, "stale", 2304);
    let r = format!("docker://{src}@{stale}");
    w.sign(&r, &w.key);
    attest_image(&w, &r, CYCLONEDX, &sbom, true, &[]);
    attest_image(&w, &r, VULN, &scan("2026-01-29T12:00:00Z", &[]), false, &[]);
    refused(&w, &r, "older than max-age");
    // No scan at all.
    let unscanned = w.push(&src, "unscanned", 2305);
    let r = format!("docker://{src}@{unscanned}");
    w.sign(&r, &w.key);
    attest_image(&w, &r, CYCLONEDX, &sbom, true, &[]);
    refused(&w, &r, "no vulnerability scan attestation");
}
