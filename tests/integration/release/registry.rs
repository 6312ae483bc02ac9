//! Releases into the real registry: skopeo sees exactly the expected tags on one digest per
//! image; a release candidate moves no floating tag; a backport moves only its own line; a
//! failed gate moves nothing; a registry failing mid-release is exit 3 and a re-run finishes.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{git, project, release, tag_next};
use crate::build::skopeo;
use crate::harness::proxy::Proxy;
use crate::harness::registry::plain;

/// The version tags of `repo` (attachment tags `sha256-…` left out) and the digest of each.
fn tags(repo: &str) -> Vec<(String, String)> {
    let bin = crate::harness::require_tool("skopeo", "apt-get install skopeo");
    let out = std::process::Command::new(bin)
        .args([
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{repo}"),
        ])
        .output()
        .expect("skopeo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // docker-registry answers 404 for a repository holding only untagged manifests.
    if !out.status.success() && stderr.contains("404") {
        return Vec::new();
    }
    assert!(out.status.success(), "skopeo list-tags {repo}: {stderr}");
    let list: Value = serde_json::from_slice(&out.stdout).expect("list-tags");
    let mut out: Vec<(String, String)> = list["Tags"]
        .as_array()
        .expect("Tags")
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| !t.starts_with("sha256-"))
        .map(|t| {
            let raw = skopeo(&[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{repo}:{t}"),
            ]);
            (t.to_owned(), cicd::oci::digest::sha256(raw.as_bytes()))
        })
        .collect();
    out.sort();
    out
}

fn names(t: &[(String, String)]) -> BTreeSet<&str> {
    t.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn stable_then_rc_then_backport_move_only_what_the_scheme_says() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let (bb, motd) = (
        format!("{}/rel-lines/bb", reg.addr),
        format!("{}/rel-lines/motd", reg.addr),
    );
    project(dir, [Some(&bb), Some(&motd)], true, "v2.0.0");
    // A dry run reads the registry's tags and writes nothing: no repository appears.
    let plan = release(dir, &[], &["--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stdout.contains("set  latest"), "{}", plan.stdout);
    let repos = reg
        .dir
        .path()
        .join("store/docker/registry/v2/repositories/rel-lines");
    assert!(!repos.exists(), "a dry run wrote to the registry");
    let run = release(dir, &[], &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v2 = run.json();
    for (i, repo) in [&bb, &motd].iter().enumerate() {
        let t = tags(repo);
        assert_eq!(
            names(&t),
            BTreeSet::from(["2", "2.0", "2.0.0", "latest"]),
            "{repo}"
        );
        let digest = v2["images"][i]["digest"].as_str().expect("digest");
        assert!(t.iter().all(|(_, d)| d == digest), "{repo}: {t:?}");
        // Signature and SBOM attestations are attached (the registry has no referrers API:
        // the sha256-<hex> fallback index holds them).
        let list = skopeo(&[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{repo}"),
        ]);
        assert!(list.contains(&digest.replace(':', "-")), "{list}");
    }

    tag_next(dir, "v2.1.0-rc.1");
    let rc = release(dir, &[], &["--json"]);
    assert_eq!(rc.code, 0, "{}", rc.stderr);
    let t = tags(&bb);
    assert_eq!(
        names(&t),
        BTreeSet::from(["2", "2.0", "2.0.0", "2.1.0-rc.1", "latest"])
    );
    let v2_digest = v2["images"][0]["digest"].as_str().expect("digest");
    assert!(
        t.iter()
            .filter(|(n, _)| n != "2.1.0-rc.1")
            .all(|(_, d)| d == v2_digest),
        "{t:?}"
    );

    // A backport on a 1.4 branch, released after 2.0.0.
    git(dir, &["checkout", "-q", "-b", "release-1.4", "v2.0.0"]);
    tag_next(dir, "v1.4.3");
    let bp = release(dir, &[], &["--json"]);
    assert_eq!(bp.code, 0, "{}", bp.stderr);
    assert_eq!(bp.json()["make_latest"], false);
    let t = tags(&bb);
    let bp_digest = bp.json()["images"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    assert_eq!(
        names(&t),
        BTreeSet::from([
            "1",
            "1.4",
            "1.4.3",
            "2",
            "2.0",
            "2.0.0",
            "2.1.0-rc.1",
            "latest"
        ])
    );
    for (name, digest) in &t {
        let backport = ["1", "1.4", "1.4.3"].contains(&name.as_str());
        assert_eq!(digest == &bp_digest, backport, "{name} -> {digest}");
    }
}

#[test]
fn a_failing_gate_moves_no_tag_and_a_registry_failing_mid_release_is_finished_by_a_rerun() {
    let reg = plain();
    let proxy = Proxy::start(&reg.addr);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    // `motd` goes through the fault proxy, `bb` straight to the registry.
    let (bb, motd) = (
        format!("{}/rel-faults/bb", reg.addr),
        format!("{}/rel-faults/motd", proxy.addr),
    );
    project(dir, [Some(&bb), Some(&motd)], false, "v3.0.0");
    let failing = crate::harness::data("trivy/image.json");
    let gated = release(
        dir,
        &[],
        &["--scan-report", failing.to_str().expect("utf8")],
    );
    assert_eq!(gated.code, 1, "{}", gated.stderr);
    assert!(gated.stderr.contains("gate failed"), "{}", gated.stderr);
    assert!(
        gated.output.contains("gate-result=failed"),
        "{}",
        gated.output
    );
    assert!(!gated.output.contains("version="), "{}", gated.output);
    assert!(tags(&bb).is_empty(), "a failed gate moved tags");

    proxy.faults().statuses = std::iter::repeat_n((503, None), 400).collect();
    let broken = release(dir, &[], &[]);
    assert_eq!(broken.code, 3, "{}", broken.stderr);
    assert!(broken.stderr.contains("503"), "{}", broken.stderr);
    assert!(
        tags(&bb).is_empty(),
        "tags moved before every image was built"
    );
    proxy.faults().statuses.clear();
    let finished = release(dir, &[], &[]);
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    assert_eq!(
        names(&tags(&bb)),
        BTreeSet::from(["3", "3.0", "3.0.0", "latest"])
    );
    assert_eq!(
        names(&tags(&format!("{}/rel-faults/motd", reg.addr))).len(),
        4
    );
}

/// Images run at once, but a failing image still fails the release with its own error, and
/// nothing reads as released: no tag on either image (the other one built fine), no JSON
/// record, no version or digest in `$GITHUB_OUTPUT`.
#[test]
fn one_failing_image_of_two_run_at_once_fails_the_release_and_tags_nothing() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let (bb, motd) = (
        format!("{}/par/bb", reg.addr),
        format!("{}/par/motd", reg.addr),
    );
    project(dir, [Some(&bb), Some(&motd)], false, "v1.0.0");
    // The first image's arm64 source becomes a directory: its build is refused (exit 2).
    let src = dir.join("bin/arm64/busybox");
    std::fs::remove_file(&src).expect("rm");
    std::fs::create_dir(&src).expect("mkdir");
    let run = release(dir, &[], &["--version", "1.0.0", "--json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a regular file"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert!(!run.output.contains("digest"), "{}", run.output);
    assert!(!run.output.contains("version=1.0.0"), "{}", run.output);
    assert!(tags(&bb).is_empty());
    assert!(tags(&motd).is_empty());
}

// See: issue 14. The key is decrypted while the release reads the registry and git; a wrong
// password is still exit 2 naming the key, before anything is built or pushed.
#[test]
fn a_wrong_key_password_is_exit_2_and_nothing_is_pushed() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let (bb, motd) = (
        format!("{}/wrong-pw/bb", reg.addr),
        format!("{}/wrong-pw/motd", reg.addr),
    );
    project(dir, [Some(&bb), Some(&motd)], true, "v1.0.0");
    let wrong = "Wrong-pw-7c1a-never-print-me";
    let run = release(dir, &[("CICD_KEY_PASSWORD", wrong)], &["--json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cosign.key"), "{}", run.stderr);
    for text in [&run.stdout, &run.stderr, &run.output, &run.summary] {
        assert!(!text.contains(wrong), "the password leaked: {text}");
    }
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert!(!run.output.contains("digest"), "{}", run.output);
    let repos = reg
        .dir
        .path()
        .join("store/docker/registry/v2/repositories/wrong-pw");
    assert!(
        !repos.exists(),
        "a release with a wrong password pushed to the registry"
    );
    assert!(
        !dir.join("dist/sbom").exists(),
        "a wrong password wrote SBOMs"
    );
}
