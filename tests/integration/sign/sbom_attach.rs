//! `cicd sbom --attach` and `--from-attached` (issue 13 item 4): one CycloneDX attestation
//! per platform manifest, subject that platform's digest, checked with openssl; read back
//! verified with the public key.

use super::attest::{CYCLONEDX, attested};
use super::*;
use crate::harness::images;

#[test]
fn each_platform_gets_its_own_sbom_attestation_and_reads_back_verified() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let (_, other) = keygen(tmp.path(), "other");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 191);
    let reference = format!("oci:{}:v1", s(&lay));
    let out = run(&[
        "sbom",
        &reference,
        "--attach",
        "--key",
        s(&key),
        "--tlog-upload=false",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "--attach without --output prints no SBOM"
    );
    let place = Place::Layout(&lay);
    assert!(
        attested(&place, &img.digest, CYCLONEDX).is_empty(),
        "the index itself gets none: its platforms do"
    );
    for (child, arch) in img.children.iter().zip(["amd64", "arm64"]) {
        assert!(stderr.contains(&format!("to {child}")), "{stderr}");
        let found = attested(&place, child, CYCLONEDX);
        assert_eq!(found.len(), 1, "{child}");
        assert_eq!(found[0].0["subject"]["digest"], child.as_str());
        let st = check_dsse_independently(tmp.path(), &public, &found[0].1["dsseEnvelope"], child);
        assert_eq!(st["predicateType"], CYCLONEDX);
        // The predicate is exactly what `cicd sbom` writes for that platform.
        let direct: Value = serde_json::from_str(&ok(&[
            "sbom",
            &reference,
            "--platform",
            &format!("linux/{arch}"),
        ]))
        .expect("sbom JSON");
        assert_eq!(st["predicate"], direct);
        assert_eq!(st["predicate"]["bomFormat"], "CycloneDX");
    }

    let out_file = tmp.path().join("back.json");
    ok(&[
        "sbom",
        &reference,
        "--from-attached",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        "--output",
        s(&out_file),
    ]);
    for (child, arch) in img.children.iter().zip(["amd64", "arm64"]) {
        let back: Value = serde_json::from_slice(
            &std::fs::read(tmp.path().join(format!("back.linux-{arch}.json"))).expect("written"),
        )
        .expect("json");
        let found = attested(&place, child, CYCLONEDX);
        let st = check_dsse_independently(tmp.path(), &public, &found[0].1["dsseEnvelope"], child);
        assert_eq!(back, st["predicate"]);
    }
    let out = run(&[
        "sbom",
        &reference,
        "--from-attached",
        "--key",
        s(&other),
        "--insecure-ignore-tlog",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong key"));
}

#[test]
fn attach_refuses_what_it_cannot_do_with_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 500, 201);
    let reference = format!("oci:{}:v1", s(&lay));
    let root_only = tmp.path().join("trusted_root.json");
    std::fs::write(&root_only, ROOT_ONLY).expect("write root");
    for (args, reason) in [
        (
            vec!["sbom", &reference, "--attach", "--key", s(&key)],
            "--tlog-upload=false",
        ),
        (
            vec![
                "sbom",
                "dir:/tmp",
                "--attach",
                "--key",
                s(&key),
                "--tlog-upload=false",
            ],
            "not dir:",
        ),
    ] {
        // Uploading is the default: a trust root naming no Rekor has nowhere to log to.
        let out = cicd()
            .env("CICD_KEY_PASSWORD", PASSWORD)
            .env("CICD_TRUST_CONFIG", &root_only)
            .args(&args)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "expected `{reason}` in {stderr}");
    }
}
