//! `cicd image copy|tag|inspect` against a real docker-registry and skopeo, both ways.

use std::path::Path;

use serde_json::Value;

use crate::harness::images;
use crate::harness::registry::plain;
use crate::harness::{cicd, require_tool, run_tool};

fn json_of(args: &[&str]) -> Value {
    let out = cicd().args(args).output().expect("run cicd");
    assert!(
        out.status.success(),
        "cicd {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No progress bar or chatter when nobody watches a terminal.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn skopeo(args: &[&str]) -> String {
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let os: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let (ok, text) = run_tool(&bin, &os);
    assert!(ok, "skopeo {args:?}: {text}");
    text
}

fn oci(dir: &Path, tag: &str) -> String {
    format!("oci:{}:{tag}", dir.display())
}

#[test]
fn layout_to_registry_to_layout_keeps_every_digest_and_skopeo_agrees() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::multi(&src, "v1", 11);
    let dst = format!("docker://{}/copy/multi:v1", reg.addr);
    let copied = json_of(&["image", "copy", &oci(&src, "v1"), &dst, "--json"]);
    assert_eq!(copied["digest"], img.digest.as_str());
    assert_eq!(copied["manifests"].as_array().expect("list").len(), 3);
    // Two platforms, each a config and a layer.
    assert_eq!(copied["blobs"].as_array().expect("blobs").len(), 4);
    // skopeo sees the same bytes.
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &dst]);
    assert_eq!(cicd::oci::digest::sha256(raw.as_bytes()), img.digest);
    // skopeo pulls what cicd pushed, every platform, byte for byte.
    let pulled = tmp.path().join("skopeo-pulled");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &dst,
        &oci(&pulled, "p"),
    ]);
    let by_skopeo = json_of(&["image", "inspect", &oci(&pulled, "p"), "--json"]);
    assert_eq!(by_skopeo["digest"], img.digest.as_str());
    let inspected = json_of(&["image", "inspect", &dst, "--json"]);
    assert_eq!(inspected["digest"], img.digest.as_str());
    assert_eq!(
        inspected["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let platforms: Vec<&str> = inspected["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["platform"].as_str().expect("platform"))
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(
        inspected["manifests"][1]["digest"],
        img.children[1].as_str()
    );
    // Back to a layout, which skopeo copies on.
    let back = tmp.path().join("back");
    json_of(&["image", "copy", &dst, &oci(&back, "again"), "--json"]);
    let again = tmp.path().join("skopeo-copy");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        &oci(&back, "again"),
        &oci(&again, "x"),
    ]);
    let via_skopeo = json_of(&["image", "inspect", &oci(&again, "x"), "--json"]);
    assert_eq!(via_skopeo["digest"], img.digest.as_str());
    // Re-copy moves no blob.
    let re = json_of(&["image", "copy", &oci(&src, "v1"), &dst, "--json"]);
    assert_eq!(re["bytes_uploaded"], 0);
}

#[test]
fn skopeo_pushes_and_cicd_copies_one_platform() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::multi(&src, "v1", 21);
    let pushed = format!("docker://{}/skopeo/pushed:v1", reg.addr);
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &oci(&src, "v1"),
        &pushed,
    ]);
    let arm = tmp.path().join("arm");
    let copied = json_of(&[
        "image",
        "copy",
        &pushed,
        &oci(&arm, "arm"),
        "--platform",
        "linux/arm64",
        "--json",
    ]);
    assert_eq!(copied["digest"], img.children[1].as_str());
    let out = skopeo(&["inspect", "--raw", &oci(&arm, "arm")]);
    assert_eq!(cicd::oci::digest::sha256(out.as_bytes()), img.children[1]);
}

#[test]
fn cross_repo_copy_mounts_and_uploads_no_bytes() {
    let reg = plain();
    let proxy = crate::harness::proxy::Proxy::start(&reg.addr);
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 200_000, 31);
    let a = format!("docker://{}/mount/a:v1", proxy.addr);
    json_of(&["image", "copy", &oci(&src, "v1"), &a, "--json"]);
    assert!(proxy.uploaded.load(std::sync::atomic::Ordering::Relaxed) > 200_000);
    proxy
        .uploaded
        .store(0, std::sync::atomic::Ordering::Relaxed);
    let b = format!("docker://{}/mount/b:v2", proxy.addr);
    let copied = json_of(&["image", "copy", &a, &b, "--json"]);
    assert_eq!(copied["digest"], img.digest.as_str());
    assert_eq!(copied["blobs_mounted"], 2);
    assert_eq!(proxy.uploaded.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn signatures_and_attestations_travel_with_the_image() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 5000, 41);
    let sig = images::attach(&src, &img.digest, ".sig", "signature payload");
    let att = images::attach(&src, &img.digest, ".att", "attestation payload");
    // An SBOM known only through the referrers fallback tag (docker-registry has no API).
    let sbom_tag = images::attach(&src, &img.digest, ".unlisted", "sbom payload");
    let fallback = images::referrers_fallback(&src, &img.digest, &[&sbom_tag]);
    let first = format!("docker://{}/attach/a:v1", reg.addr);
    let copied = json_of(&["image", "copy", &oci(&src, "v1"), &first, "--json"]);
    assert_eq!(copied["attachments"].as_array().expect("list").len(), 3);
    // Registry to registry (promotion) keeps them too.
    let second = format!("docker://{}/attach/b:prod", reg.addr);
    json_of(&["image", "copy", &first, &second, "--json"]);
    let hex = &img.digest[7..];
    for (suffix, digest) in [(".sig", &sig), (".att", &att), ("", &fallback)] {
        let tag = format!("docker://{}/attach/b:sha256-{hex}{suffix}", reg.addr);
        let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &tag]);
        assert_eq!(&cicd::oci::digest::sha256(raw.as_bytes()), digest);
    }
    let inspected = json_of(&["image", "inspect", &second, "--json"]);
    let tags: Vec<&str> = inspected["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .map(|a| a["tag"].as_str().expect("tag"))
        .collect();
    assert_eq!(
        tags,
        [
            format!("sha256-{hex}.sig"),
            format!("sha256-{hex}.att"),
            format!("sha256-{hex}")
        ]
    );
    // The referrer listed in the fallback index came along, by digest.
    let referrer = format!("docker://{}/attach/b@{sbom_tag}", reg.addr);
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &referrer]);
    assert_eq!(cicd::oci::digest::sha256(raw.as_bytes()), sbom_tag);
}

#[test]
fn tag_puts_only_a_manifest() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 1000, 51);
    let repo = format!("docker://{}/tagging/app", reg.addr);
    json_of(&[
        "image",
        "copy",
        &oci(&src, "v1"),
        &format!("{repo}:v1"),
        "--json",
    ]);
    let by_digest = format!("{repo}@{}", img.digest);
    let tagged = json_of(&["image", "tag", &by_digest, "1.0", "stable", "--json"]);
    assert_eq!(tagged["tags"], serde_json::json!(["1.0", "stable"]));
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{repo}:stable"),
    ]);
    assert_eq!(cicd::oci::digest::sha256(raw.as_bytes()), img.digest);
    // In a layout too.
    json_of(&["image", "tag", &oci(&src, "v1"), "latest", "--json"]);
    let again = json_of(&["image", "inspect", &oci(&src, "latest"), "--json"]);
    assert_eq!(again["digest"], img.digest.as_str());
}

#[test]
fn missing_image_and_bad_input_exit_codes() {
    let reg = plain();
    cicd()
        .args([
            "image",
            "inspect",
            &format!("docker://{}/none/here:v1", reg.addr),
        ])
        .assert()
        .code(3);
    cicd()
        .args(["image", "inspect", "docker://UPPER/x"])
        .assert()
        .code(2);
    cicd()
        .args(["image", "copy", "oci-archive:x.tar", "oci:y"])
        .assert()
        .code(2);
    let tmp = tempfile::tempdir().expect("tmp");
    cicd()
        .args(["image", "inspect", &format!("oci:{}", tmp.path().display())])
        .assert()
        .code(2);
}

/// buildah builds and pushes a two-platform manifest list in Docker's v2s2 format; cicd
/// inspects it, copies it into a layout and on to another repository, digests unchanged.
#[test]
fn buildah_docker_manifest_list_round_trips() {
    let reg = plain();
    let buildah = require_tool("buildah", "apt-get install buildah");
    let tmp = tempfile::tempdir().expect("tmp");
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).expect("mkdir");
    std::fs::write(ctx.join("hello.txt"), "hello from buildah\n").expect("write");
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\n",
    )
    .expect("write");
    let root = tmp.path().join("root");
    let runroot = tmp.path().join("runroot");
    let base = |args: &[&str]| {
        let out = std::process::Command::new(&buildah)
            .arg("--root")
            .arg(&root)
            .arg("--runroot")
            .arg(&runroot)
            .args(["--storage-driver", "vfs"])
            .args(args)
            .output()
            .expect("run buildah");
        assert!(
            out.status.success(),
            "buildah {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ctx_s = ctx.display().to_string();
    base(&[
        "bud",
        "--isolation",
        "chroot",
        "--platform",
        "linux/amd64,linux/arm64",
        "--manifest",
        "cicd-test-list",
        &ctx_s,
    ]);
    let pushed = format!("docker://{}/buildah/app:v1", reg.addr);
    base(&[
        "manifest",
        "push",
        "--all",
        "--format",
        "v2s2",
        "--tls-verify=false",
        "cicd-test-list",
        &pushed,
    ]);
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &pushed]);
    let digest = cicd::oci::digest::sha256(raw.as_bytes());
    let inspected = json_of(&["image", "inspect", &pushed, "--json"]);
    assert_eq!(inspected["digest"], digest.as_str());
    assert_eq!(
        inspected["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    let mut platforms: Vec<&str> = inspected["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["platform"].as_str().expect("platform"))
        .collect();
    platforms.sort_unstable();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    let layout = tmp.path().join("layout");
    let copied = json_of(&["image", "copy", &pushed, &oci(&layout, "v1"), "--json"]);
    assert_eq!(copied["digest"], digest.as_str());
    let again = format!("docker://{}/buildah/again:v1", reg.addr);
    json_of(&["image", "copy", &oci(&layout, "v1"), &again, "--json"]);
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &again]);
    assert_eq!(cicd::oci::digest::sha256(raw.as_bytes()), digest);
}

/// A signature attached to one platform after the image was promoted still travels on the
/// next copy, although every manifest is already there.
#[test]
fn late_platform_signature_is_copied_on_recopy() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::multi(&src, "v1", 121);
    let dst = format!("docker://{}/late/app:v1", reg.addr);
    let first = json_of(&["image", "copy", &oci(&src, "v1"), &dst, "--json"]);
    assert_eq!(first["attachments"], serde_json::json!([]));
    let sig = images::attach(&src, &img.children[1], ".sig", "late signature");
    let again = json_of(&["image", "copy", &oci(&src, "v1"), &dst, "--json"]);
    // Only the signature's payload and its `{}` config move.
    assert_eq!(again["bytes_uploaded"], "late signature".len() + 2);
    let tag = format!("sha256-{}.sig", &img.children[1][7..]);
    assert_eq!(again["attachments"], serde_json::json!([tag]));
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/late/app:{tag}", reg.addr),
    ]);
    assert_eq!(cicd::oci::digest::sha256(raw.as_bytes()), sig);
}
