//! Faults and races: the connection cut mid-copy across registries leaves the environment
//! tag alone (exit 3) and a re-run completes; two promotions racing to one environment end
//! with the tag on one of them and both in the history.

use super::*;
use crate::harness::proxy::Proxy;
use crate::harness::registry::plain;

#[test]
fn a_copy_cut_mid_way_exits_3_and_a_rerun_completes() {
    let reg = plain();
    // The source registry is reached through the proxy: another host, so every blob moves.
    let proxy = Proxy::start(&reg.addr);
    let w = World::new(&reg.addr, "faults");
    w.config("");
    let src_direct = w.repo("src");
    let digest = w.push(&src_direct, "v1.0.0", 2101);
    w.sign(&format!("docker://{src_direct}:v1.0.0"), &w.key);
    let src = format!("{}/promote/faults/src", proxy.addr);
    let staging = w.repo("staging");
    proxy.faults().cut_blobs = 1000;
    let out = w.run(
        &["promote", &format!("{src}@{digest}"), "--to", "staging"],
        NOW,
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")),
        None,
        "tag moved after a failed copy"
    );
    assert!(w.history("staging").is_empty());
    proxy.faults().cut_blobs = 0;
    let v = w.json(
        &[
            "promote",
            &format!("{src}@{digest}"),
            "--to",
            "staging",
            "--json",
        ],
        NOW,
    );
    assert!(
        v["copied"]["bytes_uploaded"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    assert_eq!(skopeo_digest(&format!("{staging}:staging")), Some(digest));
}

#[test]
fn two_racing_promotions_both_land_in_history() {
    let reg = plain();
    let w = World::new(&reg.addr, "race");
    let src = w.repo("app");
    std::fs::write(
        w.tmp.path().join("cicd.yaml"),
        format!("environments:\n  staging:\n    repository: {src}\n    require:\n      signature: {{ key: cosign.pub, insecure-ignore-tlog: true }}\n"),
    )
    .expect("config");
    let a = w.push(&src, "a", 2201);
    let b = w.push(&src, "b", 2202);
    w.sign(&format!("docker://{src}:a"), &w.key);
    w.sign(&format!("docker://{src}:b"), &w.key);
    let spawn = |d: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cicd"))
            .current_dir(w.tmp.path())
            .env("CICD_NOW", NOW)
            .env_remove("GITHUB_ACTIONS")
            .args(["promote", &format!("{src}@{d}"), "--to", "staging"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    for p in [pa, pb] {
        let out = p.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let h = w.history("staging");
    let digests: Vec<&str> = h.iter().filter_map(|e| e["digest"].as_str()).collect();
    assert_eq!(h.len(), 2, "{h:?}");
    assert!(
        digests.contains(&a.as_str()) && digests.contains(&b.as_str()),
        "{digests:?}"
    );
    // Both in that second's slots, in order; a slot both racers lost stays empty.
    let slots: Vec<u32> = h
        .iter()
        .filter_map(|e| e["tag"].as_str())
        .map(|t| match t.strip_prefix("staging-20260131T120000Z") {
            Some("") => 1,
            Some(n) => n.strip_prefix('-').and_then(|n| n.parse().ok()).expect(t),
            None => panic!("{t} is not of that second"),
        })
        .collect();
    assert!(slots.len() == 2 && slots[0] < slots[1], "{slots:?}");
    assert!(h.iter().all(|e| e.get("problem").is_none()), "{h:?}");
    let current = skopeo_digest(&format!("{src}:staging")).expect("tagged");
    assert!(current == a || current == b);
}
