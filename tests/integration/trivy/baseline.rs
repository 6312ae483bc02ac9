//! `--baseline`: only findings new relative to the base branch's report fail the gate
//! (matched on class, id, package, installed version and target class, so a renamed image
//! still matches); the ones gone since are listed as fixed.

use serde_json::json;

use super::{gate_json, image_results, report, write_json};

#[test]
fn only_new_findings_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("git");
    let current = image_results();
    write_json(&dir.path().join("pr.json"), &report(json!(current)));
    // The base branch: the image had another name, stdlib and lodash's template CVE were not
    // there yet, and an old openssl CVE has since been fixed.
    let mut base = current.clone();
    base[0]["Target"] = json!("ghcr.io/example/app:1.4.1 (debian 12.5)");
    let mut old = base[0]["Vulnerabilities"][2].clone();
    old["VulnerabilityID"] = json!("CVE-2023-0464");
    base[0]["Vulnerabilities"]
        .as_array_mut()
        .expect("v")
        .push(old);
    base[2]["Vulnerabilities"]
        .as_array_mut()
        .expect("v")
        .remove(0);
    base[3]["Vulnerabilities"]
        .as_array_mut()
        .expect("v")
        .remove(0);
    write_json(&dir.path().join("main.json"), &report(json!(base)));

    let (code, json, _) = gate_json(
        dir.path(),
        &[
            "--fail-on",
            "CRITICAL,HIGH",
            "--baseline",
            "main.json",
            "pr.json",
        ],
    );
    assert_eq!(code, 1);
    let gate = &json["gate"];
    assert_eq!(
        (gate["new"].clone(), gate["failing"].clone()),
        (json!(2), json!(2))
    );
    insta::assert_json_snapshot!(json!({"reasons": gate["reasons"], "fixed": gate["fixed"]}), @r#"
    {
      "fixed": [
        {
          "class": "vulnerability",
          "id": "CVE-2023-0464",
          "installed": "3.0.11-1~deb12u1",
          "package": "libssl3",
          "severity": "HIGH",
          "target": "ghcr.io/example/app:1.4.1 (debian 12.5)"
        }
      ],
      "reasons": [
        "2 new vulnerabilities at CRITICAL,HIGH (at most 0 allowed)"
      ]
    }
    "#);
    let new: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["new"] == true)
        .map(|f| f["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(new, ["CVE-2024-24790", "CVE-2021-23337"]);

    // Against itself nothing is new: the gate passes though the findings are still shown.
    let (code, json, _) = gate_json(dir.path(), &["--baseline", "pr.json", "pr.json"]);
    assert_eq!(code, 0);
    assert_eq!(json["gate"]["new"], 0);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(12));
}

/// A baseline in another format matches: the base branch's SARIF or CycloneDX against the
/// pull request's JSON finds nothing new.
#[test]
fn baseline_in_another_format() {
    for base in ["image.sarif", "image.cdx.json"] {
        let (code, json, stderr) = gate_json(
            &crate::harness::data("trivy"),
            &["--baseline", base, "image.json"],
        );
        assert_eq!(
            (code, &json["gate"]["new"]),
            (0, &json!(0)),
            "{base}: {stderr}"
        );
    }
}
