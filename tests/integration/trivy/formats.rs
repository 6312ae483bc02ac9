//! Inputs told from content (Trivy JSON, SARIF, CycloneDX), reports made by the real Trivy,
//! and the outputs: the JSON contract, SARIF validated against SARIF 2.1.0, the table, and
//! annotations where a finding points at a file and line.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use super::{fixture, gate_json, ids, trivy};
use crate::check_formats::sarif_schema;
use crate::harness::{cicd, data, require_tool, run_tool};

#[test]
fn json_contract() {
    let (code, json, _) = gate_json(&data("trivy"), &["--fail-on", "CRITICAL", "image.json"]);
    assert_eq!(code, 1);
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 12);
    for f in findings {
        for key in [
            "rule",
            "severity",
            "id",
            "package",
            "installed",
            "fixed",
            "target",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    let stdlib = findings
        .iter()
        .find(|f| f["id"] == "CVE-2024-24790")
        .expect("stdlib finding");
    insta::assert_json_snapshot!(
        serde_json::json!({
            "finding": {
                "rule": stdlib["rule"], "severity": stdlib["severity"], "id": stdlib["id"],
                "package": stdlib["package"], "installed": stdlib["installed"],
                "fixed": stdlib["fixed"], "target": stdlib["target"],
                "artifact": stdlib["artifact"], "fails_gate": stdlib["fails_gate"],
            },
            "gate": {
                "failed": json["gate"]["failed"], "reasons": json["gate"]["reasons"],
                "failing": json["gate"]["failing"], "counts": json["gate"]["counts"],
            },
        }),
        @r#"
    {
      "finding": {
        "artifact": "ghcr.io/example/app:1.4.2 (linux/amd64)",
        "fails_gate": true,
        "fixed": "1.21.11, 1.22.4",
        "id": "CVE-2024-24790",
        "installed": "v1.22.1",
        "package": "stdlib",
        "rule": "trivy-vulnerability",
        "severity": "critical",
        "target": "usr/local/bin/app"
      },
      "gate": {
        "counts": {
          "critical": 2,
          "high": 4,
          "low": 1,
          "medium": 4,
          "unknown": 1
        },
        "failed": true,
        "failing": 2,
        "reasons": [
          "2 vulnerabilities at CRITICAL (at most 0 allowed)"
        ]
      }
    }
    "#
    );
    let (code, json, _) = gate_json(
        &data("trivy"),
        &["--fail-on", "critical", "--ignore-unfixed", "image.json"],
    );
    assert_eq!(code, 1, "stdlib has a fix");
    assert_eq!(json["gate"]["failing"], 1);
    // Three of the twelve have no fix (zlib1g will_not_fix, apt and bash affected).
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(9));
}

/// The same vulnerabilities read from Trivy JSON, Trivy SARIF and CycloneDX (the latter two
/// made by `trivy convert` from the first), under names that give no hint of the format.
#[test]
fn format_is_told_from_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sets = Vec::new();
    for (name, copy) in [
        ("image.json", "a"),
        ("image.sarif", "b"),
        ("image.cdx.json", "c"),
    ] {
        std::fs::copy(fixture(name), dir.path().join(copy)).expect("copy");
        let (code, json, err) = gate_json(dir.path(), &[copy]);
        assert_eq!(code, 1, "{name}: {err}");
        let formats = json["gate"]["inputs"][0]
            .as_str()
            .expect("inputs")
            .to_owned();
        sets.push((formats, ids(&json)));
    }
    assert!(sets[0].0.contains("trivy-json"), "{}", sets[0].0);
    assert!(sets[1].0.contains("sarif"), "{}", sets[1].0);
    assert!(sets[2].0.contains("cyclonedx"), "{}", sets[2].0);
    assert_eq!(sets[0].1.len(), 12);
    assert_eq!(sets[0].1, sets[1].1, "SARIF differs from JSON");
    assert_eq!(sets[0].1, sets[2].1, "CycloneDX differs from JSON");
}

/// Trivy's own SARIF of misconfigurations, secrets and licenses reads back as the same
/// findings as its JSON.
#[test]
fn sarif_from_real_trivy_matches_its_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(trivy())
        .current_dir(dir.path())
        .args([
            "convert",
            "--quiet",
            "--format",
            "sarif",
            "--cache-dir",
            "cache",
        ])
        .args(["--output", "fs.sarif"])
        .arg(fixture("fs.json"))
        .output()
        .expect("trivy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(fixture("fs.json"), dir.path().join("fs.json")).expect("copy");
    let classes = |name: &str| {
        let (code, json, _) = gate_json(dir.path(), &[name]);
        assert_eq!(code, 1, "{name}");
        let mut v: Vec<(String, String, String, String)> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
                (s("class"), s("id"), s("severity"), s("target"))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(classes("fs.sarif"), classes("fs.json"));
}

/// A report written now by the real Trivy (secrets, misconfigurations, licenses: the
/// scanners that work offline) is read with every class it holds.
#[test]
fn report_from_real_trivy() {
    let trivy = trivy();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("fs.json");
    trivy_fs(
        &trivy,
        dir.path(),
        &["--scanners", "secret,misconfig,license", "--format", "json"],
        &report,
    );
    let (code, json, _) = gate_json(dir.path(), &["fs.json"]);
    assert_eq!(code, 1);
    let mut classes: Vec<(String, String)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap_or("").into(),
                f["id"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    classes.sort();
    insta::assert_debug_snapshot!(classes, @r#"
    [
        (
            "license",
            "MIT",
        ),
        (
            "misconfiguration",
            "DS-0002",
        ),
        (
            "misconfiguration",
            "DS-0025",
        ),
        (
            "misconfiguration",
            "DS-0026",
        ),
        (
            "secret",
            "aws-access-key-id",
        ),
        (
            "secret",
            "github-pat",
        ),
    ]
    "#);
    // Trivy's CycloneDX SBOM: offline it has an empty `vulnerabilities` list, which passes;
    // without the list at all it is an SBOM nobody scanned, refused with the reason.
    let sbom = dir.path().join("sbom.cdx.json");
    trivy_fs(&trivy, dir.path(), &["--format", "cyclonedx"], &sbom);
    let (code, json, _) = gate_json(dir.path(), &["sbom.cdx.json"]);
    assert_eq!(
        (code, json["findings"].as_array().map(Vec::len)),
        (0, Some(0))
    );
    let mut bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sbom).expect("read")).expect("json");
    bom.as_object_mut()
        .expect("object")
        .remove("vulnerabilities");
    super::write_json(&sbom, &bom);
    let out = cicd()
        .current_dir(dir.path())
        .args(["check", "trivy", "sbom.cdx.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("sbom.cdx.json: is a CycloneDX SBOM without `vulnerabilities`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn table_groups_by_severity() {
    let out = cicd()
        .current_dir(data("trivy"))
        .args(["check", "trivy", "--color", "never", "fs.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout), @"
    CRITICAL (2)
      ID                 PACKAGE  INSTALLED  FIXED  CLASS   TARGET
      aws-access-key-id                             secret  config.py:1
      github-pat                                    secret  config.py:2

    HIGH (2)
      ID       PACKAGE  INSTALLED  FIXED  CLASS             TARGET
      DS-0002                             misconfiguration  Dockerfile:3
      DS-0025                             misconfiguration  Dockerfile:2

    LOW (2)
      ID       PACKAGE  INSTALLED  FIXED  CLASS             TARGET             PATH
      DS-0026                             misconfiguration  Dockerfile
      MIT      lodash                     license           package-lock.json  package-lock.json

    6 findings (2 critical, 2 high, 2 low) in 1 file
    gate: FAILED
      - 3 failed misconfigurations at CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN (at most 0 allowed)
      - 2 secrets at CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN (at most 0 allowed)
      - 1 license at CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN (at most 0 allowed)
    ");
}

/// Misconfigurations, secrets and lockfile packages carry a file and line, so they become
/// annotations on that line.
#[test]
fn github_annotations_point_at_lines() {
    let out = cicd()
        .current_dir(data("trivy"))
        .args([
            "check",
            "trivy",
            "--format",
            "github",
            "--fail-on",
            "HIGH,CRITICAL",
        ])
        .args(["--report", "HIGH,CRITICAL", "fs.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout), @"
    ::error file=config.py,line=1,col=1,endLine=1,endColumn=1,title=trivy-secret (critical)::secret aws-access-key-id in config.py: AWS Access Key ID
    ::error file=config.py,line=2,col=1,endLine=2,endColumn=1,title=trivy-secret (critical)::secret github-pat in config.py: GitHub Personal Access Token
    ::error file=Dockerfile,line=3,col=1,endLine=3,endColumn=1,title=trivy-misconfiguration (high)::DS-0002 in Dockerfile: Last USER command in Dockerfile should not be 'root'%0AFix: Add 'USER <non root user name>' line to the Dockerfile
    ::error file=Dockerfile,line=2,col=1,endLine=2,endColumn=1,title=trivy-misconfiguration (high)::DS-0025 in Dockerfile: '--no-cache' is missed: apk add curl%0AFix: Add '--no-cache' to 'apk add' in Dockerfile
    ");
}

#[test]
fn sarif_validates_against_the_schema() {
    let validator = require_tool("check-jsonschema", "pip install check-jsonschema");
    let schema = sarif_schema();
    let dir = tempfile::tempdir().expect("tempdir");
    let sarif = dir.path().join("gate.sarif");
    let out = cicd()
        .current_dir(data("trivy"))
        .args(["check", "trivy", "--format", "sarif", "--output"])
        .arg(&sarif)
        .args(["image.json", "fs.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let (ok, text) = run_tool(
        &validator,
        &[
            OsStr::new("--schemafile"),
            schema.as_os_str(),
            sarif.as_os_str(),
        ],
    );
    assert!(ok, "{text}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif).expect("read")).expect("json");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 4, "one rule per class");
    for rule in rules {
        assert!(
            rule["helpUri"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"))
        );
        assert!(rule["help"]["text"].as_str().is_some_and(|t| t.len() > 40));
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 18);
    let crit = results
        .iter()
        .find(|r| r["properties"]["id"] == "CVE-2023-45853")
        .expect("zlib");
    assert_eq!(crit["level"], "error");
    assert_eq!(crit["properties"]["security-severity"], "9.5");
    let located = results
        .iter()
        .filter(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64())
        .count();
    // Two secrets, two Dockerfile misconfigurations, lodash's two in the lockfile; DS-0026
    // (no HEALTHCHECK) has no line and image packages have no file.
    assert_eq!(located, 6);
}

/// One report per platform: gated together, each finding keeps its platform.
#[test]
fn platform_reports_aggregate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("image.json")).expect("read")).expect("json");
    super::write_json(&dir.path().join("trivy-amd64.json"), &doc);
    doc["Metadata"]["ImageConfig"]["architecture"] = serde_json::json!("arm64");
    doc["Metadata"]["ImageConfig"]["variant"] = serde_json::json!("v8");
    super::write_json(&dir.path().join("trivy-arm64.json"), &doc);
    let (code, json, _) = gate_json(
        dir.path(),
        &[
            "--fail-on",
            "CRITICAL",
            "trivy-amd64.json",
            "trivy-arm64.json",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(json["gate"]["failing"], 4);
    let mut artifacts: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["artifact"].as_str().unwrap_or(""))
        .collect();
    artifacts.sort_unstable();
    artifacts.dedup();
    assert_eq!(
        artifacts,
        [
            "ghcr.io/example/app:1.4.2 (linux/amd64)",
            "ghcr.io/example/app:1.4.2 (linux/arm64/v8)"
        ]
    );
}

/// The real `trivy fs` over the `fs-project` fixture, offline: no database or check
/// updates, no version check, no telemetry — nothing leaves the machine.
fn trivy_fs(trivy: &Path, dir: &Path, args: &[&str], output: &Path) {
    let out = Command::new(trivy)
        .args([
            "fs",
            "--quiet",
            "--offline-scan",
            "--skip-db-update",
            "--skip-check-update",
        ])
        .args(["--skip-version-check", "--disable-telemetry"])
        .args(args)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--output")
        .arg(output)
        .arg(fixture("fs-project"))
        .output()
        .expect("run trivy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
