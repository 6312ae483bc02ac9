//! Hostile unsigned SBOM artifacts for `cicd sbom --attach` / `--from-attached` (issue 13):
//! whoever can push can attach one, so an empty, truncated or workflow-command-carrying
//! document, a blob that is a symlink out of the layout and an empty or truncated layout are
//! each refused with their own exit code, nothing written to the output file, stdout or
//! `$GITHUB_OUTPUT`, and no line that opens a workflow command.

use std::path::Path;
use std::process::Output;

use serde_json::json;

use crate::harness::{cicd, images};

const CYCLONEDX: &str = "application/vnd.cyclonedx+json";

/// `cicd ARGS` as a workflow step runs it.
fn step(dir: &Path, args: &[&str]) -> Output {
    cicd()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("github_output"))
        .env("CICD_NOW", "2026-01-31T12:00:00Z")
        .args(args)
        .output()
        .expect("run cicd")
}

/// Attaches `document` to the single image in `lay` as an unsigned SBOM artifact, listed in
/// the `sha256-<hex>` referrers index; returns the layer blob's path.
fn attach_raw(lay: &Path, subject: &str, document: &[u8]) -> std::path::PathBuf {
    let size = std::fs::metadata(lay.join("blobs/sha256").join(&subject[7..]))
        .expect("subject")
        .len();
    let (layer, layer_size) = images::put(lay, document);
    let (config, config_size) = images::put(lay, b"{}");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": CYCLONEDX,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": CYCLONEDX, "digest": layer, "size": layer_size}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": size},
    });
    let (m, m_size) = images::put(lay, manifest.to_string().as_bytes());
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m,
            "size": m_size, "artifactType": CYCLONEDX}]});
    let (i, i_size) = images::put(lay, index.to_string().as_bytes());
    let tag = format!("sha256-{}", &subject[7..]);
    images::tag_in_index(
        lay,
        "application/vnd.oci.image.index.v1+json",
        &i,
        i_size,
        &tag,
    );
    lay.join("blobs/sha256").join(&layer[7..])
}

/// Nothing a workflow reads as a result: no output file, no `$GITHUB_OUTPUT` line, nothing on
/// stdout, and no line on either stream that starts a workflow command.
fn assert_nothing_handed_on(dir: &Path, out: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.is_empty(), "{what}: printed {stdout}");
    assert!(!dir.join("out.json").exists(), "{what}: wrote --output");
    let outputs = std::fs::read_to_string(dir.join("github_output")).unwrap_or_default();
    assert!(outputs.trim().is_empty(), "{what}: wrote outputs {outputs}");
    for line in stdout.lines().chain(stderr.lines()) {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") && !t.starts_with("##["),
            "{what}: {line}"
        );
    }
}

#[test]
fn an_empty_truncated_or_command_carrying_attached_sbom_is_exit_1_and_handed_on_nowhere() {
    let cases: [(&str, &[u8]); 3] = [
        ("empty", b""),
        (
            "truncated",
            br#"{"bomFormat":"CycloneDX","components":[{"name":"#,
        ),
        ("workflow command", b"{}\n::error::pwned\n##[error]pwned\n"),
    ];
    for (what, document) in cases {
        let tmp = tempfile::tempdir().expect("tmp");
        let lay = tmp.path().join("lay");
        let img = images::single(&lay, "v1", 600, 4501);
        attach_raw(&lay, &img.digest, document);
        let reference = format!("oci:{}:v1", lay.display());
        for args in [
            vec![
                "sbom",
                &reference,
                "--from-attached",
                "--output",
                "out.json",
            ],
            vec!["sbom", &reference, "--from-attached"],
        ] {
            let out = step(tmp.path(), &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what} {args:?}: {stderr}");
            assert!(
                stderr.contains("is not a JSON document"),
                "{what}: {stderr}"
            );
            assert_nothing_handed_on(tmp.path(), &out, what);
        }
    }
}

#[test]
fn a_valid_sbom_listed_after_a_broken_one_is_the_one_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 600, 4502);
    let reference = format!("oci:{}:v1", lay.display());
    // A broken attachment listed first; cicd's own is appended to the same index.
    attach_raw(&lay, &img.digest, b"{\"bomFormat\":");
    let attach = step(tmp.path(), &["sbom", &reference, "--attach"]);
    assert_eq!(attach.status.code(), Some(0));
    let direct = step(tmp.path(), &["sbom", &reference]);
    let out = step(tmp.path(), &["sbom", &reference, "--from-attached"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, direct.stdout);
}

#[test]
fn an_attached_blob_that_is_a_symlink_out_of_the_layout_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 600, 4503);
    let document = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}"#;
    let blob = attach_raw(&lay, &img.digest, document);
    // Same bytes, so the digest would match: only the confinement refuses it.
    let outside = tmp.path().join("outside.json");
    std::fs::write(&outside, document).expect("outside");
    std::fs::remove_file(&blob).expect("rm");
    std::os::unix::fs::symlink(&outside, &blob).expect("symlink");
    let reference = format!("oci:{}:v1", lay.display());
    let out = step(
        tmp.path(),
        &[
            "sbom",
            &reference,
            "--from-attached",
            "--output",
            "out.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("symbolic link leading outside the layout"),
        "{stderr}"
    );
    assert_nothing_handed_on(tmp.path(), &out, "symlinked blob");
}

#[test]
fn attach_to_an_empty_or_truncated_layout_is_exit_2_and_writes_nothing() {
    for (what, index) in [("empty", ""), ("truncated", r#"{"schemaVersion":2,"manif"#)] {
        let tmp = tempfile::tempdir().expect("tmp");
        let lay = tmp.path().join("lay");
        images::single(&lay, "v1", 600, 4504);
        std::fs::write(lay.join("index.json"), index).expect("index");
        let reference = format!("oci:{}:v1", lay.display());
        let out = step(tmp.path(), &["sbom", &reference, "--attach"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains("index.json"), "{what}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(lay.join("index.json")).expect("index"),
            index,
            "{what}: the layout was rewritten"
        );
        assert_nothing_handed_on(tmp.path(), &out, what);
    }
}
