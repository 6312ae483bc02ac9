//! Ignores with an injected clock (`CICD_NOW`): cicd's own need a reason and an expiry;
//! an expired one stops applying and is reported, one expiring soon is a warning, one that
//! matches nothing is stale; `--vex-out` writes the applied ones as OpenVEX, validated
//! against the OpenVEX 0.2.0 JSON schema.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::fixture;
use crate::harness::{cicd, require_tool, run_tool};

const CONFIG: &str = "\
policy:
  trivy:
    fail-on: [critical]
    ignores:
      - id: CVE-2023-45853
        reason: minizip is not built into the image; zlib's inflate path is not affected
        expires: 2026-01-10
        owner: '@platform'
      - id: CVE-2024-24790
        reason: netip is not used by the service
        expires: 2025-12-01
      - id: CVE-2000-0001
        reason: left over from an old base image
        expires: 2027-01-01
";

fn repo(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("git");
    std::fs::write(dir.path().join("cicd.yaml"), config).expect("config");
    std::fs::copy(fixture("image.json"), dir.path().join("image.json")).expect("copy");
    dir
}

fn gate_at(dir: &Path, now: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = cicd()
        .current_dir(dir)
        .env("CICD_NOW", now)
        .args(["check", "trivy", "--format", "json"])
        .args(args)
        .output()
        .expect("run");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn expiry_expiring_and_stale() {
    let dir = repo(CONFIG);
    let (code, json, _) = gate_at(dir.path(), "2026-01-01", &["image.json"]);
    assert_eq!(
        code, 1,
        "the expired stdlib ignore no longer hides a critical"
    );
    assert_eq!(json["gate"]["failing"], 1);
    insta::assert_json_snapshot!(json["summary"]["notes"], @r#"
    [
      "ignore CVE-2023-45853 (cicd.yaml: policy.trivy.ignores[0]) expires on 2026-01-10 (in 9 days)",
      "ignore CVE-2024-24790 (cicd.yaml: policy.trivy.ignores[1]) expired on 2025-12-01: it no longer applies and 1 finding counts again",
      "ignore CVE-2000-0001 (cicd.yaml: policy.trivy.ignores[2]) matches nothing: remove it"
    ]
    "#);
    // Ten days later the zlib ignore has expired too.
    let (code, json, _) = gate_at(dir.path(), "2026-01-11T00:00:01Z", &["image.json"]);
    assert_eq!(code, 1);
    assert_eq!(json["gate"]["failing"], 2);
    let statuses: Vec<&str> = json["gate"]["ignores"]
        .as_array()
        .expect("ignores")
        .iter()
        .map(|i| i["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["expired", "expired", "stale"]);
    // Before both expiry dates, both apply and the gate passes.
    let (code, json, _) = gate_at(dir.path(), "2025-11-01", &["image.json"]);
    assert_eq!((code, &json["gate"]["ignored"]), (0, &serde_json::json!(2)));
}

#[test]
fn cicd_ignores_need_reason_and_expiry() {
    let dir = repo(
        "policy:\n  trivy:\n    ignores:\n      - id: CVE-2023-45853\n        expires: 2026-01-10\n",
    );
    let (code, _, stderr) = gate_at(dir.path(), "2026-01-01", &["image.json"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr.trim(), @"error: cicd.yaml:4:9: policy.trivy.ignores[0]: missing field `reason`");
    let dir = repo(
        "policy:\n  trivy:\n    ignores:\n      - id: CVE-2023-45853\n        reason: because\n        expires: soon\n",
    );
    let (code, _, stderr) = gate_at(dir.path(), "2026-01-01", &["image.json"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr.trim(), @"error: cicd.yaml:6:18: expires `soon` is not a date (YYYY-MM-DD)");
    let dir = repo("");
    let (code, _, stderr) = gate_at(dir.path(), "yesterday", &["image.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("CICD_NOW"), "{stderr}");
}

/// The OpenVEX 0.2.0 JSON schema (openvex/spec), shipped in the `fixproof` wheel that
/// `scripts/test` installs for this file alone.
fn openvex_schema() -> PathBuf {
    let python = require_tool("python3", "install Python 3");
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.util, os; s = importlib.util.find_spec('fixproof'); \
             print(os.path.join(os.path.dirname(s.origin), 'schemas', 'official', 'openvex.schema.json'))",
        ])
        .output()
        .expect("python");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        out.status.success() && path.is_file(),
        "the OpenVEX schema comes from the `fixproof` wheel: run `scripts/test` or \
         `pip install --no-deps --ignore-requires-python fixproof==0.2.0`\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

#[test]
fn vex_out_validates_against_openvex_schema() {
    let validator = require_tool("check-jsonschema", "pip install check-jsonschema");
    let dir = repo(CONFIG);
    std::fs::write(
        dir.path().join(".trivyignore"),
        "# no reasons here\nCVE-2024-2961\n",
    )
    .expect("write");
    let (code, _, stderr) = gate_at(
        dir.path(),
        "2026-01-01",
        &["--vex-out", "vex.json", "image.json"],
    );
    assert_eq!(code, 1, "{stderr}");
    let vex_path = dir.path().join("vex.json");
    let (ok, text) = run_tool(
        &validator,
        &[
            OsStr::new("--schemafile"),
            openvex_schema().as_os_str(),
            vex_path.as_os_str(),
        ],
    );
    assert!(ok, "{text}");
    let vex: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&vex_path).expect("read")).expect("json");
    let statements: Vec<(String, String, String)> = vex["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| {
            (
                s["vulnerability"]["name"].as_str().unwrap_or("").to_owned(),
                s["status"].as_str().unwrap_or("").to_owned(),
                s["products"][0]["identifiers"]["purl"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    insta::assert_debug_snapshot!(statements, @r#"
    [
        (
            "CVE-2023-45853",
            "not_affected",
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12.5",
        ),
        (
            "CVE-2024-2961",
            "under_investigation",
            "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12.5",
        ),
    ]
    "#);
    assert_eq!(vex["timestamp"], "2026-01-01T00:00:00Z");
}

/// `.trivyignore.yaml` paths and purls, as Trivy documents them.
#[test]
fn trivyignore_yaml_paths_and_purls() {
    let dir = repo("");
    std::fs::write(
        dir.path().join(".trivyignore.yaml"),
        "vulnerabilities:\n  - id: CVE-2021-23337\n    paths: [\"app/**\"]\n    statement: template() is never called with user input\n  - id: CVE-2024-2961\n    purls: [\"pkg:deb/debian/libc6?arch=arm64\"]\n",
    )
    .expect("write");
    let (code, json, _) = gate_at(
        dir.path(),
        "2026-01-01",
        &["--fail-on", "HIGH", "image.json"],
    );
    assert_eq!(code, 1);
    let rows: Vec<(String, String)> = json["gate"]["ignores"]
        .as_array()
        .expect("ignores")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or("").into(),
                i["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("CVE-2021-23337".to_owned(), "applied".to_owned()),
            ("CVE-2024-2961".to_owned(), "stale".to_owned()),
        ]
    );
    assert_eq!(json["gate"]["failing"], 3);
}

/// The `cicd.yaml` example in the README is valid and does what it says.
#[test]
fn readme_config_example() {
    let readme =
        std::fs::read_to_string(crate::harness::repo_root().join("README.md")).expect("README");
    let start = readme.find("## `cicd.yaml`").expect("cicd.yaml section");
    let block = &readme[start..];
    let body = block
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("yaml block");
    let dir = repo(body);
    std::fs::copy(fixture("fs.json"), dir.path().join("fs.json")).expect("copy");
    let (code, json, stderr) = gate_at(dir.path(), "2026-01-01", &["image.json", "fs.json"]);
    assert_eq!(code, 1, "{stderr}");
    let gate = &json["gate"];
    assert_eq!(gate["fail_on"], serde_json::json!(["CRITICAL", "HIGH"]));
    assert_eq!(
        gate["failing_by_class"],
        serde_json::json!({"vulnerability": 5, "secret": 2})
    );
    assert!(
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["class"] != "license" && f["severity"] != "low"),
        "licenses are off and LOW is not reported"
    );
}
