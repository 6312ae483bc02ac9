//! `cicd attest` and `cicd verify-attestation` (issue 12 item 5): both layouts in `oci:`
//! layouts and a real registry with and without the referrers API, each attestation checked
//! with openssl over the DSSE PAE, then verified by cicd by predicate type.

use super::*;
use crate::harness::images;
use crate::harness::proxy::Proxy;
use crate::harness::registry::plain;

pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
pub const DSSE_LAYER: &str = "application/vnd.dsse.envelope.v1+json";

/// A small CycloneDX document as a predicate file.
pub fn predicate_file(dir: &Path) -> (PathBuf, Value) {
    let predicate = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "name": "zlib", "version": "1.3"}]});
    let path = dir.join("bom.json");
    std::fs::write(&path, predicate.to_string()).expect("write predicate");
    (path, predicate)
}

/// The bundle referrers of `image` whose annotation names `predicate_type`.
pub fn attested(place: &Place, image: &str, predicate_type: &str) -> Vec<(Value, Value)> {
    place
        .fallback_bundles(image)
        .into_iter()
        .filter(|(m, _)| m["annotations"]["dev.sigstore.bundle.predicateType"] == predicate_type)
        .collect()
}

/// The DSSE envelopes in `sha256-<hex>.att`, with their layer annotations.
pub fn legacy_envelopes(place: &Place, image: &str) -> Vec<(Value, Value)> {
    let Some(m) = place.manifest(&format!("sha256-{}.att", &image[7..])) else {
        return Vec::new();
    };
    m["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| {
            assert_eq!(l["mediaType"], DSSE_LAYER);
            let blob = place
                .blob(l["digest"].as_str().expect("digest"))
                .expect("layer");
            (
                serde_json::from_slice(&blob).expect("envelope JSON"),
                l["annotations"].clone(),
            )
        })
        .collect()
}

pub fn attest(key: &Path, predicate: &Path, type_: &str, format: &str, reference: &str) -> String {
    ok(&[
        "attest",
        "--key",
        s(key),
        "--tlog-upload=false",
        "--predicate",
        s(predicate),
        "--type",
        type_,
        "--format",
        format,
        reference,
    ])
}

pub fn verify_attestation(public: &Path, type_: &str, reference: &str) -> Output {
    run(&[
        "verify-attestation",
        "--key",
        s(public),
        "--insecure-ignore-tlog",
        "--type",
        type_,
        reference,
    ])
}

/// Attests in both layouts at `reference` and checks every piece without cicd, then with it.
fn both_layouts(tmp: &Path, place: &Place, image: &str, reference: &str) {
    let (key, public) = keygen(tmp, "cosign");
    let (file, predicate) = predicate_file(tmp);
    attest(&key, &file, "cyclonedx", "bundle", reference);
    attest(&key, &file, "cyclonedx", "legacy", reference);

    let found = attested(place, image, CYCLONEDX);
    assert_eq!(found.len(), 1);
    let (manifest, bundle) = &found[0];
    assert_eq!(manifest["artifactType"], BUNDLE);
    assert_eq!(manifest["subject"]["digest"], image);
    assert_eq!(
        manifest["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );
    let statement = check_dsse_independently(tmp, &public, &bundle["dsseEnvelope"], image);
    assert_eq!(statement["predicateType"], CYCLONEDX);
    assert_eq!(statement["predicate"], predicate);

    let legacy = legacy_envelopes(place, image);
    assert_eq!(legacy.len(), 1);
    assert_eq!(legacy[0].1["predicateType"], CYCLONEDX);
    let statement = check_dsse_independently(tmp, &public, &legacy[0].0, image);
    assert_eq!(statement["predicate"], predicate);

    let out = verify_attestation(&public, "cyclonedx", reference);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both verified predicates are printed, each the file's document.
    let docs: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .map(|v| v.expect("JSON document"))
        .collect();
    assert_eq!(docs, [predicate.clone(), predicate]);
    // An attestation is not a signature.
    let out = run(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        reference,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signature"));
    assert_password_absent(tmp);
}

#[test]
fn both_layouts_in_an_oci_layout() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 900, 101);
    let reference = format!("oci:{}:v1", s(&lay));
    both_layouts(tmp.path(), &Place::Layout(&lay), &img.digest, &reference);
}

fn push(tmp: &Path, addr: &str, repo: &str, seed: u64) -> String {
    let lay = tmp.join(format!("src{seed}"));
    let img = images::single(&lay, "v1", 1100, seed);
    ok(&[
        "image",
        "copy",
        &format!("oci:{}:v1", s(&lay)),
        &format!("docker://{addr}/{repo}:v1"),
    ]);
    img.digest
}

#[test]
fn both_layouts_in_a_registry_without_the_referrers_api() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = "attest/plain";
    let image = push(tmp.path(), &reg.addr, repo, 111);
    let place = Place::Registry {
        addr: &reg.addr,
        repo,
    };
    let reference = format!("docker://{}/{repo}@{image}", reg.addr);
    both_layouts(tmp.path(), &place, &image, &reference);
}

#[test]
fn bundle_through_the_referrers_api_is_found_by_type() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    proxy.faults().serve_referrers = true;
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let (file, predicate) = predicate_file(tmp.path());
    let repo = "attest/refapi";
    let image = push(tmp.path(), &proxy.addr, repo, 121);
    let reference = format!("docker://{}/{repo}:v1", proxy.addr);
    attest(&key, &file, "cyclonedx", "bundle", &reference);
    let slsa = tmp.path().join("slsa.json");
    std::fs::write(&slsa, r#"{"buildDefinition":{"buildType":"x"}}"#).expect("write");
    attest(&key, &slsa, "slsaprovenance1", "bundle", &reference);
    let place = Place::Registry {
        addr: &reg.addr,
        repo,
    };
    assert!(
        place.manifest(&format!("sha256-{}", &image[7..])).is_none(),
        "a registry with the referrers API gets no fallback tag"
    );
    let out = run(&[
        "verify-attestation",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--type",
        "cyclonedx",
        "--json",
        &reference,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["predicate_type"], CYCLONEDX);
    assert_eq!(v["verified"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["verified"][0]["predicate"], predicate);
    assert_eq!(v["verified"][0]["signer"]["kind"], "key");
    assert_eq!(v["verified"][0]["created"], "2026-01-31T12:00:00Z");
    // The other type's referrer is not even read as a candidate.
    assert_eq!(v["rejected"], json!([]));
    let out = verify_attestation(&public, "https://slsa.dev/provenance/v1", &reference);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn custom_type_wraps_the_text_as_cosign_does_and_reattesting_is_idempotent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 700, 131);
    let reference = format!("oci:{}:v1", s(&lay));
    let file = tmp.path().join("note.txt");
    std::fs::write(&file, "reviewed by ops\n").expect("write");
    let first: Value = serde_json::from_str(&ok(&[
        "attest",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--predicate",
        s(&file),
        "--json",
        &reference,
    ]))
    .expect("json");
    assert_eq!(
        first["predicate_type"],
        "https://cosign.sigstore.dev/attestation/v1"
    );
    assert_eq!(first["attested"][0]["written"], true);
    let again: Value = serde_json::from_str(&ok(&[
        "attest",
        "--key",
        s(&key),
        "--tlog-upload=false",
        "--predicate",
        s(&file),
        "--json",
        &reference,
    ]))
    .expect("json");
    assert_eq!(again["attested"][0]["written"], false);
    assert_eq!(
        again["attested"][0]["manifest"],
        first["attested"][0]["manifest"]
    );
    let out = verify_attestation(&public, "custom", &reference);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v,
        json!({"Data": "reviewed by ops\n", "Timestamp": "2026-01-31T12:00:00Z"})
    );
}

#[test]
fn attest_and_verify_attestation_output() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let (_, other) = keygen(tmp.path(), "other");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 600, 141);
    let reference = format!("oci:{}:v1", s(&lay));
    let (file, _) = predicate_file(tmp.path());
    let filters = vec![
        (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
        (r"sha256-[0-9a-f]{64}", "sha256-[hex]"),
        (r"oci:/\S+:v1", "oci:[layout]:v1"),
        (r"key [A-Za-z0-9+/=]{44}", "key [hint]"),
    ];
    let attested = attest(&key, &file, "cyclonedx", "bundle", &reference);
    let verified = verify_attestation(&public, "cyclonedx", &reference);
    let refused = verify_attestation(&other, "cyclonedx", &reference);
    let absent = verify_attestation(&public, "vuln", &reference);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty(), "nothing verified is printed");
    assert_eq!(absent.status.code(), Some(1));
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(attested, @r"
        attested sha256:[digest] (https://cyclonedx.org/bom)
          attestation sha256:[digest]
        ");
        insta::assert_snapshot!(String::from_utf8_lossy(&verified.stderr), @r"
        resolved oci:[layout]:v1 to sha256:[digest]
        verified bundle attestation sha256:[digest] https://cyclonedx.org/bom about sha256:[digest] (signed by key [hint], no transparency-log entry checked)
        ");
        insta::assert_snapshot!(String::from_utf8_lossy(&refused.stderr), @r"
        resolved oci:[layout]:v1 to sha256:[digest]
        error: attestation verification failed for sha256:[digest]: bundle sha256:[digest]: wrong key: signed by another key (the bundle's key hint differs)
        ");
        insta::assert_snapshot!(String::from_utf8_lossy(&absent.stderr), @r"
        resolved oci:[layout]:v1 to sha256:[digest]
        error: attestation verification failed for sha256:[digest]: no attestation: sha256:[digest] has no https://cosign.sigstore.dev/attestation/vuln/v1 attestation (no bundle referrer and no sha256-<hex>.att layer of that type)
        ");
    });
}
