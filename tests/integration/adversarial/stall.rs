//! Adversarial cases shared by the commands that talk to a registry: a server that accepts the
//! connection and never answers. `sbom`, `sign`, `verify` and `build --to` must each end with
//! exit 3 naming the host, within the timeout, and write nothing a workflow reads as success
//! (`$GITHUB_OUTPUT`, JSON on stdout).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::harness::cicd;
use crate::harness::http::StallServer;

/// Generous: each command's waits are 2 s here; a missing timeout fails instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(90);

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Runs `cicd ARGS` in `dir` as a workflow step would, with 2 s network waits.
fn step(dir: &Path, args: &[&str]) -> Output {
    cicd()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .env("CICD_HTTP_TIMEOUT", "2")
        .env("CICD_KEY_PASSWORD", "stall-test-password")
        .args(args)
        .timeout(HANG_GUARD)
        .output()
        .expect("run cicd")
}

/// Exit 3 naming the host, nothing on stdout a parser could take for a result, and no
/// `$GITHUB_OUTPUT` line.
fn assert_external_failure(dir: &Path, out: &Output, addr: &str, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{what}: {stdout}{stderr}");
    assert!(stderr.contains(addr), "{what} must name {addr}: {stderr}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout).is_err(),
        "{what} printed JSON on failure: {stdout}"
    );
    let output = std::fs::read_to_string(dir.join("output")).unwrap_or_default();
    assert!(
        output.trim().is_empty(),
        "{what} wrote outputs on failure: {output}"
    );
    assert!(
        !stderr.contains("stall-test-password"),
        "{what} printed the password"
    );
}

// See: issue 8 item 7 (every network call has a timeout), for the pipeline commands
#[test]
fn sbom_against_a_registry_that_never_answers_is_exit_3() {
    let server = StallServer::silent();
    let dir = tempfile::tempdir().expect("tmp");
    let image = format!("docker://{}/app@{DIGEST}", server.addr);
    let out = step(dir.path(), &["sbom", "--output", "bom.json", &image]);
    assert_external_failure(dir.path(), &out, &server.addr, "sbom");
    assert!(
        !dir.path().join("bom.json").exists(),
        "sbom wrote a document"
    );
}

// See: issue 8 item 7
// See: issue 13 (unsigned SBOM artifacts): attaching and reading back both talk to the registry.
#[test]
fn unsigned_sbom_attach_and_from_attached_against_a_registry_that_never_answers_are_exit_3() {
    let server = StallServer::silent();
    let dir = tempfile::tempdir().expect("tmp");
    let image = format!("docker://{}/app@{DIGEST}", server.addr);
    for args in [
        vec!["sbom", &image, "--attach"],
        vec!["sbom", &image, "--from-attached", "--output", "out.json"],
    ] {
        let out = step(dir.path(), &args);
        assert_external_failure(dir.path(), &out, &server.addr, &args.join(" "));
        assert!(!dir.path().join("out.json").exists());
    }
}

#[test]
fn sign_verify_and_attest_against_a_registry_that_never_answers_are_exit_3() {
    let server = StallServer::silent();
    let dir = tempfile::tempdir().expect("tmp");
    let prefix = dir.path().join("cosign");
    let made = step(
        dir.path(),
        &["keygen", "--prefix", prefix.to_str().expect("utf-8")],
    );
    assert!(made.status.success(), "{made:?}");
    let image = format!("docker://{}/app@{DIGEST}", server.addr);
    let out = step(
        dir.path(),
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
    );
    assert_external_failure(dir.path(), &out, &server.addr, "sign");
    let out = step(
        dir.path(),
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--json",
            &image,
        ],
    );
    assert_external_failure(dir.path(), &out, &server.addr, "verify");
    std::fs::write(dir.path().join("predicate.json"), "{}").expect("predicate");
    let out = step(
        dir.path(),
        &[
            "attest",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--type",
            "custom",
            "--predicate",
            "predicate.json",
            &image,
        ],
    );
    assert_external_failure(dir.path(), &out, &server.addr, "attest");
    let out = step(
        dir.path(),
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--type",
            "custom",
            "--json",
            &image,
        ],
    );
    assert_external_failure(dir.path(), &out, &server.addr, "verify-attestation");
}

// See: issue 8 item 7
#[test]
fn build_pushing_to_a_registry_that_never_answers_is_exit_3() {
    let server = StallServer::silent();
    let dir = tempfile::tempdir().expect("tmp");
    crate::build::project(dir.path());
    let to = format!("docker://{}/bb", server.addr);
    let out = step(dir.path(), &["build", "bb", "--json", "--to", &to]);
    assert_external_failure(dir.path(), &out, &server.addr, "build");
}
