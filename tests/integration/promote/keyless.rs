//! A keyless requirement (`require.signature.github-workflow`) on a real registry: an image
//! signed keylessly against the sigstore mock (Fulcio, Rekor, TSA on loopback, a GitHub-shaped
//! token) is promoted when the certificate names the workflow, and refused with the identity
//! mismatch when it names another. The trust root is the mock's (`CICD_TRUST_CONFIG`). SBOM
//! and scan requirements under a keyless policy verify keyless attestations (`cicd attest`
//! without a key) the same way.
//! See: issue 15 (require.signature, require.sbom/scan), issue 12 (keyless verify).

use super::*;
use crate::harness::images;
use crate::harness::registry::plain;
use crate::sign::keyless::{Mock, sign_keyless};

fn promote(w: &World, mock: &Mock, reference: &str, env: &str) -> Output {
    cicd()
        .current_dir(w.tmp.path())
        .env("CICD_TRUST_CONFIG", mock.trust())
        .env("CICD_NOW", NOW)
        .args(["promote", reference, "--to", env])
        .output()
        .expect("run cicd")
}

#[test]
fn keyless_signature_policy_promotes_the_named_workflow_and_refuses_another() {
    let mock = Mock::start();
    let reg = plain();
    let w = World::new(&reg.addr, "keyless");
    let text = format!(
        "environments:\n  qa:\n    repository: {}\n    tag: qa\n    require:\n      signature: {{ github-workflow: acme/ci/.github/workflows/sign.yml@refs/heads/* }}\n  other:\n    repository: {}\n    tag: other\n    require:\n      signature: {{ github-workflow: acme/app/.github/workflows/release.yml }}\n",
        w.repo("qa"),
        w.repo("other"),
    );
    std::fs::write(w.tmp.path().join("cicd.yaml"), text).expect("config");
    let src = w.repo("src");
    let digest = w.push(&src, "v1", 1901);
    let signed = sign_keyless(&mock, &format!("docker://{src}:v1"));
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );

    let out = promote(&w, &mock, &format!("{src}@{digest}"), "qa");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        skopeo_digest(&format!("{}:qa", w.repo("qa"))).as_deref(),
        Some(digest.as_str())
    );

    // The certificate names acme/ci's sign.yml, not acme/app's release.yml.
    let out = promote(&w, &mock, &format!("{src}@{digest}"), "other");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("identity mismatch"), "{stderr}");
    assert!(skopeo_tags(&w.repo("other")).is_empty());
}

/// `cicd attest` keylessly (no key: Fulcio certificate, Rekor entry) of `predicate` as `kind`.
fn attest_keyless(mock: &Mock, dir: &Path, reference: &str, kind: &str, predicate: &Value) {
    let path = dir.join(format!("{kind}.json"));
    std::fs::write(&path, predicate.to_string()).expect("predicate");
    let out = mock
        .cicd()
        .args(["attest", "--trust-config", s(&mock.trust())])
        .args(["--type", kind, "--predicate", s(&path), reference])
        .output()
        .expect("run cicd");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn keyless_sbom_and_scan_requirements_verify_keyless_attestations() {
    let mock = Mock::start();
    let reg = plain();
    let w = World::new(&reg.addr, "keyless-att");
    let text = format!(
        "policy:\n  trivy:\n    fail-on: [CRITICAL]\nenvironments:\n  qa:\n    repository: {}\n    tag: qa\n    require:\n      signature: {{ github-workflow: acme/ci/.github/workflows/sign.yml@refs/heads/* }}\n      sbom: true\n      scan: {{ max-age: 1d }}\n  other:\n    repository: {}\n    tag: other\n    require:\n      signature: {{ github-workflow: acme/app/.github/workflows/release.yml }}\n      sbom: true\n",
        w.repo("qa"),
        w.repo("other"),
    );
    std::fs::write(w.tmp.path().join("cicd.yaml"), text).expect("config");
    let src = w.repo("src");
    let lay = w.tmp.path().join("lay");
    let digest = images::single(&lay, "v1", 1000, 1951).digest;
    w.ok(
        &[
            "image",
            "copy",
            &format!("oci:{}:v1", s(&lay)),
            &format!("docker://{src}:v1"),
        ],
        NOW,
    );
    let r = format!("docker://{src}@{digest}");
    let signed = sign_keyless(&mock, &r);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let sbom = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": []});
    attest_keyless(&mock, w.tmp.path(), &r, "cyclonedx", &sbom);

    // An SBOM but no scan yet: refused, naming what is missing.
    let out = promote(&w, &mock, &r, "qa");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no vulnerability scan attestation"),
        "{stderr}"
    );
    assert!(skopeo_tags(&w.repo("qa")).is_empty());

    let scan = serde_json::json!({
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.58.0",
            "result": {"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2026-1", "PkgName": "zlib", "Severity": "LOW"}]}]}},
        "metadata": {"scanStartedOn": "2026-01-31T11:00:00Z",
            "scanFinishedOn": "2026-01-31T11:00:00Z"},
    });
    attest_keyless(&mock, w.tmp.path(), &r, "vuln", &scan);
    let out = promote(&w, &mock, &r, "qa");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        skopeo_digest(&format!("{}:qa", w.repo("qa"))).as_deref(),
        Some(digest.as_str())
    );

    // Another workflow's policy: the keyless SBOM attestation names acme/ci, not acme/app.
    let out = promote(&w, &mock, &r, "other");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("sbom") && l.contains("identity mismatch")),
        "{stderr}"
    );
    assert!(skopeo_tags(&w.repo("other")).is_empty());
}
