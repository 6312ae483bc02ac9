//! Keyless `sign --recursive` and `sign --format legacy` (issue 12): one Fulcio certificate
//! (npm `@sigstore/mock` on loopback) signs the index and each platform manifest, checked by
//! sigstore-python for a child and by `cicd verify --github-workflow` for all; the legacy
//! `.sig` layer carries cosign's certificate, chain and Rekor SET bundle, checked by openssl
//! (the signature over the exact payload with the certificate's key, the chain to the mock's
//! root) and accepted by `cicd verify` only for the right identity and root; a keyless legacy
//! `.att` likewise (its DSSE signature checked by openssl, `verify-attestation` accepting it).

use std::process::Command;

use super::keyless::{ISSUER, Mock, SAN, assert_token_only_masked, sigstore_python};
use super::*;
use crate::harness::images;

const WORKFLOW: &str = "acme/ci/.github/workflows/sign.yml@refs/heads/*";

fn keyless(mock: &Mock, args: &[&str]) -> Output {
    let out = mock
        .cicd()
        .args(["sign", "--trust-config", s(&mock.trust())])
        .args(args)
        .output()
        .expect("run cicd");
    assert_token_only_masked(mock, &out);
    out
}

fn verify(mock: &Mock, trust: &Path, policy: &[&str], references: &[String]) -> Output {
    mock.cicd()
        .args(["verify", "--trust-config", s(trust), "--json"])
        .args(policy)
        .args(references)
        .output()
        .expect("run cicd")
}

#[test]
fn keyless_recursive_signs_index_and_platforms_with_one_certificate() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 163);
    let out = keyless(
        &mock,
        &["--recursive", "--json", &format!("oci:{}:v1", s(&lay))],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut expected = vec![img.digest.clone()];
    expected.extend(img.children.iter().cloned());
    let signed: Vec<&str> = v["signed"]
        .as_array()
        .expect("signed")
        .iter()
        .map(|e| e["digest"].as_str().expect("digest"))
        .collect();
    assert_eq!(signed, expected);
    let place = Place::Layout(&lay);
    let bundles: Vec<Value> = expected
        .iter()
        .map(|d| {
            let mut found = place.fallback_bundles(d);
            assert_eq!(found.len(), 1, "{d} has its own signature");
            found.remove(0).1
        })
        .collect();
    let cert = |b: &Value| b["verificationMaterial"]["certificate"]["rawBytes"].clone();
    assert!(cert(&bundles[0]).is_string());
    assert!(
        bundles.iter().all(|b| cert(b) == cert(&bundles[0])),
        "one certificate signs them all"
    );
    let indexes: Vec<&Value> = bundles
        .iter()
        .map(|b| &b["verificationMaterial"]["tlogEntries"][0]["logIndex"])
        .collect();
    assert!(indexes.windows(2).all(|w| w[0] != w[1]), "{indexes:?}");

    let (ok, log) = sigstore_python(tmp.path(), &mock.trust(), &bundles[1], &expected[1]);
    assert!(ok && log.contains("OK: verified"), "sigstore-python: {log}");

    let refs: Vec<String> = expected
        .iter()
        .map(|d| format!("oci:{}@{d}", s(&lay)))
        .collect();
    let out = verify(
        &mock,
        &mock.trust(),
        &["--github-workflow", WORKFLOW],
        &refs,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    for (verdict, d) in v.as_array().expect("verdicts").iter().zip(&expected) {
        assert_eq!(verdict["digest"], *d);
        assert_eq!(verdict["verified"], true);
        assert_eq!(verdict["signatures"][0]["identity"], SAN);
    }
    let other = "acme/other/.github/workflows/sign.yml";
    let out = verify(&mock, &mock.trust(), &["--github-workflow", other], &refs);
    assert_eq!(out.status.code(), Some(1));
}

/// The PEM certificates in `text`, one string each.
fn pems(text: &str) -> Vec<String> {
    text.split_inclusive("-----END CERTIFICATE-----")
        .filter(|p| p.contains("-----BEGIN CERTIFICATE-----"))
        .map(|p| format!("{}\n", p.trim_start()))
        .collect()
}

/// The mock Fulcio's root, as PEM, from the trust config.
fn fulcio_root(trust: &Path) -> String {
    let t: Value = serde_json::from_slice(&std::fs::read(trust).expect("trust")).expect("json");
    let certs = &t["trustedRoot"]["certificateAuthorities"][0]["certChain"]["certificates"];
    let der = certs.as_array().expect("certs").last().expect("root")["rawBytes"]
        .as_str()
        .expect("rawBytes")
        .to_owned();
    let body: Vec<String> = der
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        body.join("\n")
    )
}

fn openssl(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let openssl = require_tool("openssl", "apt-get install openssl");
    let out = Command::new(openssl).args(args).output().expect("openssl");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// cosign's RekorBundle on the layer `a`: the SET and the hashedrekord entry of this very
/// payload; returned for its log index.
fn check_rekor_bundle(a: &Value, payload: &[u8]) -> Value {
    let text = |k: &str| a[k].as_str().unwrap_or_else(|| panic!("{k}: {a:#}"));
    let rb: Value = serde_json::from_str(text("dev.sigstore.cosign/bundle")).expect("bundle");
    assert!(
        STANDARD
            .decode(rb["SignedEntryTimestamp"].as_str().expect("SET"))
            .is_ok()
    );
    assert!(rb["Payload"]["integratedTime"].is_i64(), "{rb:#}");
    assert!(rb["Payload"]["logIndex"].is_i64(), "{rb:#}");
    let log_id = rb["Payload"]["logID"].as_str().expect("logID");
    assert!(log_id.len() == 64 && log_id.bytes().all(|b| b.is_ascii_hexdigit()));
    let body: Value = serde_json::from_slice(
        &STANDARD
            .decode(rb["Payload"]["body"].as_str().expect("body"))
            .expect("b64"),
    )
    .expect("body JSON");
    assert_eq!(body["kind"], "hashedrekord");
    let sha = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().expect("stdin").write_all(payload)?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    let sha = String::from_utf8_lossy(&sha.stdout);
    assert_eq!(
        body["spec"]["data"]["hash"]["value"].as_str(),
        sha.split_whitespace().next()
    );

    rb
}

/// openssl checks the layer `a`: the signature over the exact payload with the certificate's
/// key, the certificate chain from the mock's root (and not from another root).
fn check_with_openssl(dir: &Path, mock: &Mock, a: &Value, payload: &[u8]) {
    let text = |k: &str| a[k].as_str().unwrap_or_else(|| panic!("{k}: {a:#}"));
    // openssl: the signature over the exact payload with the certificate's key…
    let leaf = dir.join("leaf.pem");
    std::fs::write(&leaf, text("dev.sigstore.cosign/certificate")).expect("leaf");
    let public = dir.join("leaf.pub");
    let (ok, log) = openssl(&[
        "x509".as_ref(),
        "-in".as_ref(),
        leaf.as_os_str(),
        "-pubkey".as_ref(),
        "-noout".as_ref(),
        "-out".as_ref(),
        public.as_os_str(),
    ]);
    assert!(ok, "{log}");
    let sig = STANDARD
        .decode(text("dev.cosignproject.cosign/signature"))
        .expect("b64");
    assert!(
        openssl_verifies(dir, &public, payload, &sig),
        "openssl rejects the payload signature"
    );
    // …and the chain from the mock's root.
    let chain = pems(text("dev.sigstore.cosign/chain"));
    assert!(!chain.is_empty(), "{a:#}");
    let untrusted = dir.join("chain.pem");
    std::fs::write(&untrusted, chain.concat()).expect("chain");
    let root = dir.join("root.pem");
    std::fs::write(&root, fulcio_root(&mock.trust())).expect("root");
    let (ok, log) = openssl(&[
        "verify".as_ref(),
        "-CAfile".as_ref(),
        root.as_os_str(),
        "-untrusted".as_ref(),
        untrusted.as_os_str(),
        leaf.as_os_str(),
    ]);
    assert!(ok && log.contains("OK"), "openssl verify: {log}");
    let other_root = dir.join("other_root.pem");
    std::fs::write(&other_root, fulcio_root(&mock.untrusted_ca())).expect("root");
    let (ok, _) = openssl(&[
        "verify".as_ref(),
        "-CAfile".as_ref(),
        other_root.as_os_str(),
        leaf.as_os_str(),
    ]);
    assert!(!ok, "openssl accepts the leaf under another root");
}

#[test]
fn keyless_legacy_sig_carries_cosigns_certificate_chain_and_rekor_bundle() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lay = dir.join("lay");
    let image = images::single(&lay, "v1", 900, 31).digest;
    let out = keyless(
        &mock,
        &["--format", "legacy", &format!("oci:{}:v1", s(&lay))],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let place = Place::Layout(&lay);
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
    let p: Value = serde_json::from_slice(&payload).expect("payload JSON");
    assert_eq!(p["critical"]["image"]["docker-manifest-digest"], image);
    let a = &layer["annotations"];
    let rb = check_rekor_bundle(a, &payload);
    check_with_openssl(dir, &mock, a, &payload);
    // cicd verify: the right workflow and root only.
    let reference = vec![format!("oci:{}:v1", s(&lay))];
    let out = verify(
        &mock,
        &mock.trust(),
        &["--github-workflow", WORKFLOW],
        &reference,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let found = &v["signatures"][0];
    assert_eq!(found["format"], "legacy");
    assert_eq!(found["identity"], SAN);
    assert_eq!(found["issuer"], ISSUER);
    assert_eq!(found["log_index"], rb["Payload"]["logIndex"]);
    for (trust, policy, reason) in [
        (
            mock.trust(),
            ["--github-workflow", "acme/other/.github/workflows/x.yml"],
            "identity",
        ),
        (
            mock.untrusted_ca(),
            ["--github-workflow", WORKFLOW],
            "untrusted certificate",
        ),
    ] {
        let out = verify(&mock, &trust, &policy, &reference);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(reason), "{reason}: {stderr}");
    }
}

#[test]
fn keyless_legacy_att_carries_the_certificate_and_a_dsse_entry_and_verifies() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lay = dir.join("lay");
    let image = images::single(&lay, "v1", 700, 37).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let (predicate, want) = super::attest::predicate_file(dir);
    let out = mock
        .cicd()
        .args(["attest", "--format", "legacy", "--type", "cyclonedx"])
        .args([
            "--predicate",
            s(&predicate),
            "--trust-config",
            s(&mock.trust()),
        ])
        .arg(&reference)
        .output()
        .expect("attest");
    assert_token_only_masked(&mock, &out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let place = Place::Layout(&lay);
    let m = place
        .manifest(&format!("sha256-{}.att", &image[7..]))
        .expect(".att manifest");
    let layer = &m["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
    let a = &layer["annotations"];
    assert_eq!(a["predicateType"], "https://cyclonedx.org/bom");
    let rb: Value = serde_json::from_str(a["dev.sigstore.cosign/bundle"].as_str().expect("bundle"))
        .expect("json");
    let body: Value = serde_json::from_slice(
        &STANDARD
            .decode(rb["Payload"]["body"].as_str().expect("body"))
            .expect("b64"),
    )
    .expect("body JSON");
    assert_eq!(body["kind"], "dsse");
    // openssl: the DSSE signature over the PAE with the certificate's key.
    let leaf = dir.join("leaf.pem");
    std::fs::write(
        &leaf,
        a["dev.sigstore.cosign/certificate"].as_str().expect("cert"),
    )
    .expect("leaf");
    let public = dir.join("leaf.pub");
    let (ok, log) = openssl(&[
        "x509".as_ref(),
        "-in".as_ref(),
        leaf.as_os_str(),
        "-pubkey".as_ref(),
        "-noout".as_ref(),
        "-out".as_ref(),
        public.as_os_str(),
    ]);
    assert!(ok, "{log}");
    let envelope: Value = serde_json::from_slice(
        &place
            .blob(layer["digest"].as_str().expect("digest"))
            .expect("envelope"),
    )
    .expect("envelope JSON");
    let statement = check_dsse_independently(dir, &public, &envelope, &image);
    assert_eq!(statement["predicate"], want);

    let verify = |trust: &Path| {
        mock.cicd()
            .args(["verify-attestation", "--type", "cyclonedx", "--json"])
            .args(["--trust-config", s(trust), "--github-workflow", WORKFLOW])
            .arg(&reference)
            .output()
            .expect("verify-attestation")
    };
    let out = verify(&mock.trust());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let found = &v["verified"][0];
    assert_eq!(found["format"], "legacy");
    assert_eq!(found["signer"]["identity"], SAN);
    assert_eq!(found["signer"]["log_index"], rb["Payload"]["logIndex"]);
    assert_eq!(found["predicate"], want);
    let out = verify(&mock.untrusted_ca());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("untrusted certificate"), "{stderr}");
}
