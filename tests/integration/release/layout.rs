//! The embedded default: `cicd release --to oci:PATH --offline`, no registry and no GitHub.

use super::{layout_tags, project, release};
use crate::harness::{cicd, require_tool};

fn blob_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("blobs/sha256")).map_or(0, |d| d.count())
}

#[test]
fn a_signed_release_into_layouts_offline_is_complete_verifiable_and_idempotent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], true, "v1.2.0");
    let first = release(dir, &[], &["--to", "oci:./out", "--offline", "--json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let rec = first.json();
    assert_eq!(rec["version"], "1.2.0");
    assert_eq!(rec["signed"], true);
    assert_eq!(rec["gate"]["result"], "not-gated");
    assert!(
        first.stderr.contains("no GitHub release"),
        "{}",
        first.stderr
    );
    for (i, name) in ["bb", "motd"].iter().enumerate() {
        let image = &rec["images"][i];
        let digest = image["digest"].as_str().expect("digest");
        let layout = dir.join("out").join(name);
        let tags = layout_tags(&layout);
        let (attached, tags): (Vec<_>, Vec<_>) = tags
            .into_iter()
            .partition(|(t, _)| t.starts_with("sha256-"));
        let names: Vec<&str> = tags.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["1", "1.2", "1.2.0", "latest"], "{name}");
        assert!(tags.iter().all(|(_, d)| d == digest), "{name}: {tags:?}");
        // Referrer indexes of the index and its two platforms (signatures, SBOMs).
        assert_eq!(attached.len(), 3, "{name}: {attached:?}");
        assert_eq!(image["platforms"].as_array().map(Vec::len), Some(2));
        assert!(
            image["platforms"]
                .as_array()
                .expect("platforms")
                .iter()
                .all(|p| p["sbom_attestation"].is_string())
        );
        // The signature holds for the index, by cicd verify.
        let out = cicd()
            .args(["verify", &format!("oci:{}@{digest}", layout.display())])
            .args([
                "--key",
                dir.join("cosign.pub").to_str().expect("utf8"),
                "--insecure-ignore-tlog",
            ])
            .output()
            .expect("verify");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // SHA256SUMS checks out with coreutils.
    let sha256sum = require_tool("sha256sum", "apt-get install coreutils");
    let sums = dir.join("dist/SHA256SUMS");
    let text = std::fs::read_to_string(&sums).expect("SHA256SUMS");
    assert_eq!(text.lines().count(), 4, "{text}");
    let check = std::process::Command::new(&sha256sum)
        .current_dir(dir.join("dist/sbom"))
        .arg("-c")
        .arg(&sums)
        .output()
        .expect("sha256sum");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // The release's signature over its files: openssl checks the DSSE signature with the
    // public key, and every file SHA256SUMS lists (and SHA256SUMS) is a subject.
    sums_bundle_verifies(dir, &text);
    assert!(
        std::fs::read_to_string(dir.join("dist/release-notes.md"))
            .expect("notes")
            .contains("--key cosign.pub")
    );
    assert!(first.output.contains("version=1.2.0"), "{}", first.output);
    assert!(first.output.contains("digest-bb="), "{}", first.output);
    assert!(
        first.summary.contains("gate: **not-gated**"),
        "{}",
        first.summary
    );

    // Again: same digests, nothing new in either layout.
    let before: Vec<usize> = ["bb", "motd"]
        .iter()
        .map(|n| blob_count(&dir.join("out").join(n)))
        .collect();
    let again = release(dir, &[], &["--to", "oci:./out", "--offline", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let rec2 = again.json();
    for i in 0..2 {
        assert_eq!(rec2["images"][i]["digest"], rec["images"][i]["digest"]);
        assert_eq!(
            rec2["images"][i]["signatures"],
            rec["images"][i]["signatures"]
        );
    }
    let after: Vec<usize> = ["bb", "motd"]
        .iter()
        .map(|n| blob_count(&dir.join("out").join(n)))
        .collect();
    assert_eq!(before, after, "a re-run wrote new blobs");
}

#[test]
fn unsigned_release_says_so_once_and_dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], false, "v0.3.0-rc.1");
    let plan = release(dir, &[], &["--to", "oci:./out", "--offline", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        !dir.join("out").exists() && !dir.join("dist").exists(),
        "a dry run wrote"
    );
    assert!(
        plan.output.is_empty(),
        "a dry run set outputs: {}",
        plan.output
    );
    let text = plan
        .stdout
        .lines()
        .filter(|l| !l.starts_with("assets"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(text, @r"
    release v0.3.0-rc.1 (prerelease; GitHub latest: no)
    image bb -> oci:./out/bb
      platforms: linux/amd64, linux/arm64
      set  0.3.0-rc.1       this release's own tag
      keep 0.3              0.3.0-rc.1 is a prerelease: only its exact tag is set
      keep 0                0.3.0-rc.1 is a prerelease: only its exact tag is set
      keep latest           0.3.0-rc.1 is a prerelease: only its exact tag is set
    image motd -> oci:./out/motd
      platforms: linux/amd64, linux/arm64
      set  0.3.0-rc.1       this release's own tag
      keep 0.3              0.3.0-rc.1 is a prerelease: only its exact tag is set
      keep 0                0.3.0-rc.1 is a prerelease: only its exact tag is set
      keep latest           0.3.0-rc.1 is a prerelease: only its exact tag is set
    signing: unsigned
    gate: not gated (no --scan-report)
    GitHub release: none
    promote to: none (no `environments:`)
    note: no GitHub release: GITHUB_TOKEN and GITHUB_REPOSITORY are not both set; notes and assets are written to dist
    note: release.signing is not set in cicd.yaml: the images are released unsigned
    note: no --scan-report given: the images are released without a vulnerability gate
    dry run: nothing was built, tagged, uploaded or written
    ");
    let run = release(dir, &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("released unsigned").count(),
        1,
        "{}",
        run.stderr
    );
    let tags = layout_tags(&dir.join("out/bb"));
    assert_eq!(
        tags.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["0.3.0-rc.1"]
    );
}

/// `dist/SHA256SUMS.sigstore.json` verified without cicd: openssl over the DSSE PAE with
/// `cosign.pub`, then the statement's subjects against `sums` (and SHA256SUMS itself).
fn sums_bundle_verifies(dir: &std::path::Path, sums: &str) {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("dist/SHA256SUMS.sigstore.json")).expect("bundle"),
    )
    .expect("json");
    let env = &bundle["dsseEnvelope"];
    let payload = STANDARD
        .decode(env["payload"].as_str().expect("payload"))
        .expect("b64");
    let sig = STANDARD
        .decode(env["signatures"][0]["sig"].as_str().expect("sig"))
        .expect("b64");
    let kind = "application/vnd.in-toto+json";
    let mut pae = format!("DSSEv1 {} {kind} {} ", kind.len(), payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    assert!(
        crate::sign::openssl_verifies(dir, &dir.join("cosign.pub"), &pae, &sig),
        "openssl rejects SHA256SUMS.sigstore.json"
    );
    let statement: serde_json::Value = serde_json::from_slice(&payload).expect("statement");
    let subjects: Vec<(String, String)> = statement["subject"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|s| {
            let name = s["name"].as_str().expect("name").to_owned();
            (
                name,
                s["digest"]["sha256"].as_str().expect("sha256").to_owned(),
            )
        })
        .collect();
    for line in sums.lines() {
        let (hex, name) = line.split_once("  ").expect("sha256sum line");
        assert!(
            subjects.contains(&(name.to_owned(), hex.to_owned())),
            "{name} is not a subject: {subjects:?}"
        );
    }
    assert!(subjects.iter().any(|(n, _)| n == "SHA256SUMS"));
    assert_eq!(statement["predicate"]["Data"], sums);
}
