//! Bad input: every unreadable report exits 2 naming the file and the reason, without
//! hiding the other reports' findings; duplicates are Trivy's duplicates; a 200 MB report
//! is read in bounded memory.

use std::io::Write;
use std::process::Command;

use serde_json::json;

use super::{fixture, gate_json, image_results, report, trivy, write_json};
use crate::harness::{cicd, require_tool};

#[test]
fn unreadable_reports_name_file_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = std::fs::read(fixture("image.json")).expect("read");
    let text = String::from_utf8(image.clone()).expect("utf-8");
    let mut latin1 = text
        .replacen(
            "An attacker could exploit this.",
            "Ein Angreifer k\u{f6}nnte",
            1,
        )
        .into_bytes();
    // ö as Latin-1, in a field cicd does not keep: the check is on the whole file.
    let at = latin1
        .windows(2)
        .position(|w| w == [0xC3, 0xB6])
        .expect("ö");
    latin1.splice(at..at + 2, [0xF6]);
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(r#"{"SchemaVersion":2}"#.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.json", image[..image.len() / 2].to_vec()),
        (
            "schema1.json",
            text.replacen("\"SchemaVersion\": 2", "\"SchemaVersion\": 1", 1)
                .into_bytes(),
        ),
        (
            "schema-string.json",
            br#"{"SchemaVersion":"2","Results":[]}"#.to_vec(),
        ),
        ("latin1.json", latin1),
        ("utf16.json", utf16),
        ("empty.json", b"\n".to_vec()),
        (
            "not-a-report.json",
            br#"{"apiVersion":"v1","kind":"Pod"}"#.to_vec(),
        ),
        ("array.json", b"[1,2]".to_vec()),
        (
            "results-string.json",
            br#"{"SchemaVersion":2,"Results":"none"}"#.to_vec(),
        ),
        ("sarif-1.json", br#"{"version":"1.0.0","runs":[]}"#.to_vec()),
        (
            "trailing.json",
            br#"{"SchemaVersion":2,"Results":[]} {}"#.to_vec(),
        ),
    ];
    let mut lines = Vec::new();
    for (name, bytes) in &cases {
        std::fs::write(dir.path().join(name), bytes).expect("write");
        let out = cicd()
            .current_dir(dir.path())
            .args(["check", "trivy", name])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{name}");
        lines.push(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    let out = cicd()
        .current_dir(dir.path())
        .args(["check", "trivy", "missing.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    lines.push(
        String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace("(os error 2)", "(os error)"),
    );
    insta::assert_snapshot!(lines.join("\n"), @r#"
    error: truncated.json:348:62: truncated: the JSON ends early (EOF while parsing a string)
    error: schema1.json: has SchemaVersion 1; cicd reads Trivy JSON reports of SchemaVersion 2 (Trivy 0.20 and later)
    error: schema-string.json: has SchemaVersion "2", which is not the number 2
    error: latin1.json: not valid UTF-8: line 133, byte offset 4856 (Trivy writes UTF-8; was the file re-encoded?)
    error: utf16.json: is UTF-16, not UTF-8 JSON (PowerShell's `>` writes UTF-16): let Trivy write the file with `--output FILE`
    error: empty.json: is empty: expected a Trivy report (JSON, SARIF or CycloneDX)
    error: not-a-report.json: is JSON but not a Trivy report: expected Trivy JSON (`SchemaVersion` 2 with `Results`), SARIF 2.1.0 (`runs`) or CycloneDX with `vulnerabilities`
    error: array.json: is not a JSON object: expected a Trivy report (JSON, SARIF or CycloneDX)
    error: results-string.json:1:35: unexpected report structure: invalid type: string "none", expected an array of results
    error: sarif-1.json: is SARIF version `1.0.0`; cicd reads SARIF 2.1.0
    error: trailing.json:1:34: not valid JSON: trailing characters
    error: missing.json: could not be read: No such file or directory (os error)
    "#);
}

/// One bad report among good ones: exit 2, and the good one's findings are still reported.
#[test]
fn bad_report_does_not_hide_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture("image.json"), dir.path().join("good.json")).expect("copy");
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"SchemaVersion\": 2, \"Results\": [",
    )
    .expect("write");
    let (code, json, stderr) = gate_json(dir.path(), &["good.json", "bad.json"]);
    assert_eq!(code, 2);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(12));
    assert_eq!(json["errors"][0]["file"], "bad.json");
    assert!(stderr.contains("bad.json:1:"), "{stderr}");
}

/// The same vulnerability in two targets is two findings; twice in one target, or the same
/// report given twice, is one — as Trivy counts them.
#[test]
fn duplicates_across_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("git");
    let results = image_results();
    let mut lock = results[2].clone();
    let lodash = lock["Vulnerabilities"][0].clone();
    lock["Vulnerabilities"] = json!([lodash, lodash]);
    let mut other = lock.clone();
    other["Target"] = json!("web/package-lock.json");
    write_json(&dir.path().join("dup.json"), &report(json!([lock, other])));
    let (code, json, _) = gate_json(dir.path(), &["dup.json", "dup.json"]);
    assert_eq!(code, 1);
    let targets: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["target"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(targets, ["app/package-lock.json", "web/package-lock.json"]);
    let out = Command::new(trivy())
        .current_dir(dir.path())
        .args([
            "convert",
            "--quiet",
            "--format",
            "json",
            "--cache-dir",
            "cache",
            "dup.json",
        ])
        .output()
        .expect("trivy");
    let trivy_json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let trivy_count: usize = trivy_json["Results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["Vulnerabilities"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(trivy_count, 2);
}

/// Writes a Trivy JSON report of at least `bytes` bytes, replicating the image fixture's
/// vulnerabilities (each with a package name of its own, so none are duplicates).
fn big_report(path: &std::path::Path, bytes: usize) -> usize {
    let vulns: Vec<serde_json::Value> = image_results()
        .iter()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    out.write_all(
        br#"{"SchemaVersion":2,"ArtifactName":"big","ArtifactType":"container_image","Results":["#,
    )
    .expect("write");
    let (mut written, mut n, mut result) = (0usize, 0usize, 0usize);
    while written < bytes {
        let mut chunk = Vec::new();
        if result > 0 {
            chunk.push(b',');
        }
        chunk.extend_from_slice(
            format!(r#"{{"Target":"layer{result}/package-lock.json","Class":"lang-pkgs","Type":"npm","Vulnerabilities":["#)
                .as_bytes(),
        );
        for k in 0..500 {
            let mut v = vulns[(n + k) % vulns.len()].clone();
            v["PkgName"] = json!(format!("pkg-{}", n + k));
            v["Description"] = json!(v["Description"].as_str().unwrap_or("").repeat(4));
            if k > 0 {
                chunk.push(b',');
            }
            serde_json::to_writer_pretty(&mut chunk, &v).expect("json");
        }
        n += 500;
        chunk.extend_from_slice(b"]}");
        out.write_all(&chunk).expect("write");
        written += chunk.len();
        result += 1;
    }
    out.write_all(b"]}").expect("write");
    out.flush().expect("flush");
    n
}

/// A 200 MB report: peak RSS (GNU time's maximum resident set size) stays under twice the
/// file's size (the issue asks for well under 2 GB), all findings rendered as JSON.
#[test]
fn report_of_200_mb_in_bounded_memory() {
    let time = require_tool("time", "`apt-get install time` (GNU time)");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.json");
    let n = big_report(&path, 200_000_000);
    let size = std::fs::metadata(&path).expect("stat").len();
    let out = Command::new(time)
        .current_dir(dir.path())
        .args(["-f", "max-rss-kb=%M"])
        .arg(env!("CARGO_BIN_EXE_cicd"))
        .args([
            "check",
            "trivy",
            "--fail-on",
            "CRITICAL,HIGH",
            "--format",
            "json",
            "--output",
            "out.json",
            "big.json",
        ])
        .output()
        .expect("run under time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let rss_kb: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("max-rss-kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in {stderr}"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).expect("read"))
            .expect("json");
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(n));
    let rss = rss_kb * 1024;
    assert!(
        rss < 2 * size,
        "peak RSS {} MB for a {} MB report",
        rss >> 20,
        size >> 20
    );
}

/// `--output /dev/null` writes to the device; it must not replace it with a file.
#[test]
fn output_to_a_device_writes_in_place() {
    let out = cicd()
        .args(["check", "trivy", "--output", "/dev/null"])
        .arg(fixture("image.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let meta = std::fs::metadata("/dev/null").expect("stat");
    assert!(!meta.is_file(), "/dev/null became a regular file");
}
