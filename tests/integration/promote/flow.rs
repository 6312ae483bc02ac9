//! The path that succeeds: staging in its own repository, then production after it; the tags,
//! history records, signatures that travelled, outputs and step summary.

use super::*;
use crate::harness::registry::plain;

#[test]
fn staging_then_production_moves_the_digest_with_its_signature_and_history() {
    let reg = plain();
    let w = World::new(&reg.addr, "flow");
    w.config("");
    let src = w.repo("src");
    let digest = w.push(&src, "v1.2.3", 1501);
    w.sign(&format!("docker://{src}:v1.2.3"), &w.key);
    let outputs = w.tmp.path().join("outputs");
    let summary = w.tmp.path().join("summary.md");
    let out = cicd()
        .current_dir(w.tmp.path())
        .env("CICD_NOW", NOW)
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "promote",
            &format!("docker://{src}:v1.2.3"),
            "--to",
            "staging",
            "--json",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["version"], "1.2.3");
    assert_eq!(v["evidence"][0]["verified"], true);
    assert_eq!(v["history_tag"], "staging-20260131T120000Z");
    assert!(v["copied"]["manifests"].as_u64().unwrap_or(0) >= 3, "{v}");
    // skopeo sees the environment tag, the history tag and the signature in staging.
    let staging = w.repo("staging");
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")),
        Some(digest.clone())
    );
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging-20260131T120000Z")),
        Some(digest.clone())
    );
    assert!(skopeo_digest(&format!("{staging}:{}", fallback(&digest))).is_some());
    assert!(skopeo_tags(&staging).contains(&"staging-20260131T120000Z.promotion".to_owned()));
    // The signature verifies where it arrived.
    w.ok(
        &[
            "verify",
            "--key",
            s(&w.public),
            "--insecure-ignore-tlog",
            &format!("docker://{staging}:staging"),
        ],
        NOW,
    );
    let written = std::fs::read_to_string(&outputs).expect("outputs");
    assert_eq!(
        written,
        format!("digest={digest}\nenvironment=staging\nprevious-digest=\n")
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("```mermaid") && md.contains("class env0 done"),
        "{md}"
    );
    assert!(md.contains("cicd promote --rollback staging"), "{md}");

    // Production after staging: copied from staging's repository.
    let later = "2026-01-31T13:00:00Z";
    let v = w.json(
        &[
            "promote",
            &format!("docker://{staging}@{digest}"),
            "--to",
            "production",
            "--version",
            "1.2.3",
            "--json",
        ],
        later,
    );
    assert_eq!(v["history_tag"], "production-20260131T130000Z");
    let prod = w.repo("prod");
    assert_eq!(
        skopeo_digest(&format!("{prod}:production")),
        Some(digest.clone())
    );
    let h = w.history("production");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["digest"], digest.as_str());
    assert_eq!(h[0]["version"], "1.2.3");
    assert_eq!(h[0]["actor"], "octocat");
    assert_eq!(h[0]["time"], "2026-01-31T13:00:00Z");
    assert_eq!(h[0]["rolled_back"], false);

    // Status: both environments, current, with the evidence.
    let st = w.json(
        &[
            "promote",
            "status",
            &format!("docker://{src}@{digest}"),
            "--json",
        ],
        later,
    );
    let envs = st["environments"].as_array().expect("envs");
    assert_eq!(envs.len(), 2);
    for e in envs {
        assert_eq!(e["current"], true, "{e}");
        assert_eq!(e["evidence"][0]["verified"], true, "{e}");
    }
    // Promoting the same digest again is a new history entry with the previous digest.
    let v = w.json(
        &[
            "promote",
            &format!("docker://{src}@{digest}"),
            "--to",
            "staging",
            "--json",
        ],
        NOW,
    );
    assert_eq!(v["previous_digest"], digest.as_str());
    assert_eq!(v["history_tag"], "staging-20260131T120000Z-2");
}

#[test]
fn same_repository_promotion_uploads_nothing_and_dry_run_writes_nothing() {
    let reg = plain();
    let w = World::new(&reg.addr, "same");
    let src = w.repo("app");
    std::fs::write(
        w.tmp.path().join("cicd.yaml"),
        "environments:\n  staging:\n    require:\n      signature: { key: cosign.pub, insecure-ignore-tlog: true }\n",
    )
    .expect("config");
    let digest = w.push(&src, "2.0.0", 1601);
    w.sign(&format!("docker://{src}:2.0.0"), &w.key);
    let before = skopeo_tags(&src);
    let v = w.json(
        &[
            "promote",
            &format!("{src}:2.0.0"),
            "--to",
            "staging",
            "--dry-run",
            "--json",
        ],
        NOW,
    );
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["refused"].as_array().map(Vec::len), Some(0));
    assert_eq!(skopeo_tags(&src), before, "a dry run writes nothing");
    let v = w.json(
        &[
            "promote",
            "--version",
            "2.0.0",
            "--image",
            &src,
            "--to",
            "staging",
            "--json",
        ],
        NOW,
    );
    assert_eq!(v["version"], "2.0.0");
    assert!(
        v.get("copied").is_none(),
        "same repository: nothing copied: {v}"
    );
    assert_eq!(skopeo_digest(&format!("{src}:staging")), Some(digest));
}
