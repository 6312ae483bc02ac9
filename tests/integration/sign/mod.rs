//! `cicd keygen`, `cicd sign`, `cicd verify`, `cicd attest`, `cicd verify-attestation`:
//! cosign's key format, both signature and attestation layouts on `oci:` layouts and a real
//! registry (with and without the referrers API), every signature checked by code we did not
//! write (openssl, python `cryptography`/PyNaCl).

pub mod attest;
mod attest_negative;
mod interop;
pub mod keyless;
mod keyless_attest;
mod keyless_more;
mod layout;
mod negative;
mod recursive;
mod registry;
mod rekor_attest;
mod rekor_v2;
mod sbom_attach;
mod vuln_attest;

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::proxy::roundtrip;
use crate::harness::{cicd, require_tool, run_tool};

pub const PASSWORD: &str = "Pw-sign-3c1f-never-print-me";
pub const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// A bare trusted root: it names no Rekor to log to.
pub const ROOT_ONLY: &str = r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}"#;

/// Runs cicd with the key password in the environment; asserts it never comes back out.
pub fn run(args: &[&str]) -> Output {
    let out = cicd()
        .env("CICD_KEY_PASSWORD", PASSWORD)
        .env("CICD_NOW", "2026-01-31T12:00:00Z")
        .args(args)
        .output()
        .expect("run cicd");
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(PASSWORD),
            "the key password leaked into the output of {args:?}"
        );
    }
    out
}

pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "cicd {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `cicd keygen --prefix DIR/NAME`: the key and public key paths.
pub fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    ok(&["keygen", "--prefix", prefix.to_str().expect("utf8")]);
    (prefix.with_extension("key"), prefix.with_extension("pub"))
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// Where attachments are read back from, without cicd: files of a layout, or HTTP.
pub enum Place<'a> {
    Layout(&'a Path),
    Registry { addr: &'a str, repo: &'a str },
}

impl Place<'_> {
    /// A manifest by tag or digest, or `None`.
    pub fn manifest(&self, reference: &str) -> Option<Value> {
        match self {
            Place::Layout(dir) => {
                let digest = if reference.starts_with("sha256:") {
                    reference.to_owned()
                } else {
                    let index: Value =
                        serde_json::from_slice(&std::fs::read(dir.join("index.json")).ok()?)
                            .ok()?;
                    index["manifests"].as_array()?.iter().find(|m| {
                        m["annotations"]["org.opencontainers.image.ref.name"] == reference
                    })?["digest"]
                        .as_str()?
                        .to_owned()
                };
                serde_json::from_slice(&self.blob(&digest)?).ok()
            }
            Place::Registry { addr, repo } => {
                let accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";
                let (status, _, body) = roundtrip(
                    addr,
                    "GET",
                    &format!("/v2/{repo}/manifests/{reference}"),
                    &[("Accept", accept)],
                    b"",
                )
                .expect("GET manifest");
                (status == 200).then(|| serde_json::from_slice(&body).expect("manifest JSON"))
            }
        }
    }

    pub fn blob(&self, digest: &str) -> Option<Vec<u8>> {
        match self {
            Place::Layout(dir) => std::fs::read(dir.join("blobs/sha256").join(&digest[7..])).ok(),
            Place::Registry { addr, repo } => {
                let (status, _, body) =
                    roundtrip(addr, "GET", &format!("/v2/{repo}/blobs/{digest}"), &[], b"")
                        .expect("GET blob");
                (status == 200).then_some(body)
            }
        }
    }

    /// The bundle referrers listed in the `sha256-<hex>` fallback index.
    pub fn fallback_bundles(&self, subject: &str) -> Vec<(Value, Value)> {
        let Some(index) = self.manifest(&format!("sha256-{}", &subject[7..])) else {
            return Vec::new();
        };
        index["manifests"]
            .as_array()
            .expect("index")
            .iter()
            .map(|entry| {
                let m = self
                    .manifest(entry["digest"].as_str().expect("digest"))
                    .expect("referrer manifest");
                let layer = m["layers"][0]["digest"].as_str().expect("layer").to_owned();
                let b = serde_json::from_slice(&self.blob(&layer).expect("bundle blob"))
                    .expect("bundle JSON");
                (m, b)
            })
            .collect()
    }
}

/// openssl verifies `sig_der` over `data` with `public` (ECDSA P-256, SHA-256).
pub fn openssl_verifies(dir: &Path, public: &Path, data: &[u8], sig_der: &[u8]) -> bool {
    let openssl = require_tool("openssl", "apt-get install openssl");
    let data_path = dir.join("signed.bin");
    let sig_path = dir.join("sig.der");
    std::fs::write(&data_path, data).expect("write data");
    std::fs::write(&sig_path, sig_der).expect("write sig");
    let (ok, out) = run_tool(
        &openssl,
        &[
            "dgst".as_ref(),
            "-sha256".as_ref(),
            "-verify".as_ref(),
            public.as_os_str(),
            "-signature".as_ref(),
            sig_path.as_os_str(),
            data_path.as_os_str(),
        ],
    );
    ok && out.contains("Verified OK")
}

/// Checks a bundle the way an outside verifier would: the DSSE PAE with openssl, then the
/// statement's subject digest and predicate type.
pub fn check_bundle_independently(dir: &Path, public: &Path, bundle: &Value, image: &str) {
    assert_eq!(bundle["mediaType"], BUNDLE);
    let statement = check_dsse_independently(dir, public, &bundle["dsseEnvelope"], image);
    assert_eq!(
        statement["predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
}

/// Checks a DSSE envelope with openssl over its PAE, and that its in-toto statement v1 names
/// `image` (no name); returns the statement.
pub fn check_dsse_independently(dir: &Path, public: &Path, env: &Value, image: &str) -> Value {
    let payload_type = env["payloadType"].as_str().expect("payloadType");
    assert_eq!(payload_type, "application/vnd.in-toto+json");
    let payload = STANDARD
        .decode(env["payload"].as_str().expect("payload"))
        .expect("b64 payload");
    let sig = STANDARD
        .decode(env["signatures"][0]["sig"].as_str().expect("sig"))
        .expect("b64 sig");
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(&payload);
    assert!(
        openssl_verifies(dir, public, &pae, &sig),
        "openssl rejects the DSSE signature"
    );
    let statement: Value = serde_json::from_slice(&payload).expect("statement JSON");
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], image[7..]);
    assert!(statement["subject"][0].get("name").is_none());
    statement
}

/// Checks a legacy `.sig` layer with openssl over the exact payload; returns the payload.
pub fn check_legacy_independently(dir: &Path, public: &Path, place: &Place, image: &str) -> Value {
    let m = place
        .manifest(&format!("sha256-{}.sig", &image[7..]))
        .expect(".sig manifest");
    let layer = &m["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let payload = place
        .blob(layer["digest"].as_str().expect("digest"))
        .expect("payload");
    let sig = STANDARD
        .decode(
            layer["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .expect("signature annotation"),
        )
        .expect("b64");
    assert!(
        openssl_verifies(dir, public, &payload, &sig),
        "openssl rejects the payload signature"
    );
    let p: Value = serde_json::from_slice(&payload).expect("payload JSON");
    assert_eq!(p["critical"]["image"]["docker-manifest-digest"], image);
    assert_eq!(p["critical"]["type"], "cosign container image signature");
    m
}

/// No file under `dir` holds the key password in the clear.
pub fn assert_password_absent(dir: &Path) {
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "the key password is in {}",
            entry.display()
        );
    }
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub fn index(lay: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(lay.join("index.json")).expect("index")).expect("json")
}

pub fn tagged(lay: &Path, tag: &str) -> Value {
    index(lay)["manifests"]
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["annotations"][REF_NAME] == tag)
        .cloned()
        .expect("tag present")
}

/// Points `tag` at `desc` in the layout's index.json (replacing what it named).
pub fn retag(lay: &Path, tag: &str, desc: &Value) {
    let mut idx = index(lay);
    let list = idx["manifests"].as_array_mut().expect("list");
    list.retain(|m| m["annotations"][REF_NAME] != tag);
    if !desc.is_null() {
        let mut d = desc.clone();
        d["annotations"] = json!({ REF_NAME: tag });
        list.push(d);
    }
    std::fs::write(lay.join("index.json"), idx.to_string()).expect("write index");
}

pub fn put(lay: &Path, bytes: &[u8]) -> String {
    let d = cicd::oci::digest::sha256(bytes);
    std::fs::write(lay.join("blobs/sha256").join(&d[7..]), bytes).expect("write blob");
    d
}
