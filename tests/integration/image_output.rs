//! What people read from `cicd image`: plain output and error messages, with the registry
//! address, temporary paths and digests redacted.

use crate::harness::cicd;
use crate::harness::images;
use crate::harness::registry::{htpasswd, plain};

fn run(args: &[&str], env: &[(&str, &str)], redact: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = cicd();
    cmd.env_remove("CICD_REGISTRY_USERNAME")
        .env_remove("CICD_REGISTRY_PASSWORD")
        .env("DOCKER_CONFIG", "/nonexistent-cicd-test")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run cicd");
    let mut text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (from, to) in redact {
        text = text.replace(from, to);
    }
    (out.status.code().unwrap_or(-1), text)
}

macro_rules! redacted {
    ($text:expr, @$snap:literal) => {
        insta::with_settings!({filters => vec![(r"sha256:[0-9a-f]{64}", "sha256:[digest]"), (r"sha256-[0-9a-f]{64}", "sha256-[hex]")]}, {
            insta::assert_snapshot!($text, @$snap);
        })
    };
}

#[test]
fn copy_inspect_and_tag_read_well() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::multi(&src, "v1", 111);
    images::attach(&src, &img.digest, ".sig", "sig");
    let dir = tmp.path().display().to_string();
    let redact = [(dir.as_str(), "TMP"), (reg.addr.as_str(), "REGISTRY")];
    let from = format!("oci:{}:v1", src.display());
    let dst = format!("docker://{}/output/app:v1", reg.addr);
    let (code, text) = run(&["image", "copy", &from, &dst], &[], &redact);
    assert_eq!(code, 0, "{text}");
    redacted!(text, @"
    copied oci:TMP/src:v1 -> docker://REGISTRY/output/app:v1
      digest sha256:[digest]
      manifests 4, blobs copied 6, already there 0, mounted 0, attachments 1
    ");
    let (code, text) = run(&["image", "inspect", &dst], &[], &redact);
    assert_eq!(code, 0, "{text}");
    redacted!(text, @"
    docker://REGISTRY/output/app:v1
      digest     sha256:[digest]
      media type application/vnd.oci.image.index.v1+json
      linux/amd64      sha256:[digest] (1 layer, 4793 bytes)
      linux/arm64      sha256:[digest] (1 layer, 5305 bytes)
      attached   sha256-[hex].sig -> sha256:[digest]
    ");
    let (code, text) = run(&["image", "tag", &dst, "stable"], &[], &redact);
    assert_eq!(code, 0, "{text}");
    redacted!(text, @"tagged sha256:[digest] as stable");
}

#[test]
fn errors_say_what_where_and_what_to_do() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    images::single(&src, "v1", 100, 112);
    let dir = tmp.path().display().to_string();
    let redact = [(dir.as_str(), "TMP"), (reg.addr.as_str(), "REGISTRY")];
    let from = format!("oci:{}:v1", src.display());
    let dst = format!("docker://{}/output/app:v1", reg.addr);
    let (code, text) = run(&["image", "copy", &from, &dst], &[], &redact);
    assert_eq!(code, 3);
    redacted!(text, @"error: registry REGISTRY answered 401 for output/app: no credentials for REGISTRY: set CICD_REGISTRY_USERNAME and CICD_REGISTRY_PASSWORD, or run `cicd image login REGISTRY`");
    let (code, text) = run(
        &["image", "copy", &from, &dst],
        &[
            ("CICD_REGISTRY_USERNAME", "tester"),
            ("CICD_REGISTRY_PASSWORD", "wrong"),
        ],
        &redact,
    );
    assert_eq!(code, 3);
    redacted!(text, @"error: registry REGISTRY answered 401 for output/app: the credentials from CICD_REGISTRY_USERNAME/CICD_REGISTRY_PASSWORD were refused: correct them there, or run `cicd image login REGISTRY`");
    let (code, text) = run(&["image", "inspect", "oci:"], &[], &redact);
    assert_eq!(code, 2);
    redacted!(text, @"error: invalid image location `oci:`: use docker://HOST/REPO[:TAG|@DIGEST] or oci:PATH[:TAG]");
    let (code, text) = run(
        &["image", "inspect", &format!("oci:{dir}/src:nope")],
        &[],
        &redact,
    );
    // A tag missing from the user's own layout is bad input.
    assert_eq!(code, 2);
    redacted!(text, @"error: image layout TMP/src: has no image tagged `nope`");
    let (code, text) = run(
        &["image", "copy", &from, "oci:x", "--platform", "linux"],
        &[],
        &redact,
    );
    assert_eq!(code, 2);
    redacted!(text, @"error: --platform `linux`: expected os/arch[/variant]");
}

/// Inside GitHub Actions: the `digest` output is written, and a login password is never
/// printed — not even in an `::add-mask::` line (issue 8 item 9: it never appears, so there
/// is nothing to mask, and the mask line itself would carry it into any captured stdout).
#[test]
fn github_actions_outputs_and_no_password_anywhere() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 100, 113);
    let output = tmp.path().join("github_output");
    let out = cicd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("DOCKER_CONFIG", tmp.path().join("docker"))
        .env("CICD_REGISTRY_USERNAME", crate::harness::registry::USER)
        .env("CICD_REGISTRY_PASSWORD", crate::harness::registry::PASSWORD)
        .args(["image", "login", &reg.addr])
        .output()
        .expect("login");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("::add-mask::"), "{stdout}");
    assert!(!stdout.contains(crate::harness::registry::PASSWORD));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(crate::harness::registry::PASSWORD));
    let out = cicd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("DOCKER_CONFIG", tmp.path().join("docker"))
        .args([
            "image",
            "copy",
            &format!("oci:{}:v1", src.display()),
            &format!("docker://{}/actions/app:v1", reg.addr),
        ])
        .output()
        .expect("copy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&output).expect("GITHUB_OUTPUT");
    assert_eq!(written, format!("digest={}\n", img.digest));
}

/// `--offline` works on layouts and refuses registries (exit 2) before touching the network.
#[test]
fn offline_allows_layouts_only() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 100, 114);
    let dir = tmp.path().display().to_string();
    let redact = [(dir.as_str(), "TMP")];
    let from = format!("oci:{}:v1", src.display());
    let to = format!("oci:{}:v2", tmp.path().join("dst").display());
    let (code, text) = run(&["--offline", "image", "copy", &from, &to], &[], &redact);
    assert_eq!(code, 0, "{text}");
    let (code, text) = run(
        &["--offline", "image", "inspect", &to, "--json"],
        &[],
        &redact,
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&img.digest));
    let (code, text) = run(
        &[
            "--offline",
            "image",
            "copy",
            &from,
            "docker://127.0.0.1:9/x:v1",
        ],
        &[],
        &redact,
    );
    assert_eq!(code, 2);
    redacted!(text, @"error: docker://127.0.0.1:9/x:v1 is a registry and --offline forbids the network; use an oci:PATH layout");
}
