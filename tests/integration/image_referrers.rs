//! `cicd image copy` and OCI 1.1 referrers through the referrers API. docker-registry 2.8 has
//! no such API (404), so the harness proxy plays a registry that has one
//! (`Faults::serve_referrers`): it answers `GET /v2/<name>/referrers/<digest>` from the
//! manifests it reads back from the real registry behind it, and passes everything else on.

use std::sync::atomic::Ordering;

use cicd::oci::digest::sha256;
use serde_json::{Value, json};

use crate::harness::images;
use crate::harness::proxy::{Answer, Proxy, roundtrip};
use crate::harness::registry::plain;
use crate::harness::{cicd, require_tool};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const SBOM_TYPE: &str = "application/vnd.example.sbom.v1";
const SIG_TYPE: &str = "application/vnd.example.signature.v1";

fn json_of(args: &[&str]) -> Value {
    let out = cicd().args(args).output().expect("run cicd");
    assert!(
        out.status.success(),
        "cicd {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn get(addr: &str, path: &str, accept: &str) -> Answer {
    roundtrip(addr, "GET", path, &[("Accept", accept)], b"").expect("GET")
}

/// A blob upload as any client does it: `POST` a session, then one monolithic `PUT ?digest=`.
fn push_blob(addr: &str, repo: &str, bytes: &[u8]) -> Value {
    let d = sha256(bytes);
    let (status, headers, body) = roundtrip(
        addr,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    )
    .expect("POST upload");
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let location = header(&headers, "Location").expect("Location");
    // Absolute (`http://host/v2/…`) or a path; keep the path and query.
    let path = location
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or(location);
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, _, body) = roundtrip(
        addr,
        "PUT",
        &format!("{path}{sep}digest={d}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    )
    .expect("PUT blob");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    json!({"digest": d, "size": bytes.len()})
}

struct Artifact {
    digest: String,
    bytes: Vec<u8>,
    layer: String,
}

/// Pushes an OCI artifact manifest with `subject` by digest (`PUT manifests/<digest>`).
fn push_artifact(
    addr: &str,
    repo: &str,
    subject: (&str, u64),
    artifact_type: &str,
    config: (&str, &[u8]),
    layer: (&str, &[u8]),
    annotations: Value,
) -> Artifact {
    let mut c = push_blob(addr, repo, config.1);
    c["mediaType"] = config.0.into();
    let mut l = push_blob(addr, repo, layer.1);
    l["mediaType"] = layer.0.into();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": c,
        "layers": [l],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.0, "size": subject.1},
        "annotations": annotations,
    });
    let bytes = manifest.to_string().into_bytes();
    let digest = sha256(&bytes);
    let (status, headers, body) = roundtrip(
        addr,
        "PUT",
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Content-Type", OCI_MANIFEST)],
        &bytes,
    )
    .expect("PUT manifest");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    // A registry with the referrers API acknowledges the subject (distribution-spec 1.1).
    assert_eq!(header(&headers, "OCI-Subject"), Some(subject.0));
    Artifact {
        digest,
        bytes,
        layer: l["digest"].as_str().expect("digest").to_owned(),
    }
}

/// Pretty JSON with every `sha256:<64 hex>` replaced by a placeholder, for a snapshot.
fn redacted(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).expect("json");
    let text = text.as_str();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 7..];
        let hex_len = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(if hex_len == 64 {
            "sha256:[digest]"
        } else {
            "sha256:"
        });
        rest = &tail[if hex_len == 64 { 64 } else { 0 }..];
    }
    out.push_str(rest);
    out
}

fn digests(index: &Value) -> Vec<String> {
    let mut d: Vec<String> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["digest"].as_str().expect("digest").to_owned())
        .collect();
    d.sort();
    d
}

fn skopeo_raw(reference: &str) -> Vec<u8> {
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let out = std::process::Command::new(&bin)
        .args(["inspect", "--raw", "--tls-verify=false", reference])
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect --raw {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An image with an SBOM and a signature attached through `subject`, on a registry with the
/// referrers API: copied to a registry without it (docker-registry itself), both referrers
/// arrive byte for byte and the `sha256-<hex>` fallback index lists them; copied to a
/// repository with the API, they arrive and no fallback tag is written.
#[test]
fn referrers_api_attachments_travel_to_registries_with_and_without_the_api() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().serve_referrers = true;
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 4000, 301);
    let image_size = std::fs::metadata(src.join("blobs/sha256").join(&img.digest[7..]))
        .expect("manifest blob")
        .len();
    let source = format!("docker://{}/refapi/src:v1", proxy.addr);
    json_of(&[
        "image",
        "copy",
        &format!("oci:{}:v1", src.display()),
        &source,
        "--json",
    ]);

    let sbom = push_artifact(
        &proxy.addr,
        "refapi/src",
        (&img.digest, image_size),
        SBOM_TYPE,
        ("application/vnd.oci.empty.v1+json", b"{}"),
        ("application/spdx+json", br#"{"spdxVersion":"SPDX-2.3"}"#),
        json!({"org.opencontainers.image.created": "2026-01-01T00:00:00Z", "org.example.sbom.format": "spdx"}),
    );
    let sig = push_artifact(
        &proxy.addr,
        "refapi/src",
        (&img.digest, image_size),
        SIG_TYPE,
        (
            "application/vnd.example.signature.config.v1+json",
            br#"{"keyid":"test"}"#,
        ),
        ("application/octet-stream", b"signature bytes"),
        json!({"org.example.signature.fingerprint": "abcd"}),
    );
    let mut both = vec![sbom.digest.clone(), sig.digest.clone()];
    both.sort();

    // The real registry has no referrers API; the proxy answers per distribution-spec 1.1.
    let api = format!("/v2/refapi/src/referrers/{}", img.digest);
    let (status, _, _) = get(&reg.addr, &api, OCI_INDEX);
    assert_eq!(status, 404, "docker-registry 2.8 has no referrers API");
    let (status, headers, body) = get(&proxy.addr, &api, OCI_INDEX);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Content-Type"), Some(OCI_INDEX));
    assert_eq!(header(&headers, "OCI-Filters-Applied"), None);
    let index: Value = serde_json::from_slice(&body).expect("index");
    assert_eq!(digests(&index), both);
    let by_digest = |d: &str| {
        index["manifests"]
            .as_array()
            .expect("list")
            .iter()
            .find(|m| m["digest"] == d)
            .cloned()
            .expect("listed")
    };
    assert_eq!(by_digest(&sbom.digest)["size"], sbom.bytes.len());
    assert_eq!(by_digest(&sig.digest)["size"], sig.bytes.len());
    insta::assert_snapshot!(redacted(&json!([by_digest(&sbom.digest), by_digest(&sig.digest)])), @r#"
    [
      {
        "annotations": {
          "org.example.sbom.format": "spdx",
          "org.opencontainers.image.created": "2026-01-01T00:00:00Z"
        },
        "artifactType": "application/vnd.example.sbom.v1",
        "digest": "sha256:[digest]",
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "size": 688
      },
      {
        "annotations": {
          "org.example.signature.fingerprint": "abcd"
        },
        "artifactType": "application/vnd.example.signature.v1",
        "digest": "sha256:[digest]",
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "size": 664
      }
    ]
    "#);
    // `?artifactType=` is honoured and says so.
    let (status, headers, body) = get(
        &proxy.addr,
        &format!("{api}?artifactType={SBOM_TYPE}"),
        OCI_INDEX,
    );
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "OCI-Filters-Applied"),
        Some("artifactType")
    );
    let filtered: Value = serde_json::from_slice(&body).expect("index");
    assert_eq!(digests(&filtered), [sbom.digest.as_str()]);
    // A malformed digest is a 400, never a 404.
    let (status, _, _) = get(
        &proxy.addr,
        "/v2/refapi/src/referrers/sha256:nothex",
        OCI_INDEX,
    );
    assert_eq!(status, 400);

    // (a) To a registry without the API: docker-registry directly, another repository.
    let served_before = proxy.referrers_served.load(Ordering::Relaxed);
    let dst = format!("docker://{}/refapi/dst:v1", reg.addr);
    let copied = json_of(&["image", "copy", &source, &dst, "--json"]);
    assert!(
        proxy.referrers_served.load(Ordering::Relaxed) > served_before,
        "cicd asked the source's referrers API"
    );
    let hex = &img.digest[7..];
    let fallback_tag = format!("sha256-{hex}");
    assert_eq!(copied["digest"], img.digest.as_str());
    assert_eq!(copied["attachments"], json!([fallback_tag]));
    let manifests: Vec<&str> = copied["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m.as_str().expect("digest"))
        .collect();
    for d in [&img.digest, &sbom.digest, &sig.digest] {
        assert!(manifests.contains(&d.as_str()), "{d} copied: {manifests:?}");
    }
    // Both referrers are there by digest, byte for byte, with their blobs.
    for a in [&sbom, &sig] {
        let (status, _, got) = get(
            &reg.addr,
            &format!("/v2/refapi/dst/manifests/{}", a.digest),
            OCI_MANIFEST,
        );
        assert_eq!(status, 200);
        assert_eq!(got, a.bytes);
        let (status, _, blob) = get(
            &reg.addr,
            &format!("/v2/refapi/dst/blobs/{}", a.layer),
            "*/*",
        );
        assert_eq!(status, 200);
        assert_eq!(sha256(&blob), a.layer);
    }
    // The fallback tag holds the source's referrers index, verbatim.
    let (status, _, fallback) = get(
        &reg.addr,
        &format!("/v2/refapi/dst/manifests/{fallback_tag}"),
        OCI_INDEX,
    );
    assert_eq!(status, 200);
    assert_eq!(fallback, body_of_unfiltered(&proxy, &api));
    let fallback_index: Value = serde_json::from_slice(&fallback).expect("index");
    assert_eq!(fallback_index["mediaType"], OCI_INDEX);
    assert_eq!(digests(&fallback_index), both);
    // (c) skopeo and `cicd image inspect` see the attachment at the destination.
    let raw = skopeo_raw(&format!("docker://{}/refapi/dst:{fallback_tag}", reg.addr));
    assert_eq!(raw, fallback);
    for d in [&sbom.digest, &sig.digest] {
        let raw = skopeo_raw(&format!("docker://{}/refapi/dst@{d}", reg.addr));
        assert_eq!(&sha256(&raw), d);
    }
    let inspected = json_of(&["image", "inspect", &dst, "--json"]);
    assert_eq!(
        inspected["attachments"],
        json!([{"subject": img.digest, "tag": fallback_tag, "digest": sha256(&fallback),
            "mediaType": OCI_INDEX}])
    );
    // A registry that turns the API on later lists them from that tag (spec, "Enabling the
    // Referrers API"): the same two, seen through a fresh proxy over the destination.
    let later = Proxy::start(&reg.addr);
    later.faults().serve_referrers = true;
    let (status, _, body) = get(
        &later.addr,
        &format!("/v2/refapi/dst/referrers/{}", img.digest),
        OCI_INDEX,
    );
    assert_eq!(status, 200);
    assert_eq!(
        digests(&serde_json::from_slice(&body).expect("index")),
        both
    );

    // To a repository whose registry has the API (through the proxy): the referrers are
    // pushed with their subject, the API lists them there, and no fallback tag is written.
    let api_dst = format!("docker://{}/refapi/api-dst:v1", proxy.addr);
    let copied = json_of(&["image", "copy", &source, &api_dst, "--json"]);
    assert_eq!(copied["attachments"], json!([]));
    let (status, _, body) = get(
        &proxy.addr,
        &format!("/v2/refapi/api-dst/referrers/{}", img.digest),
        OCI_INDEX,
    );
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_slice(&body).expect("index");
    assert_eq!(listed, index, "the same descriptors as at the source");
    let (status, _, _) = get(
        &reg.addr,
        &format!("/v2/refapi/api-dst/manifests/{fallback_tag}"),
        OCI_INDEX,
    );
    assert_eq!(status, 404, "no fallback tag where the API exists");
    for a in [&sbom, &sig] {
        let raw = skopeo_raw(&format!(
            "docker://{}/refapi/api-dst@{}",
            reg.addr, a.digest
        ));
        assert_eq!(raw, a.bytes);
    }
}

fn body_of_unfiltered(proxy: &Proxy, api: &str) -> Vec<u8> {
    let (status, _, body) = get(&proxy.addr, api, OCI_INDEX);
    assert_eq!(status, 200);
    body
}

/// (b) A source with the referrers API and no referrers: an empty index, and the copy
/// succeeds with nothing attached and no fallback tag at the destination.
#[test]
fn referrers_api_with_no_referrers_copies_cleanly() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().serve_referrers = true;
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 3000, 311);
    let source = format!("docker://{}/refnone/src:v1", proxy.addr);
    json_of(&[
        "image",
        "copy",
        &format!("oci:{}:v1", src.display()),
        &source,
        "--json",
    ]);
    let (status, headers, body) = get(
        &proxy.addr,
        &format!("/v2/refnone/src/referrers/{}", img.digest),
        OCI_INDEX,
    );
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Content-Type"), Some(OCI_INDEX));
    insta::assert_snapshot!(String::from_utf8_lossy(&body), @r#"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#);
    let served_before = proxy.referrers_served.load(Ordering::Relaxed);
    let dst = format!("docker://{}/refnone/dst:v1", reg.addr);
    let copied = json_of(&["image", "copy", &source, &dst, "--json"]);
    assert!(proxy.referrers_served.load(Ordering::Relaxed) > served_before);
    assert_eq!(copied["digest"], img.digest.as_str());
    assert_eq!(copied["attachments"], json!([]));
    assert_eq!(copied["manifests"], json!([img.digest]));
    let (status, _, _) = get(
        &reg.addr,
        &format!("/v2/refnone/dst/manifests/sha256-{}", &img.digest[7..]),
        OCI_INDEX,
    );
    assert_eq!(status, 404, "no fallback tag for no referrers");
    let inspected = json_of(&["image", "inspect", &dst, "--json"]);
    assert_eq!(inspected["attachments"], json!([]));
}

/// A destination without the API whose `sha256-<hex>` list already names a referrer of its
/// own (a scan attached there): the copy appends the source's referrers to that list, as
/// distribution-spec 1.1 asks of clients ("Pushing Manifests with Subject"), instead of
/// replacing it; a second copy leaves the list as it is.
#[test]
fn fallback_list_at_the_destination_is_appended_to_not_replaced() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().serve_referrers = true;
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 2000, 321);
    let image_size = std::fs::metadata(src.join("blobs/sha256").join(&img.digest[7..]))
        .expect("manifest blob")
        .len();
    let layout = format!("oci:{}:v1", src.display());
    let source = format!("docker://{}/refmerge/src:v1", proxy.addr);
    json_of(&["image", "copy", &layout, &source, "--json"]);
    let sbom = push_artifact(
        &proxy.addr,
        "refmerge/src",
        (&img.digest, image_size),
        SBOM_TYPE,
        ("application/vnd.oci.empty.v1+json", b"{}"),
        (
            "application/spdx+json",
            br#"{"spdxVersion":"SPDX-2.3","name":"m"}"#,
        ),
        json!({"org.example.sbom.format": "spdx"}),
    );
    // The destination already has the image and a scan result attached the tag-schema way.
    let dst = format!("docker://{}/refmerge/dst:v1", reg.addr);
    json_of(&["image", "copy", &layout, &dst, "--json"]);
    let scan = push_artifact_plain(&reg.addr, "refmerge/dst", (&img.digest, image_size));
    let hex = &img.digest[7..];
    let existing = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": scan.digest, "size": scan.bytes.len(),
         "artifactType": "application/vnd.example.scan.v1"}]})
    .to_string();
    let (status, _, _) = roundtrip(
        &reg.addr,
        "PUT",
        &format!("/v2/refmerge/dst/manifests/sha256-{hex}"),
        &[("Content-Type", OCI_INDEX)],
        existing.as_bytes(),
    )
    .expect("PUT fallback");
    assert_eq!(status, 201);

    let copied = json_of(&["image", "copy", &source, &dst, "--json"]);
    assert_eq!(copied["attachments"], json!([format!("sha256-{hex}")]));
    let fallback_path = format!("/v2/refmerge/dst/manifests/sha256-{hex}");
    let (status, _, fallback) = get(&reg.addr, &fallback_path, OCI_INDEX);
    assert_eq!(status, 200);
    let list: Value = serde_json::from_slice(&fallback).expect("index");
    let listed: Vec<&str> = list["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["digest"].as_str().expect("digest"))
        .collect();
    // The destination's own entry first, unchanged; the copied SBOM appended.
    assert_eq!(listed, [scan.digest.as_str(), sbom.digest.as_str()]);
    assert_eq!(list["manifests"][1]["artifactType"], SBOM_TYPE);
    assert_eq!(
        list["manifests"][1]["annotations"],
        json!({"org.example.sbom.format": "spdx"})
    );
    // Copying again adds nothing and rewrites nothing.
    let again = json_of(&["image", "copy", &source, &dst, "--json"]);
    assert_eq!(again["attachments"], json!([]));
    let (_, _, after) = get(&reg.addr, &fallback_path, OCI_INDEX);
    assert_eq!(after, fallback);
    // A source without the API (a layout) whose own `sha256-<hex>` list names another
    // referrer: that list is merged in too, not copied over the destination's.
    let other = images::attach(&src, &img.digest, ".unlisted", "provenance payload");
    images::referrers_fallback(&src, &img.digest, &[&other]);
    let copied = json_of(&["image", "copy", &layout, &dst, "--json"]);
    assert_eq!(copied["attachments"], json!([format!("sha256-{hex}")]));
    let (_, _, merged) = get(&reg.addr, &fallback_path, OCI_INDEX);
    let merged: Value = serde_json::from_slice(&merged).expect("index");
    let listed: Vec<&str> = merged["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["digest"].as_str().expect("digest"))
        .collect();
    assert_eq!(listed, [&scan.digest, &sbom.digest, &other]);
    let raw = skopeo_raw(&format!("docker://{}/refmerge/dst@{other}", reg.addr));
    assert_eq!(sha256(&raw), other);
}

/// A scan-result artifact pushed straight to docker-registry (no referrers API there).
fn push_artifact_plain(addr: &str, repo: &str, subject: (&str, u64)) -> Artifact {
    let mut c = push_blob(addr, repo, b"{}");
    c["mediaType"] = "application/vnd.oci.empty.v1+json".into();
    let mut l = push_blob(addr, repo, b"no findings");
    l["mediaType"] = "text/plain".into();
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.scan.v1",
        "config": c, "layers": [l],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.0, "size": subject.1},
    });
    let bytes = manifest.to_string().into_bytes();
    let digest = sha256(&bytes);
    let (status, headers, _) = roundtrip(
        addr,
        "PUT",
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Content-Type", OCI_MANIFEST)],
        &bytes,
    )
    .expect("PUT manifest");
    assert_eq!(status, 201);
    assert_eq!(header(&headers, "OCI-Subject"), None, "docker-registry 2.8");
    Artifact {
        digest,
        bytes,
        layer: l["digest"].as_str().expect("digest").to_owned(),
    }
}
