//! A key-signed `cicd release` logs every signature and attestation in Rekor, as `cicd sign`
//! and `cicd attest` do (cosign's default): the SBOM and vuln attestations it attaches carry a
//! log entry that `cicd verify-attestation` checks without `--insecure-ignore-tlog` (Rekor from
//! npm `@sigstore/mock` on loopback), and the vuln predicate names `cicd release` as what
//! made it. `tlog-upload: false` is what an offline release needs. See: issue 12, issue 14.

use serde_json::Value;

use super::promote::{configure, passing_report};
use super::{project, release};
use crate::harness::cicd;
use crate::sign::keyless::Mock;

/// `cicd verify-attestation --type T --json` of `reference` with the release's key.
fn verify_attestation(
    dir: &std::path::Path,
    trust: Option<&str>,
    kind: &str,
    reference: &str,
) -> (i32, String, String) {
    let mut cmd = cicd();
    cmd.current_dir(dir).args([
        "verify-attestation",
        "--key",
        "cosign.pub",
        "--type",
        kind,
        "--json",
    ]);
    if let Some(t) = trust {
        cmd.args(["--trust-config", t]);
    } else {
        cmd.env_remove("CICD_TRUST_CONFIG");
    }
    let out = cmd.arg(reference).output().expect("verify-attestation");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every attestation verified carries a checked log entry.
fn assert_logged(stdout: &str, stderr: &str) -> Value {
    let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let verified = v["verified"].as_array().expect("verified");
    assert!(!verified.is_empty(), "{stderr}");
    for a in verified {
        assert!(a["signer"]["log_index"].is_u64(), "{a:#}");
    }
    assert!(stderr.contains("transparency-log entry"), "{stderr}");
    assert!(!stderr.contains("no transparency-log entry"), "{stderr}");
    v
}

#[test]
fn a_key_signed_release_logs_its_signatures_and_attestations_in_rekor() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], true, "v1.0.0");
    let yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("cicd.yaml");
    std::fs::write(
        dir.join("cicd.yaml"),
        yaml.replace(
            "{ key: cosign.key, tlog-upload: false }",
            "{ key: cosign.key }",
        ),
    )
    .expect("cicd.yaml");
    configure(
        dir,
        "policy:\n  trivy:\n    fail-on: [CRITICAL, HIGH]\n",
        "v1.0.0",
    );

    // Logged by default: an offline release cannot reach the log and says what to set.
    let offline = release(dir, &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(offline.code, 2, "{}", offline.stderr);
    assert!(
        offline.stderr.contains("tlog-upload: false"),
        "{}",
        offline.stderr
    );
    assert!(!dir.join("out").exists());

    let trust = mock.trust();
    let trust = trust.to_str().expect("utf8");
    let scans = tempfile::tempdir().expect("tmp");
    let report = scans.path().join("trivy.json");
    passing_report(&report, "2026-01-31T11:00:00Z");
    let env = [("CICD_TRUST_CONFIG", trust)];
    let plan = release(dir, &env, &["--to", "oci:./out", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("logged in Rekor http://127.0.0.1:"),
        "{}",
        plan.stdout
    );
    let run = release(
        dir,
        &env,
        &[
            "--to",
            "oci:./out",
            "--json",
            "--scan-report",
            report.to_str().expect("utf8"),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let rec = run.json();
    assert_eq!(rec["gate"]["result"], "passed", "{:#}", rec["gate"]);
    for (i, name) in ["bb", "motd"].iter().enumerate() {
        check_image(dir, trust, name, &rec["images"][i]);
    }
}

/// The image's signature, its gate's vuln attestation and each platform's SBOM attestation
/// verify with their log entries; the entries are checked against the Rekor key.
fn check_image(dir: &std::path::Path, trust: &str, name: &str, image: &Value) {
    let digest = image["digest"].as_str().expect("digest");
    let layout = dir.join("out").join(name);
    let at = |d: &str| format!("oci:{}@{d}", layout.display());

    // The gate's vuln attestation on the index, logged, made by `cicd release`.
    let (code, out, err) = verify_attestation(dir, Some(trust), "vuln", &at(digest));
    assert_eq!(code, 0, "{name}: {err}");
    let v = assert_logged(&out, &err);
    let predicate = &v["verified"][0]["predicate"];
    assert_eq!(
        predicate["invocation"]["builder.id"], "cicd release",
        "{predicate:#}"
    );
    assert_eq!(predicate["gate"]["result"], "passed");

    // Each platform's SBOM attestation, logged.
    for p in image["platforms"].as_array().expect("platforms") {
        let pd = p["digest"].as_str().expect("platform digest");
        let (code, out, err) = verify_attestation(dir, Some(trust), "cyclonedx", &at(pd));
        assert_eq!(code, 0, "{name} {pd}: {err}");
        assert_logged(&out, &err);
    }

    // The signature of the index, logged.
    let sig = cicd()
        .current_dir(dir)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--trust-config",
            trust,
            "--json",
        ])
        .arg(at(digest))
        .output()
        .expect("verify");
    assert!(
        sig.status.success(),
        "{}",
        String::from_utf8_lossy(&sig.stderr)
    );
    let text = String::from_utf8_lossy(&sig.stdout);
    assert!(text.contains("\"log_index\""), "{text}");

    // Checked, not just present: against public-good's Rekor key the entry does not hold.
    let (code, _, err) = verify_attestation(dir, None, "vuln", &at(digest));
    assert_eq!(code, 1, "{name}: {err}");
    assert!(err.contains("not in log"), "{err}");
}
