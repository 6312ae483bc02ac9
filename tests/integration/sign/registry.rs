//! Signing images in a real registry: docker-registry (no referrers API: the `sha256-<hex>`
//! fallback index) and the harness proxy that serves the referrers API in front of it.

use super::*;
use crate::harness::images;
use crate::harness::proxy::Proxy;
use crate::harness::registry::plain;

fn push(tmp: &Path, addr: &str, repo: &str, seed: u64) -> String {
    let lay = tmp.join(format!("src{seed}"));
    let img = images::single(&lay, "v1", 1500, seed);
    ok(&[
        "image",
        "copy",
        &format!("oci:{}:v1", s(&lay)),
        &format!("docker://{addr}/{repo}:v1"),
    ]);
    img.digest
}

#[test]
fn both_formats_in_a_registry_without_the_referrers_api() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let repo = "sign/plain";
    let image = push(tmp.path(), &reg.addr, repo, 61);
    let reference = format!("docker://{}/{repo}:v1", reg.addr);
    ok(&["sign", "--key", s(&key), "--tlog-upload=false", &reference]);
    ok(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--format",
        "legacy",
        &reference,
    ]);
    let place = Place::Registry {
        addr: &reg.addr,
        repo,
    };
    let found = place.fallback_bundles(&image);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0["subject"]["digest"], image.as_str());
    check_bundle_independently(tmp.path(), &public, &found[0].1, &image);
    check_legacy_independently(tmp.path(), &public, &place, &image);
    let v: Value = serde_json::from_str(&ok(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--json",
        &format!("docker://{}/{repo}@{image}", reg.addr),
    ]))
    .expect("json");
    assert_eq!(v["verified"], true);
    // As cosign v3: the bundle holds, so the legacy `.sig` is not read (nor listed).
    assert_eq!(v["signatures"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["signatures"][0]["format"], "bundle");
    // A digest the repository does not have: its manifest is not fetched (as cosign v3), and
    // nothing is signed for it.
    let absent = format!("docker://{}/{repo}@sha256:{}", reg.addr, "0".repeat(64));
    let out = cicd()
        .args([
            "verify",
            "--key",
            s(&public),
            "--insecure-ignore-tlog",
            &absent,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signature"));
}

#[test]
fn bundle_through_the_referrers_api_writes_no_fallback_tag() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().serve_referrers = true;
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let repo = "sign/refapi";
    let image = push(tmp.path(), &proxy.addr, repo, 71);
    let reference = format!("docker://{}/{repo}:v1", proxy.addr);
    ok(&["sign", "--key", s(&key), "--tlog-upload=false", &reference]);
    let place = Place::Registry {
        addr: &reg.addr,
        repo,
    };
    assert!(
        place.manifest(&format!("sha256-{}", &image[7..])).is_none(),
        "a registry with the referrers API gets no fallback tag"
    );
    ok(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &reference,
    ]);
    // Re-signing finds the referrer through the API and writes nothing.
    let again: Value = serde_json::from_str(&ok(&[
        "sign",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--json",
        &reference,
    ]))
    .expect("json");
    assert_eq!(again["written"], false);
}
