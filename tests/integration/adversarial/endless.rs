//! Adversarial cases for small inputs that never end: a config, ignore file, credentials file,
//! CA bundle, build record, key or predicate that is a symlink to `/dev/zero` (or simply
//! huge). Each was read whole before being parsed, so cicd grew until memory ran out; now each
//! is read up to a cap and refused with exit 2, naming the file and the cap, with nothing on
//! stdout and no `$GITHUB_OUTPUT` written.

use std::path::Path;
use std::time::Duration;

use crate::harness::{cicd, data};

/// Runs `cicd ARGS` in `dir` with `$GITHUB_OUTPUT` set and `envs`; asserts exit 2, an error
/// naming `shown` and a byte cap, no stdout and an empty `$GITHUB_OUTPUT`.
fn refused(dir: &Path, envs: &[(&str, &Path)], args: &[&str], shown: &str) {
    let output = dir.join("github_output");
    std::fs::write(&output, "").expect("output file");
    let mut cmd = cicd();
    cmd.current_dir(dir)
        .args(args)
        .env("GITHUB_OUTPUT", &output)
        .timeout(Duration::from_secs(60));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cicd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(shown), "{args:?} names {shown}: {stderr}");
    assert!(stderr.contains("bytes"), "{args:?} names the cap: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a result");
    let written = std::fs::read_to_string(&output).expect("output");
    assert!(written.is_empty(), "{args:?} wrote outputs: {written}");
}

/// `path` → `/dev/zero`.
fn endless(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", path).expect("symlink");
}

#[test]
fn a_config_ignore_file_credentials_or_ca_bundle_that_never_ends_is_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    // One directory per case: a config that never ends would stop every later command.
    let case = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).expect("case dir");
        dir
    };

    // Named with --config, a config that never ends is cut at the cap; found by the search,
    // a link out of the tree is not even opened.
    let dir = &case("config");
    endless(&dir.join("cicd.yaml"));
    refused(
        dir,
        &[],
        &["plan", "matrix", "--config", "cicd.yaml"],
        "cicd.yaml",
    );
    let plan_matrix = |dir: &Path| {
        let out = cicd()
            .current_dir(dir)
            .args(["plan", "matrix"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        out
    };
    let out = plan_matrix(dir);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a symlink to /dev/zero"),
        "{out:?}"
    );
    // A dangling `cicd.yaml` is an error too, never the defaults.
    let dir = &case("dangling");
    std::os::unix::fs::symlink("missing.yaml", dir.join("cicd.yaml")).expect("symlink");
    let out = plan_matrix(dir);
    assert!(out.stdout.is_empty(), "{out:?}");

    let dir = &case("ignore");
    endless(&dir.join("ignore/.trivyignore"));
    let report = data("trivy/image.json");
    let report = report.to_str().expect("utf-8 path");
    refused(
        dir,
        &[],
        &[
            "check",
            "trivy",
            report,
            "--ignorefile",
            "ignore/.trivyignore",
        ],
        ".trivyignore",
    );

    // Credentials are read before anything is sent: no server is needed.
    let dir = &case("credentials");
    endless(&dir.join("docker/config.json"));
    refused(
        dir,
        &[
            ("DOCKER_CONFIG", &dir.join("docker")),
            ("REGISTRY_AUTH_FILE", &dir.join("none.json")),
        ],
        &["image", "inspect", "docker://127.0.0.1:9/app:v1"],
        "config.json",
    );

    let dir = &case("ca");
    endless(&dir.join("ca.pem"));
    refused(
        dir,
        &[],
        &[
            "image",
            "inspect",
            "--ca-cert",
            "ca.pem",
            "docker://127.0.0.1:9/app:v1",
        ],
        "ca.pem",
    );
}

#[test]
fn a_key_predicate_or_build_record_that_never_ends_is_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    endless(&dir.join("cosign.pub"));
    endless(&dir.join("cosign.key"));
    endless(&dir.join("predicate.json"));
    endless(&dir.join("record.json"));
    // Keys and predicates are read before any registry is asked: none is needed.
    let image = "docker://127.0.0.1:9/app@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let password = Path::new("");
    refused(
        dir,
        &[],
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            image,
        ],
        "cosign.pub",
    );
    refused(
        dir,
        &[("CICD_KEY_PASSWORD", password)],
        &["sign", "--key", "cosign.key", "--tlog-upload=false", image],
        "cosign.key",
    );
    refused(
        dir,
        &[("CICD_KEY_PASSWORD", password)],
        &[
            "attest",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--predicate",
            "predicate.json",
            "--type",
            "custom",
            image,
        ],
        "predicate.json",
    );
    refused(
        dir,
        &[],
        &["build", "merge", "--to", "oci:./out", "record.json"],
        "record.json",
    );
}
