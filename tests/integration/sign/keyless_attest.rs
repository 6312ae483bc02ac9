//! Keyless attestations (issue 12): `cicd attest` without `--key` gets a Fulcio certificate
//! for the GitHub-shaped OIDC identity and a Rekor entry from npm `@sigstore/mock`, stores
//! the bundle as cosign v3 does, and `cicd verify-attestation` checks it with the same
//! identity flags as `cicd verify`. sigstore-python verifies every bundle independently.
//! See: issue 12.

use super::attest::{CYCLONEDX, attested, predicate_file};
use super::keyless::{ISSUER, Mock, SAN, assert_token_only_masked, refused, rewrite_bundle};
use super::*;
use crate::harness::images;

const WORKFLOW: &str = "acme/ci/.github/workflows/sign.yml";

struct Attested {
    mock: Mock,
    tmp: tempfile::TempDir,
    lay: PathBuf,
    image: String,
    reference: String,
    predicate: Value,
}

fn attest_keyless() -> Attested {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 1000, 91).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let (path, predicate) = predicate_file(tmp.path());
    let out = mock
        .cicd()
        .args(["attest", "--trust-config", s(&mock.trust())])
        .args(["--type", "cyclonedx", "--predicate", s(&path), &reference])
        .output()
        .expect("run cicd");
    assert_token_only_masked(&mock, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("keylessly") && stdout.contains(ISSUER),
        "{stdout}"
    );
    // The identity printed is what Fulcio certified (the SAN a verifier matches), not the
    // token's `sub`.
    assert!(stdout.contains(&format!("identity {SAN}\n")), "{stdout}");
    Attested {
        mock,
        tmp,
        lay,
        image,
        reference,
        predicate,
    }
}

fn verify_attestation(c: &Attested, policy: &[&str]) -> Output {
    c.mock
        .cicd()
        .args(["verify-attestation", "--type", "cyclonedx"])
        .args(["--trust-config", s(&c.mock.trust())])
        .args(policy)
        .arg(&c.reference)
        .output()
        .expect("run cicd")
}

fn statement(bundle: &Value) -> Value {
    let payload = bundle["dsseEnvelope"]["payload"].as_str().expect("payload");
    serde_json::from_slice(&STANDARD.decode(payload).expect("base64")).expect("statement")
}

#[test]
fn keyless_attestation_verifies_with_sigstore_python_and_cicd() {
    let c = attest_keyless();
    let (manifest, bundle) = attested(&Place::Layout(&c.lay), &c.image, CYCLONEDX).remove(0);
    assert_eq!(manifest["artifactType"], BUNDLE);
    assert_eq!(manifest["subject"]["digest"], c.image);
    assert!(bundle["verificationMaterial"]["certificate"]["rawBytes"].is_string());
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    let (ok, log) =
        super::keyless::sigstore_python(c.tmp.path(), &c.mock.trust(), &bundle, &c.image);
    assert!(ok && log.contains("OK: verified"), "sigstore-python: {log}");
    // What sigstore-python verified the signature over is this predicate of this type.
    let stmt = statement(&bundle);
    assert_eq!(stmt["predicateType"], CYCLONEDX);
    assert_eq!(stmt["predicate"], c.predicate);

    let out = verify_attestation(&c, &["--github-workflow", WORKFLOW, "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let first = &v["verified"][0];
    assert_eq!(first["predicate"], c.predicate);
    assert_eq!(first["signer"]["kind"], "certificate");
    assert_eq!(first["signer"]["identity"], SAN);
    assert_eq!(first["signer"]["issuer"], ISSUER);
    assert!(first["signer"]["log_index"].is_u64(), "{first}");
    assert!(first["signer"]["integrated_time"].is_string(), "{first}");

    let out = verify_attestation(
        &c,
        &[
            "--certificate-identity",
            SAN,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let printed: Value = serde_json::from_slice(&out.stdout).expect("the predicate as JSON");
    assert_eq!(printed, c.predicate);
    assert!(
        stderr.contains(&format!("signed by certificate {SAN} issued by {ISSUER}"))
            && stderr.contains("transparency-log entry"),
        "{stderr}"
    );
}

#[test]
fn keyless_attestation_refusals_name_their_reason() {
    let c = attest_keyless();
    // Another workflow's identity: exit 1, naming the identity the certificate carries.
    refused(
        &verify_attestation(
            &c,
            &[
                "--github-workflow",
                "acme/app/.github/workflows/release.yml",
            ],
        ),
        &format!("identity mismatch: the certificate names `{SAN}`"),
    );
    refused(
        &verify_attestation(
            &c,
            &[
                "--certificate-identity",
                SAN,
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
            ],
        ),
        "issuer mismatch",
    );
    // A key cannot vouch for a certificate-signed bundle.
    let (_, public) = keygen(c.tmp.path(), "other");
    let out = c
        .mock
        .cicd()
        .args([
            "verify-attestation",
            "--type",
            "cyclonedx",
            "--key",
            s(&public),
        ])
        .args(["--trust-config", s(&c.mock.trust()), &c.reference])
        .output()
        .expect("run");
    refused(&out, "keyless bundle (certificate)");
    // The predicate changed after signing (someone with write access to the repository).
    let mut tampered = None;
    rewrite_bundle(&c.lay, &c.image, |b| {
        let mut stmt = statement(b);
        stmt["predicate"]["components"][0]["version"] = json!("9.9");
        b["dsseEnvelope"]["payload"] = json!(STANDARD.encode(stmt.to_string()));
        tampered = Some(b.clone());
    });
    refused(
        &verify_attestation(&c, &["--github-workflow", WORKFLOW]),
        "tampered payload",
    );
    let tampered = tampered.expect("rewritten");
    let (ok, log) =
        super::keyless::sigstore_python(c.tmp.path(), &c.mock.trust(), &tampered, &c.image);
    assert!(!ok, "sigstore-python accepted a tampered predicate: {log}");
}

#[test]
fn keyless_attest_usage_errors_exit_2() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 100, 4);
    let reference = format!("oci:{}:v1", s(&lay));
    let (path, _) = predicate_file(tmp.path());
    let trust = mock.trust();
    for (args, says) in [
        (
            vec![
                "attest",
                "--tlog-upload=false",
                "--predicate",
                s(&path),
                &reference,
            ],
            "always logged",
        ),
        (
            vec![
                "verify-attestation",
                "--trust-config",
                s(&trust),
                &reference,
            ],
            "needs --certificate-identity",
        ),
        (
            vec![
                "verify-attestation",
                "--github-workflow",
                WORKFLOW,
                "--insecure-ignore-tlog",
                &reference,
            ],
            "--insecure-ignore-tlog applies to key-based",
        ),
    ] {
        let out = mock.cicd().args(&args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
