//! Rollback: v1, v2, v3 promoted to staging; rollback → v2; rollback `--to` v1's digest;
//! history lists every entry with the rolled-back ones marked; `--force` is recorded.

use super::*;
use crate::harness::registry::plain;

#[test]
fn rollback_to_previous_and_to_a_digest_is_recorded_in_history() {
    let reg = plain();
    let w = World::new(&reg.addr, "rollback");
    w.config("");
    let src = w.repo("src");
    let mut digests = Vec::new();
    for (i, v) in ["1.0.0", "2.0.0", "3.0.0"].iter().enumerate() {
        let d = w.push(&src, &format!("v{v}"), 1900 + i as u64);
        w.sign(&format!("docker://{src}:v{v}"), &w.key);
        w.ok(
            &["promote", &format!("{src}:v{v}"), "--to", "staging"],
            &format!("2026-01-31T12:00:0{i}Z"),
        );
        digests.push(d);
    }
    let staging = w.repo("staging");
    let v = w.json(
        &["promote", "--rollback", "staging", "--json"],
        "2026-01-31T12:01:00Z",
    );
    assert_eq!(v["digest"], digests[1].as_str());
    assert_eq!(v["previous_digest"], digests[2].as_str());
    assert_eq!(v["rolled_back_from"], "staging-20260131T120002Z");
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")),
        Some(digests[1].clone())
    );
    let v = w.json(
        &[
            "promote",
            "--rollback",
            "staging",
            "--to",
            &digests[0],
            "--force",
            "--json",
        ],
        "2026-01-31T12:02:00Z",
    );
    assert_eq!(v["digest"], digests[0].as_str());
    assert_eq!(v["forced"], true);
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")),
        Some(digests[0].clone())
    );
    let h = w.history("staging");
    let summary: Vec<(String, String, bool, bool)> = h
        .iter()
        .map(|e| {
            (
                e["version"].as_str().unwrap_or("-").to_owned(),
                e["kind"].as_str().unwrap_or("-").to_owned(),
                e["rolled_back"].as_bool().unwrap_or(false),
                e["forced"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    let t = |v: &str, k: &str, r: bool, f: bool| (v.to_owned(), k.to_owned(), r, f);
    assert_eq!(
        summary,
        [
            t("1.0.0", "promote", false, false),
            t("2.0.0", "promote", false, false),
            t("3.0.0", "promote", true, false),
            t("2.0.0", "rollback", true, false),
            t("1.0.0", "rollback", false, true),
        ]
    );
    // Plain history shows the marks.
    let text = w.ok(&["promote", "history", "staging"], NOW);
    assert_eq!(text.matches("(rolled back)").count(), 2, "{text}");
    // A digest that was never in staging cannot be rolled back to.
    let stranger = w.push(&src, "stranger", 1999);
    let out = w.run(
        &["promote", "--rollback", "staging", "--to", &stranger],
        NOW,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in this environment's history"));
}
