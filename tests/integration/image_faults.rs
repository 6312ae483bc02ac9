//! Copies through a fault-injecting proxy still end with identical digests; damaged bytes
//! are refused (exit 3) and the destination tag is never written.

use std::sync::atomic::Ordering;

use crate::harness::images;
use crate::harness::proxy::Proxy;
use crate::harness::registry::plain;
use crate::harness::{cicd, require_tool, run_tool};

fn copy(src: &str, dst: &str) -> std::process::Output {
    cicd()
        .args(["image", "copy", src, dst, "--json"])
        .output()
        .expect("run cicd")
}

fn tag_exists(reference: &str) -> bool {
    let skopeo = require_tool("skopeo", "apt-get install skopeo");
    let args = ["inspect", "--raw", "--tls-verify=false", reference];
    let os: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    run_tool(&skopeo, &os).0
}

#[test]
fn retries_5xx_429_and_broken_bodies() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 300_000, 61);
    let origin = format!("docker://{}/faults/origin:v1", reg.addr);
    let out = copy(&format!("oci:{}:v1", src.display()), &origin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proxy = Proxy::start(&reg.addr);
    {
        let mut f = proxy.faults();
        f.statuses
            .extend([(503, None), (500, None), (429, Some(1))]);
        f.cut_blobs = 1;
        f.truncate_blobs = 1;
        f.truncate_manifests = 1;
    }
    // Pull through the proxy into a layout, then push through it to another repository.
    let pulled = tmp.path().join("pulled");
    let via = format!("docker://{}/faults/origin:v1", proxy.addr);
    let out = copy(&via, &format!("oci:{}:v1", pulled.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["digest"], img.digest.as_str());
    // The cut and the truncated download resumed with `Range` instead of starting over.
    assert!(proxy.ranged.load(Ordering::Relaxed) >= 2);
    {
        let mut f = proxy.faults();
        assert!(
            f.statuses.is_empty()
                && f.cut_blobs == 0
                && f.truncate_blobs == 0
                && f.truncate_manifests == 0,
            "faults not hit"
        );
        f.statuses.extend([(503, Some(0)), (502, None)]);
    }
    let out = copy(
        &format!("oci:{}:v1", pulled.display()),
        &format!("docker://{}/faults/pushed:v1", proxy.addr),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tag_exists(&format!(
        "docker://{}/faults/pushed:v1",
        reg.addr
    )));
}

#[test]
fn a_flipped_blob_byte_is_refused_and_nothing_is_tagged() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    images::single(&src, "v1", 100_000, 71);
    let origin = format!("docker://{}/tamper/origin:v1", reg.addr);
    assert!(
        copy(&format!("oci:{}:v1", src.display()), &origin)
            .status
            .success()
    );
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().flip_blobs = true;
    let via = format!("docker://{}/tamper/origin:v1", proxy.addr);
    // Registry to layout: cicd's own hash check.
    let layout = tmp.path().join("dst");
    let out = copy(&via, &format!("oci:{}:v1", layout.display()));
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not match its digest"), "{stderr}");
    let index = std::fs::read_to_string(layout.join("index.json")).unwrap_or_default();
    assert!(!index.contains("\"v1\""), "{index}");
    // Registry to another registry: the upload is broken off, the tag never written.
    let other = format!("docker://{}/tamper/other:v1", reg.addr);
    let out = copy(&via, &other);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!tag_exists(&other));
    assert!(proxy.requests.load(Ordering::Relaxed) > 0);
}

#[test]
fn a_flipped_manifest_byte_is_refused() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 1000, 81);
    let origin = format!("docker://{}/tamper/manifest:v1", reg.addr);
    assert!(
        copy(&format!("oci:{}:v1", src.display()), &origin)
            .status
            .success()
    );
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().flip_manifests = true;
    let by_digest = format!("docker://{}/tamper/manifest@{}", proxy.addr, img.digest);
    let layout = tmp.path().join("dst");
    let out = copy(&by_digest, &format!("oci:{}:v1", layout.display()));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match its digest"));
    let index = std::fs::read_to_string(layout.join("index.json")).unwrap_or_default();
    assert!(!index.contains("\"v1\""), "{index}");
}

#[test]
fn chunked_upload_survives_a_failed_chunk() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 2_600_000, 101);
    proxy.faults().fail_patch = Some(1);
    let dst = format!("docker://{}/chunked/app:v1", proxy.addr);
    let out = cicd()
        .args(["image", "copy", &format!("oci:{}:v1", src.display()), &dst])
        .args(["--chunk-size", "1", "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["digest"], img.digest.as_str());
    // 3 chunks of the layer and one retried; the config is small enough for one streamed
    // PATCH.
    assert_eq!(proxy.patches.load(Ordering::Relaxed), 5);
    assert!(proxy.faults().fail_patch.is_none());
    assert!(tag_exists(&format!("docker://{}/chunked/app:v1", reg.addr)));
}
