//! `cicd check` on the fixture corpus: every expected finding (the table in
//! `data/check/README.md`) and nothing else, each pointing at its reference.

use std::collections::BTreeMap;

use crate::harness::{check_fixtures, check_json, cicd, data};

type Key = (String, usize, String, String);

/// Rows of the README tables: (file, line, rule, severity), skipping "none" rows.
fn expected() -> Vec<Key> {
    let text = std::fs::read_to_string(data("check/README.md")).expect("README");
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 7 || !cells[1].starts_with('`') {
            continue;
        }
        let Ok(line_no) = cells[2].parse::<usize>() else {
            continue;
        };
        out.push((
            cells[1].trim_matches('`').to_owned(),
            line_no,
            cells[4].trim_matches('`').to_owned(),
            cells[5].to_owned(),
        ));
    }
    out.sort();
    out
}

fn actual() -> (i32, serde_json::Value) {
    let files = check_fixtures();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    check_json(&data("check"), &args)
}

#[test]
fn corpus_is_large_enough() {
    assert!(check_fixtures().len() >= 40, "{}", check_fixtures().len());
}

#[test]
fn findings_match_the_fixture_table() {
    let (code, json) = actual();
    assert_eq!(code, 1, "findings mean exit 1");
    assert_eq!(
        json["errors"].as_array().map(Vec::len),
        Some(0),
        "{:#}",
        json["errors"]
    );
    let mut got: Vec<Key> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().expect("file").to_owned(),
                f["line"].as_u64().expect("line") as usize,
                f["rule"].as_str().expect("rule").to_owned(),
                f["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect();
    got.sort();
    let want = expected();
    let missing: Vec<_> = want.iter().filter(|k| !got.contains(k)).collect();
    let extra: Vec<_> = got.iter().filter(|k| !want.contains(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (in README, not found):\n{missing:#?}\nextra (found, not in README):\n{extra:#?}"
    );
    assert_eq!(got.len(), want.len(), "duplicates differ");
    assert!(want.len() >= 100, "the table lost rows: {}", want.len());
}

/// Every finding's line/column..end column covers exactly its reference in the file
/// (or the expression it was expanded from).
#[test]
fn every_finding_points_at_its_reference() {
    let (_, json) = actual();
    let mut checked = 0;
    for f in json["findings"].as_array().expect("findings") {
        let file = f["file"].as_str().expect("file");
        let text = std::fs::read_to_string(data("check").join(file)).expect("fixture");
        let line_no = f["line"].as_u64().expect("line") as usize;
        let (col, end_line, end_col) = (
            f["column"].as_u64().expect("column") as usize,
            f["end_line"].as_u64().expect("end_line") as usize,
            f["end_column"].as_u64().expect("end_column") as usize,
        );
        assert_eq!(end_line, line_no, "{f:#}");
        let line = text.split('\n').nth(line_no - 1).expect("line exists");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let span: String = line.chars().skip(col - 1).take(end_col - col).collect();
        let subject = f["subject"].as_str().expect("subject");
        let reference = subject.strip_prefix("docker://").unwrap_or(subject);
        assert!(
            span == subject
                || span == format!("docker://{reference}")
                || span == reference
                || span.contains('$'),
            "{file}:{line_no}:{col}: span `{span}` is not `{subject}`\n{line}"
        );
        checked += 1;
    }
    assert!(checked >= 100);
}

#[test]
fn clean_fixtures_have_no_findings() {
    let files: Vec<String> = check_fixtures()
        .into_iter()
        .filter(|f| f.starts_with("clean/"))
        .collect();
    assert!(files.len() >= 10);
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, json) = check_json(&data("check"), &args);
    assert_eq!(json["findings"], serde_json::json!([]));
    assert_eq!(code, 0);
    assert_eq!(json["summary"]["files"].as_u64(), Some(files.len() as u64));
}

#[test]
fn terminal_output() {
    let out = cicd()
        .current_dir(data("check"))
        .args([
            "check",
            "--offline",
            "--color",
            "never",
            "workflows/quoting.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout), @r#"
    warning[unpinned-action]: action `actions/checkout@v4.2.2` is pinned to tag `v4.2.2`, which can be moved (medium)
     --> workflows/quoting.yml:7:15
      |
    7 |       - uses: actions/checkout@v4.2.2
      |               ^^^^^^^^^^^^^^^^^^^^^^^ `actions/checkout@v4.2.2`
      |
      = help: run `cicd pin`, or pin `actions/checkout` to the full commit SHA `v4.2.2` points to: `actions/checkout@<sha> # v4.2.2`

    warning[unpinned-action]: action `actions/setup-python@v5` is pinned to tag `v5`, which can be moved (medium)
     --> workflows/quoting.yml:8:16
      |
    8 |       - uses: 'actions/setup-python@v5'
      |                ^^^^^^^^^^^^^^^^^^^^^^^ `actions/setup-python@v5`
      |
      = help: run `cicd pin`, or pin `actions/setup-python` to the full commit SHA `v5` points to: `actions/setup-python@<sha> # v5`

    warning[unpinned-action]: action `actions/cache@v4.2.0` is pinned to tag `v4.2.0`, which can be moved (medium)
      --> workflows/quoting.yml:11:16
       |
    11 |       - uses: "actions/cache@v4.2.0"
       |                ^^^^^^^^^^^^^^^^^^^^ `actions/cache@v4.2.0`
       |
       = help: run `cicd pin`, or pin `actions/cache` to the full commit SHA `v4.2.0` points to: `actions/cache@<sha> # v4.2.0`

    note: --offline: rules that need the network were skipped
    3 findings (3 medium) in 1 file
    "#);
}

#[test]
fn json_output() {
    let (code, json) = check_json(&data("check"), &["dockerfiles/arg-base/Dockerfile"]);
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(json, @r#"
    {
      "errors": [],
      "findings": [
        {
          "column": 6,
          "end_column": 13,
          "end_line": 4,
          "file": "dockerfiles/arg-base/Dockerfile",
          "fingerprint": "e063863c8c9c4d1a",
          "fix": "run `cicd pin`, or add the digest: `debian:12@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://debian:12` prints it)",
          "line": 4,
          "message": "base image `debian:12` (from `${BASE}`) is pinned to tag `12`, not a digest",
          "path": "stages[0](base).from",
          "rule": "unpinned-image",
          "severity": "medium",
          "subject": "debian:12"
        },
        {
          "column": 6,
          "end_column": 31,
          "end_line": 7,
          "file": "dockerfiles/arg-base/Dockerfile",
          "fingerprint": "6d67f833d56fd5c6",
          "fix": "run `cicd pin`, or add the digest: `python:3.12-slim@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://python:3.12-slim` prints it)",
          "line": 7,
          "message": "base image `python:3.12-slim` (from `python:${PY_VERSION}-slim`) is pinned to tag `3.12-slim`, not a digest",
          "path": "stages[1](deps).from",
          "rule": "unpinned-image",
          "severity": "medium",
          "subject": "python:3.12-slim"
        },
        {
          "column": 6,
          "end_column": 11,
          "end_line": 11,
          "file": "dockerfiles/arg-base/Dockerfile",
          "fingerprint": "1f3297fc17193f80",
          "fix": "run `cicd pin`, or add the digest: `debian:12@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://debian:12` prints it)",
          "line": 11,
          "message": "base image `debian:12` (from `$BASE`) is pinned to tag `12`, not a digest",
          "path": "stages[2].from",
          "rule": "unpinned-image",
          "severity": "medium",
          "subject": "debian:12"
        }
      ],
      "summary": {
        "by_rule": {
          "unpinned-image": 3
        },
        "by_severity": {
          "medium": 3
        },
        "files": 1,
        "findings": 3,
        "notes": [
          "--offline: rules that need the network were skipped"
        ]
      }
    }
    "#);
}

/// Directory discovery: workflows, nested actions, Dockerfiles and compose files anywhere,
/// `.gitignore` honoured, other YAML ignored.
#[test]
fn discovers_inputs_in_a_repository_layout() {
    let repo = tempfile::tempdir().expect("tempdir");
    let put = |rel: &str, fixture: &str| {
        let dest = repo.path().join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(data("check").join(fixture), dest).expect("copy");
    };
    put(".github/workflows/ci.yml", "workflows/ci-basic.yml");
    put(".github/workflows/release.yaml", "workflows/release.yaml");
    put(
        ".github/actions/build/action.yml",
        "actions/composite-build/action.yml",
    );
    put("tools/lint/action.yaml", "actions/setup-tools/action.yaml");
    put("docker/Dockerfile", "dockerfiles/no-tag/Dockerfile");
    put("docker/api.Dockerfile", "dockerfiles/named/app.Dockerfile");
    put("Dockerfile.prod", "dockerfiles/prod/Dockerfile.prod");
    put("Containerfile", "dockerfiles/containerfile/Containerfile");
    put("frontend/compose.yaml", "compose/basic/docker-compose.yml");
    put(
        "deploy/docker-compose.prod.yml",
        "compose/prod/docker-compose.prod.yml",
    );
    // Not inputs: ignored by .gitignore, or not a kind cicd reads.
    put("vendor/Dockerfile", "dockerfiles/latest/Dockerfile");
    put("helm/values.yaml", "compose/basic/docker-compose.yml");
    put("docs/workflows/ci.yml", "workflows/ci-basic.yml");
    std::fs::write(repo.path().join(".gitignore"), "vendor/\n").expect("gitignore");

    let (code, json) = check_json(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["summary"]["files"], 10, "{:#}", json["summary"]);
    let mut files: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["file"].as_str().expect("file"))
        .collect();
    files.dedup();
    assert_eq!(
        files,
        [
            ".github/actions/build/action.yml",
            ".github/workflows/ci.yml",
            ".github/workflows/release.yaml",
            "Containerfile",
            "Dockerfile.prod",
            "deploy/docker-compose.prod.yml",
            "docker/Dockerfile",
            "docker/api.Dockerfile",
            "frontend/compose.yaml",
            "tools/lint/action.yaml",
        ]
    );
}

/// A compose file that `extends` a service of another file gets the finding in that file.
#[test]
fn compose_extends_reports_in_the_extended_file() {
    let (_, json) = check_json(&data("check"), &["compose/extends-file/docker-compose.yml"]);
    let by_file: BTreeMap<&str, usize> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .fold(BTreeMap::new(), |mut m, f| {
            *m.entry(f["file"].as_str().expect("file")).or_default() += 1;
            m
        });
    assert_eq!(
        by_file,
        BTreeMap::from([("compose/extends-file/common-services.yml", 1)])
    );
}
