//! Agreement with Trivy itself: over random subsets of real-shaped findings (all four
//! classes) and random options, `cicd check trivy --fail-on S [--ignorefile F]
//! [--ignore-unfixed]` fails exactly when `trivy convert --severity S --exit-code 1
//! [--ignorefile F]` does, and counts the same findings against the gate. `trivy convert`
//! has no `--ignore-unfixed` (a scan-time flag), so for that option Trivy gets the report
//! with the unfixed vulnerabilities removed. Counts agree per class, over real reports with
//! one id at several places (`examples.json`: a check failing on two resources and on
//! three lines, one secret rule on two lines of one file and in another file).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{fixture, gate_json, trivy, write_json};

const SEVERITIES: [&str; 5] = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
const CLASSES: [&str; 4] = [
    "Vulnerabilities",
    "Misconfigurations",
    "Secrets",
    "Licenses",
];
/// Before and after any clock this test runs on.
const PAST: &str = "2001-02-03";
const FUTURE: &str = "2998-07-06";

/// `.trivyignore` ids: some match, one matches nothing.
const LINE_IDS: [&str; 10] = [
    "CVE-2024-2961",
    "CVE-2023-5363",
    "CVE-2021-23337",
    "CVE-2024-24790",
    "CVE-2023-45853",
    "DS-0002",
    "aws-access-key-id",
    "MIT",
    "CVE-2011-3374",
    "CVE-9999-0001",
];

/// `.trivyignore.yaml` entries: (section, id, paths, purls).
const YAML_ENTRIES: [(&str, &str, &[&str], &[&str]); 10] = [
    ("vulnerabilities", "CVE-2021-23337", &["app/**"], &[]),
    (
        "vulnerabilities",
        "CVE-2024-2961",
        &[],
        &["pkg:deb/debian/libc6"],
    ),
    (
        "vulnerabilities",
        "CVE-2024-33599",
        &[],
        &["pkg:deb/debian/libc6?arch=arm64"],
    ),
    (
        "vulnerabilities",
        "CVE-2024-24790",
        &["usr/local/bin/*"],
        &[],
    ),
    (
        "vulnerabilities",
        "CVE-2024-35195",
        &["usr/local/lib/**/METADATA"],
        &[],
    ),
    ("vulnerabilities", "CVE-2023-45853", &[], &[]),
    ("misconfigurations", "DS-0002", &["Dockerfile"], &[]),
    ("misconfigurations", "DS-0025", &["other/Dockerfile"], &[]),
    ("secrets", "github-pat", &["config.py"], &[]),
    ("licenses", "MIT", &["package-lock.json"], &[]),
];

/// Results of the image fixture (vulnerabilities), the reports the real Trivy wrote of
/// `fs-project` (misconfigurations, secrets, a license) and of `examples` (same-id findings
/// at different places), plus a passed check and an exact duplicate vulnerability, which
/// must count as nothing and once.
fn pool() -> Vec<Value> {
    let load = |name: &str| -> Vec<Value> {
        let v: Value =
            serde_json::from_slice(&std::fs::read(fixture(name)).expect("read")).expect("json");
        v["Results"].as_array().expect("results").clone()
    };
    let mut results = load("image.json");
    let dup = results[3]["Vulnerabilities"][0].clone();
    results[3]["Vulnerabilities"]
        .as_array_mut()
        .expect("vulns")
        .push(dup);
    let mut fs = load("fs.json");
    for r in &mut fs {
        if let Some(m) = r["Misconfigurations"].as_array_mut() {
            let mut passed = m[0].clone();
            passed["ID"] = json!("DS-0001");
            passed["Status"] = json!("PASS");
            passed["Severity"] = json!("CRITICAL");
            m.push(passed);
        }
    }
    results.extend(fs);
    results.extend(load("examples.json"));
    results
}

fn items(results: &[Value]) -> usize {
    results
        .iter()
        .map(|r| {
            CLASSES
                .iter()
                .map(|c| r[*c].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        })
        .sum()
}

/// The pool with only the masked-in items; `drop_unfixed` removes vulnerabilities that have
/// no fixed version (what `--ignore-unfixed` would have done at scan time).
fn build(pool: &[Value], mask: &[bool], drop_unfixed: bool) -> Value {
    let mut bit = mask.iter().copied();
    let results: Vec<Value> = pool
        .iter()
        .map(|r| {
            let mut r = r.clone();
            for class in CLASSES {
                if let Some(list) = r[class].as_array() {
                    let kept: Vec<Value> = list
                        .iter()
                        .filter(|_| bit.next().unwrap_or(true))
                        .filter(|item| {
                            !(drop_unfixed
                                && class == "Vulnerabilities"
                                && (item["FixedVersion"].as_str().is_none_or(str::is_empty)
                                    || item["Status"] != "fixed"))
                        })
                        .cloned()
                        .collect();
                    r[class] = json!(kept);
                }
            }
            r
        })
        .collect();
    super::report(json!(results))
}

#[derive(Clone, Debug)]
enum Ignores {
    None,
    /// `.trivyignore`: (id index, expiry: 0 none, 1 past, 2 future).
    Lines(Vec<(usize, u8)>),
    /// `.trivyignore.yaml`: (entry index, expiry).
    Yaml(Vec<(usize, u8)>),
}

fn expiry(e: u8) -> Option<&'static str> {
    match e {
        1 => Some(PAST),
        2 => Some(FUTURE),
        _ => None,
    }
}

/// Writes the ignore file into `dir`; returns its name.
fn write_ignores(dir: &Path, ignores: &Ignores) -> Option<String> {
    match ignores {
        Ignores::None => None,
        Ignores::Lines(picks) => {
            let mut text = String::from("# chosen by the property test\n");
            for (i, e) in picks {
                text.push_str(LINE_IDS[*i]);
                if let Some(d) = expiry(*e) {
                    text.push_str(&format!(" exp:{d}"));
                }
                text.push('\n');
            }
            std::fs::write(dir.join(".trivyignore"), text).expect("write");
            Some(".trivyignore".into())
        }
        Ignores::Yaml(picks) => {
            // Written as YAML, not JSON: Trivy reads `expired_at` as a YAML timestamp, which
            // a quoted string is not.
            let mut text = String::new();
            for section in [
                "vulnerabilities",
                "misconfigurations",
                "secrets",
                "licenses",
            ] {
                let entries: Vec<_> = picks
                    .iter()
                    .filter(|(i, _)| YAML_ENTRIES[*i].0 == section)
                    .collect();
                if entries.is_empty() {
                    continue;
                }
                text.push_str(&format!("{section}:\n"));
                for (i, e) in entries {
                    let (_, id, paths, purls) = YAML_ENTRIES[*i];
                    text.push_str(&format!("  - id: {id}\n"));
                    if !paths.is_empty() {
                        text.push_str(&format!("    paths: {}\n", json!(paths)));
                    }
                    if !purls.is_empty() {
                        text.push_str(&format!("    purls: {}\n", json!(purls)));
                    }
                    if let Some(d) = expiry(*e) {
                        text.push_str(&format!("    expired_at: {d}\n"));
                    }
                }
            }
            std::fs::write(dir.join(".trivyignore.yaml"), text).expect("write");
            Some(".trivyignore.yaml".into())
        }
    }
}

/// What `trivy convert` decides: (exit code, findings left after its filters per class).
fn trivy_decides(
    dir: &Path,
    severities: &str,
    ignorefile: Option<&str>,
) -> (i32, BTreeMap<&'static str, u64>) {
    let mut cmd = Command::new(trivy());
    cmd.current_dir(dir)
        .args(["convert", "--quiet", "--format", "json", "--exit-code", "1"])
        .args(["--severity", severities, "--output", "trivy-out.json"])
        .args(["--cache-dir", "cache"]);
    if let Some(f) = ignorefile {
        cmd.args(["--ignorefile", f]);
    }
    let out = cmd.arg("for-trivy.json").output().expect("run trivy");
    let code = out.status.code().unwrap_or(-1);
    // Trivy also exits 1 on its own errors: the output file tells the two apart.
    assert!(
        (code == 0 || code == 1) && dir.join("trivy-out.json").is_file(),
        "trivy convert failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let filtered: Value =
        serde_json::from_slice(&std::fs::read(dir.join("trivy-out.json")).expect("read"))
            .expect("trivy output is JSON");
    let mut left = BTreeMap::new();
    for r in filtered["Results"].as_array().into_iter().flatten() {
        let n = |k: &str| r[k].as_array().map_or(0, |v| v.len() as u64);
        let failed = r["Misconfigurations"].as_array().map_or(0, |m| {
            m.iter().filter(|x| x["Status"] == "FAIL").count() as u64
        });
        for (class, count) in [
            ("vulnerability", n("Vulnerabilities")),
            ("misconfiguration", failed),
            ("secret", n("Secrets")),
            ("license", n("Licenses")),
        ] {
            if count > 0 {
                *left.entry(class).or_insert(0) += count;
            }
        }
    }
    (code, left)
}

fn ignores_strategy() -> impl Strategy<Value = Ignores> {
    let pick = |n: usize| prop::collection::vec((0..n, 0u8..3), 1..5);
    prop_oneof![
        1 => Just(Ignores::None),
        2 => pick(LINE_IDS.len()).prop_map(Ignores::Lines),
        2 => pick(YAML_ENTRIES.len()).prop_map(Ignores::Yaml),
    ]
}

proptest! {
    // Each case runs the real Trivy once; 24 cases keep the test to seconds.
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn gate_agrees_with_trivy_convert(
        // Mostly-empty subsets too, so that passing runs are common.
        keep_rate in 0u32..9,
        raw_mask in prop::collection::vec(0u32..8, 96),
        sev_mask in 1u8..32,
        ignore_unfixed in any::<bool>(),
        ignores in ignores_strategy(),
    ) {
        let pool = pool();
        let n = items(&pool);
        prop_assert!(n <= raw_mask.len());
        let mask: Vec<bool> = raw_mask.iter().take(n).map(|r| *r < keep_rate).collect();
        let severities: Vec<&str> = SEVERITIES
            .iter()
            .enumerate()
            .filter(|(i, _)| sev_mask & (1 << i) != 0)
            .map(|(_, s)| *s)
            .collect();
        let severities = severities.join(",");

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join(".git")).expect("stop config search here");
        write_json(&dir.path().join("report.json"), &build(&pool, &mask, false));
        write_json(&dir.path().join("for-trivy.json"), &build(&pool, &mask, ignore_unfixed));
        let ignorefile = write_ignores(dir.path(), &ignores);

        let (trivy_code, trivy_left) = trivy_decides(dir.path(), &severities, ignorefile.as_deref());

        let mut args = vec!["--fail-on", severities.as_str()];
        if let Some(f) = &ignorefile {
            args.extend(["--ignorefile", f.as_str()]);
        }
        if ignore_unfixed {
            args.push("--ignore-unfixed");
        }
        args.push("report.json");
        let (code, json, stderr) = gate_json(dir.path(), &args);
        prop_assert_eq!(
            code, trivy_code,
            "cicd {:?} exited {} ({}), trivy {} with {:?} findings; ignores {:?}",
            args, code, stderr, trivy_code, trivy_left, ignores
        );
        let ours: BTreeMap<&str, u64> = json["gate"]["failing_by_class"]
            .as_object()
            .expect("failing_by_class")
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_u64().unwrap_or(0)))
            .collect();
        let theirs: BTreeMap<&str, u64> = trivy_left.iter().map(|(k, v)| (*k, *v)).collect();
        prop_assert_eq!(&ours, &theirs, "{:?} {:?}", args, ignores);
        prop_assert_eq!(json["gate"]["failing"].as_u64(), Some(theirs.values().sum::<u64>()));
    }
}
