//! `cicd sbom --attach` without a key (issue 13 item 4): each platform's SBOM as an unsigned
//! OCI 1.1 artifact referring to that platform's manifest, found by skopeo (an independent
//! client) through docker-registry's `sha256-<hex>` referrers index, read back with
//! `--from-attached`; artifacts whose subject is another image are not taken.

use serde_json::Value;

use crate::build::skopeo;
use crate::harness::images;
use crate::harness::registry::plain;
use crate::sign::{ok, run, s};

const CYCLONEDX: &str = "application/vnd.cyclonedx+json";

fn raw(reference: &str) -> Value {
    let text = skopeo(&["inspect", "--raw", "--tls-verify=false", reference]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{reference}: {e}: {text}"))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!(
        "sha256:{}",
        crate::sbom::support::hex(&sha2::Sha256::digest(bytes))
    )
}

#[test]
fn unsigned_sboms_are_referrers_of_each_platform_and_read_back() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let img = images::multi(&lay, "v1", 4401);
    let repo = "sbom/unsigned";
    let reference = format!("docker://{}/{repo}:v1", reg.addr);
    ok(&["image", "copy", &format!("oci:{}:v1", s(&lay)), &reference]);

    let out = run(&["sbom", &reference, "--attach"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "--attach without --output prints no SBOM"
    );
    assert!(stderr.contains("unsigned SBOM"), "{stderr}");

    let mut artifacts = Vec::new();
    for (child, arch) in img.children.iter().zip(["amd64", "arm64"]) {
        // skopeo sees the fallback index listing one CycloneDX artifact for this platform.
        let hex = child.trim_start_matches("sha256:");
        let index = raw(&format!("docker://{}/{repo}:sha256-{hex}", reg.addr));
        let entries = index["manifests"].as_array().expect("manifests");
        assert_eq!(entries.len(), 1, "{index}");
        assert_eq!(entries[0]["artifactType"], CYCLONEDX);
        let artifact = entries[0]["digest"].as_str().expect("digest").to_owned();
        let m = raw(&format!("docker://{}/{repo}@{artifact}", reg.addr));
        assert_eq!(m["artifactType"], CYCLONEDX);
        assert_eq!(m["subject"]["digest"], child.as_str());
        assert_eq!(m["layers"][0]["mediaType"], CYCLONEDX);
        // Its one layer is byte for byte what `cicd sbom` prints for that platform.
        let direct = run(&["sbom", &reference, "--platform", &format!("linux/{arch}")]);
        assert_eq!(direct.status.code(), Some(0));
        assert_eq!(m["layers"][0]["digest"], sha256(&direct.stdout).as_str());
        artifacts.push((child.clone(), arch, direct.stdout));
    }

    // A second run attaches nothing new.
    let again = run(&["sbom", &reference, "--attach"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already attached"));
    let hex = img.children[0].trim_start_matches("sha256:");
    let index = raw(&format!("docker://{}/{repo}:sha256-{hex}", reg.addr));
    assert_eq!(index["manifests"].as_array().map(Vec::len), Some(1));

    // Read back without a key: the unsigned artifacts, one file per platform.
    let back = tmp.path().join("back.json");
    ok(&["sbom", &reference, "--from-attached", "--output", s(&back)]);
    for (_, arch, direct) in &artifacts {
        let written =
            std::fs::read(tmp.path().join(format!("back.linux-{arch}.json"))).expect("written");
        assert_eq!(&written, direct);
    }
}

#[test]
fn an_artifact_naming_another_subject_is_not_taken_and_none_is_exit_1() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let img_a = images::single(&a, "v1", 1200, 4411);
    let img_b = images::single(&b, "v1", 1200, 4412);
    let repo = "sbom/confused";
    let ref_a = format!("docker://{}/{repo}:a", reg.addr);
    let ref_b = format!("docker://{}/{repo}:b", reg.addr);
    ok(&["image", "copy", &format!("oci:{}:v1", s(&a)), &ref_a]);
    ok(&["image", "copy", &format!("oci:{}:v1", s(&b)), &ref_b]);

    // Nothing attached yet: exit 1, nothing written.
    let out_file = tmp.path().join("out.json");
    let none = run(&["sbom", &ref_b, "--from-attached", "--output", s(&out_file)]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no SBOM attached"));
    assert!(!out_file.exists());

    // A's SBOM artifact listed under B's referrers index (a copied or forged listing).
    ok(&["sbom", &ref_a, "--attach"]);
    let hex_a = img_a.digest.trim_start_matches("sha256:");
    let hex_b = img_b.digest.trim_start_matches("sha256:");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{}/{repo}:sha256-{hex_a}", reg.addr),
        &format!("docker://{}/{repo}:sha256-{hex_b}", reg.addr),
    ]);
    let confused = run(&["sbom", &ref_b, "--from-attached", "--output", s(&out_file)]);
    assert_eq!(
        confused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&confused.stderr)
    );
    assert!(!out_file.exists());
}
