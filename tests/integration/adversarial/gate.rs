//! Adversarial cases for the gate area (see `mod.rs`): reports that are empty, truncated or
//! unreadable, severity lists that would turn the gate off, impossible dates, ignore files
//! with typos, findings whose text holds workflow commands, and the outputs a workflow reads.

use std::path::Path;
use std::process::Output;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::{cicd, data};

/// A directory that stops the search for `cicd.yaml` and holds the image fixture.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    std::fs::copy(
        data("trivy").join("image.json"),
        dir.path().join("image.json"),
    )
    .expect("copy");
    dir
}

/// `cicd check trivy ARGS` in `dir` as a GitHub Actions step: (output, $GITHUB_OUTPUT,
/// $GITHUB_STEP_SUMMARY).
fn step(dir: &Path, args: &[&str]) -> (Output, String, String) {
    let (output, summary) = (dir.join("gh-output"), dir.join("gh-summary.md"));
    let _ = std::fs::remove_file(&output);
    let _ = std::fs::remove_file(&summary);
    let out = cicd()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("CICD_NOW")
        .args(["check", "trivy"])
        .args(args)
        .output()
        .expect("run cicd");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (out, read(&output), read(&summary))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `contents` to `dir/file`, runs `cicd check trivy image.json`: (exit code, stderr).
fn with_file(dir: &Path, file: &str, contents: &str) -> (Option<i32>, String) {
    std::fs::write(dir.join(file), contents).expect("write");
    let out = cicd()
        .current_dir(dir)
        .args(["check", "trivy", "image.json"])
        .output()
        .expect("run");
    (out.status.code(), text(&out.stderr))
}

/// Every output a workflow reads says "error", none says "passed".
fn assert_error_everywhere(dir: &Path, report: &str) {
    for format in ["plain", "json", "sarif", "github"] {
        let (out, outputs, summary) = step(dir, &["--format", format, report]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let ctx = format!("{report} --format {format}\n{stdout}\n{stderr}\n{outputs}\n{summary}");
        assert_eq!(out.status.code(), Some(2), "{ctx}");
        assert!(outputs.contains("failed=true\n"), "{ctx}");
        assert!(outputs.contains("result=error\n"), "{ctx}");
        assert!(!outputs.contains("failed=false"), "{ctx}");
        assert!(summary.contains(":x: **gate error**"), "{ctx}");
        assert!(!summary.contains("passed"), "{ctx}");
        let annotation = format!("::error file={report},");
        assert!(
            stdout
                .lines()
                .chain(stderr.lines())
                .any(|l| l.starts_with(&annotation)),
            "no annotation naming {report}: {ctx}"
        );
        assert!(!stdout.contains("gate: passed"), "{ctx}");
        assert!(!stdout.contains("no findings in"), "{ctx}");
        match format {
            "plain" => assert!(stdout.contains("gate: ERROR"), "{ctx}"),
            "json" => {
                let json: Value = serde_json::from_str(&stdout).expect("json");
                assert_eq!(json["gate"]["failed"], true, "{ctx}");
                assert_eq!(json["gate"]["result"], "error", "{ctx}");
            }
            "sarif" => {
                let sarif: Value = serde_json::from_str(&stdout).expect("sarif");
                let inv = &sarif["runs"][0]["invocations"][0];
                assert_eq!(inv["executionSuccessful"], false, "{ctx}");
            }
            _ => {}
        }
    }
}

// See: issue 8 item 1
#[test]
fn unreadable_report_is_a_gate_error_in_every_output() {
    let dir = workdir();
    std::fs::write(dir.path().join("zero.json"), "").expect("write");
    let whole = std::fs::read(dir.path().join("image.json")).expect("read");
    std::fs::write(dir.path().join("truncated.json"), &whole[..whole.len() / 2]).expect("write");
    std::fs::create_dir(dir.path().join("dir.json")).expect("mkdir");
    for report in ["zero.json", "truncated.json", "dir.json", "missing.json"] {
        assert_error_everywhere(dir.path(), report);
    }
    // A readable report next to an unreadable one: still no verdict.
    let (out, outputs, _) = step(
        dir.path(),
        &["--fail-on", "CRITICAL", "image.json", "zero.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(outputs.contains("result=error\n"), "{outputs}");
    // And a clean pass still says so.
    let clean = workdir();
    std::fs::write(
        clean.path().join("none.json"),
        r#"{"SchemaVersion":2,"Results":[]}"#,
    )
    .expect("write");
    let (out, outputs, summary) = step(clean.path(), &["none.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        outputs.contains("failed=false\nresult=passed\n"),
        "{outputs}"
    );
    assert!(summary.contains("gate passed"), "{summary}");
}

// See: issue 8 item 1
#[test]
fn gate_that_cannot_start_leaves_an_error_result() {
    let dir = workdir();
    std::fs::write(
        dir.path().join(".trivyignore.yaml"),
        "vulnerabilities: [oops\n",
    )
    .expect("write");
    let (out, outputs, summary) = step(dir.path(), &["image.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(outputs, "failed=true\nresult=error\n");
    assert!(summary.contains("gate error"), "{summary}");
    assert!(
        text(&out.stderr).contains("::error file=.trivyignore.yaml,line=1,title="),
        "{}",
        text(&out.stderr)
    );
}

// See: issue 8 item 2
#[test]
fn empty_or_unknown_fail_on_is_a_usage_error() {
    let dir = workdir();
    for list in ["", ",", " ", "HIGHH", "HIGH,SEVERE"] {
        for flag in ["--fail-on", "--report"] {
            let (out, outputs, _) = step(dir.path(), &[flag, list, "image.json"]);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{flag} {list:?}: {stderr}");
            assert!(stderr.contains(flag), "{flag} {list:?}: {stderr}");
            assert!(outputs.contains("result=error"), "{outputs}");
        }
    }
    for yaml in [
        "policy:\n  trivy:\n    fail-on: []\n",
        "policy:\n  trivy:\n    fail-on: [\"\"]\n",
        "policy:\n  trivy:\n    classes:\n      secret:\n        fail-on: []\n",
    ] {
        let (code, stderr) = with_file(dir.path(), "cicd.yaml", yaml);
        assert_eq!(code, Some(2), "{yaml}: {stderr}");
        assert!(
            stderr.contains("cicd.yaml:3:") || stderr.contains("cicd.yaml:5:"),
            "{stderr}"
        );
        assert!(stderr.contains("is empty"), "{stderr}");
    }
}

/// `(misconfiguration, secret)` failures in a gate's JSON.
fn class_counts(json: &Value) -> (u64, u64) {
    let by = &json["gate"]["failing_by_class"];
    let n = |k: &str| by[k].as_u64().unwrap_or(0);
    (n("misconfiguration"), n("secret"))
}

// See: issue 8 item 3
#[test]
fn same_id_at_different_places_is_not_merged() {
    let (code, json, stderr) = crate::trivy::gate_json(
        &data("trivy"),
        &["--fail-on", "CRITICAL,HIGH,MEDIUM,LOW", "examples.json"],
    );
    assert_eq!(code, 1, "{stderr}");
    // Trivy's own counts for this report (`trivy fs … examples`): 23 failed checks (KSV-0118
    // on two resources, DS-0005 on three lines), 3 secrets (two in app.env, one in
    // deploy.toml). The agreement property test checks these against `trivy convert`.
    assert_eq!(class_counts(&json), (23, 3), "{}", json["gate"]);
    let lines = |id: &str| -> Vec<u64> {
        let mut v: Vec<u64> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["id"] == id)
            .map(|f| f["line"].as_u64().unwrap_or(0))
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(lines("DS-0005"), [27, 28, 29]);
    assert_eq!(lines("KSV-0118"), [146, 149]);
    assert_eq!(lines("aws-access-key-id"), [1, 2, 3]);
    // `max:` counts every one of them.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    std::fs::copy(
        data("trivy").join("examples.json"),
        dir.path().join("examples.json"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("cicd.yaml"),
        "policy:\n  trivy:\n    classes:\n      secret:\n        max: 2\n      misconfiguration:\n        enabled: false\n",
    )
    .expect("write");
    let (code, json, _) = crate::trivy::gate_json(dir.path(), &["examples.json"]);
    assert_eq!(
        code, 1,
        "3 secrets are over a maximum of 2: {}",
        json["gate"]
    );
}

// See: issue 8 item 4
#[test]
fn impossible_expiry_date_is_rejected_at_its_line() {
    let dir = workdir();
    let (code, stderr) = with_file(
        dir.path(),
        "cicd.yaml",
        "policy:\n  trivy:\n    ignores:\n      - id: CVE-2024-2961\n        reason: not reachable\n        expires: 2026-02-30\n",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cicd.yaml:6:"), "{stderr}");
    assert!(stderr.contains("2026-02-30"), "{stderr}");
    std::fs::remove_file(dir.path().join("cicd.yaml")).expect("rm");
    let (code, stderr) = with_file(
        dir.path(),
        ".trivyignore.yaml",
        "vulnerabilities:\n  - id: CVE-2024-2961\n    expired_at: 2026-02-30\n",
    );
    assert_eq!(code, Some(2), "{stderr}");
    // The entry's line: the date is checked as the entry is read.
    assert!(stderr.contains(".trivyignore.yaml:2:"), "{stderr}");
    assert!(stderr.contains("2026-02-30"), "{stderr}");
}

// See: issue 8 item 5
#[test]
fn unknown_key_in_trivyignore_yaml_is_rejected() {
    let dir = workdir();
    for (yaml, line) in [
        ("vulnerabilities:\n  - idd: CVE-2024-2961\n", ":2:"),
        (
            "vulnerabilities:\n  - id: CVE-2024-2961\n    path: [x]\n",
            ":3:",
        ),
        ("vulnerability:\n  - id: CVE-2024-2961\n", ":1:"),
    ] {
        let (code, stderr) = with_file(dir.path(), ".trivyignore.yaml", yaml);
        assert_eq!(code, Some(2), "{yaml}: {stderr}");
        assert!(
            stderr.contains(&format!(".trivyignore.yaml{line}")),
            "{yaml}: {stderr}"
        );
        assert!(stderr.contains("unknown field"), "{stderr}");
    }
}

/// No line of `s` opens a workflow command, except cicd's own annotations
/// (`::error file=…` / `::warning title=…` with properties, escaped data).
fn assert_no_injected_commands(s: &str, ctx: &str) {
    for line in s.lines() {
        let t = line.trim_start();
        if !t.starts_with("::") {
            assert!(!t.contains("##["), "{ctx}: {line}");
            continue;
        }
        // The runner reads the command name up to a space or `::`: cicd's own always have
        // properties; `::error::x` or `::add-mask::x` would have come from input.
        let own = ["::error ", "::warning ", "::notice "]
            .iter()
            .any(|p| t.starts_with(p));
        assert!(own, "{ctx}: injected command line {line:?}");
    }
}

const PAYLOAD: &str = "x\n::add-mask::hunter2\r\n  ::error::pwned %0A ##[group]g | <script>`y`";

// See: issue 8 item 8
#[test]
fn report_text_cannot_inject_workflow_commands() {
    let dir = workdir();
    let report = json!({
        "SchemaVersion": 2,
        "ArtifactName": format!("app{PAYLOAD}"),
        "Results": [{
            "Target": format!("Dockerfile{PAYLOAD}"),
            "Class": "config",
            "Misconfigurations": [{
                "ID": format!("DS-0002{PAYLOAD}"), "Title": PAYLOAD, "Message": PAYLOAD,
                "Resolution": PAYLOAD, "Severity": "HIGH", "Status": "FAIL",
                "CauseMetadata": {"StartLine": 3, "EndLine": 3}
            }]
        }, {
            "Target": "requirements.txt",
            "Class": "lang-pkgs",
            "Vulnerabilities": [{
                "VulnerabilityID": "CVE-1", "PkgName": PAYLOAD, "InstalledVersion": PAYLOAD,
                "FixedVersion": PAYLOAD, "PkgPath": PAYLOAD, "Severity": "CRITICAL",
                "Title": PAYLOAD
            }]
        }]
    });
    let name = "evil.json";
    std::fs::write(
        dir.path().join(name),
        serde_json::to_vec(&report).expect("json"),
    )
    .expect("write");
    for format in ["plain", "json", "sarif", "github"] {
        let (out, _, summary) = step(dir.path(), &["--format", format, name]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let ctx = format!("--format {format}");
        assert_no_injected_commands(&text(&out.stdout), &ctx);
        assert_no_injected_commands(&text(&out.stderr), &ctx);
        assert!(!summary.contains("<script>"), "{summary}");
        assert!(!summary.contains("| <"), "{summary}");
        if format == "json" {
            let json: Value = serde_json::from_slice(&out.stdout).expect("json");
            let f = &json["findings"].as_array().expect("findings");
            assert!(f.iter().any(|f| f["package"] == PAYLOAD), "exact text kept");
        }
    }
    // The issue's case: a `uses:` value holding a newline and a command, in `cicd check`.
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::write(
        dir.path().join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: \"a/b@v1\\n::add-mask::hunter2\"\n",
    )
    .expect("write");
    for env in [None, Some("true")] {
        let mut cmd = cicd();
        cmd.current_dir(dir.path())
            .args(["check", "--offline", "--color", "never", "."]);
        if let Some(v) = env {
            cmd.env("GITHUB_ACTIONS", v);
        }
        let out = cmd.output().expect("run");
        assert_no_injected_commands(&text(&out.stdout), "cicd check");
        assert_no_injected_commands(&text(&out.stderr), "cicd check");
    }
}

// See: issue 8 item 15
#[test]
fn unreadable_input_never_reads_as_a_clean_result() {
    let dir = workdir();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), "on: [push\n").expect("write");
    let out = cicd()
        .current_dir(dir.path())
        .args(["check", "--offline", "--color", "never", "."])
        .output()
        .expect("run");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(!stdout.contains("no findings in 1 file"), "{stdout}");
    assert!(stdout.contains("1 file could not be read"), "{stdout}");
    std::fs::write(dir.path().join("zero.json"), "").expect("write");
    let out = cicd()
        .current_dir(dir.path())
        .args(["check", "trivy", "zero.json"])
        .output()
        .expect("run");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("no findings in"), "{stdout}");
    assert!(
        stdout.contains("1 file could not be read: nothing was checked"),
        "{stdout}"
    );
}

// See: issue 8 item 20
#[test]
fn table_shows_where_and_what_is_new() {
    let dir = workdir();
    let vuln = |path: &str| {
        json!({"VulnerabilityID": "CVE-2024-35195", "PkgName": "requests",
               "InstalledVersion": "2.31.0", "FixedVersion": "2.32.0", "Severity": "MEDIUM",
               "PkgPath": path})
    };
    let report = |paths: &[&str]| {
        json!({"SchemaVersion": 2, "ArtifactName": "app", "Results": [{
            "Target": "Python", "Class": "lang-pkgs",
            "Vulnerabilities": paths.iter().map(|p| vuln(p)).collect::<Vec<_>>()}]})
    };
    let write = |name: &str, v: Value| {
        std::fs::write(dir.path().join(name), serde_json::to_vec(&v).expect("json")).expect("write")
    };
    write("base.json", report(&["venv/a/METADATA"]));
    let mut now = report(&["venv/a/METADATA", "venv/b/METADATA"]);
    let mut other = vuln("venv/c/METADATA");
    other["VulnerabilityID"] = json!("CVE-2024-47081");
    now["Results"][0]["Vulnerabilities"]
        .as_array_mut()
        .expect("vulns")
        .push(other);
    write("now.json", now);
    let out = cicd()
        .current_dir(dir.path())
        .args([
            "check",
            "trivy",
            "--color",
            "never",
            "--baseline",
            "base.json",
            "now.json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out.stdout), @"
    MEDIUM (3)
      ID              PACKAGE   INSTALLED  FIXED   CLASS          TARGET  PATH             NEW
      CVE-2024-35195  requests  2.31.0     2.32.0  vulnerability  Python  venv/a/METADATA
      CVE-2024-35195  requests  2.31.0     2.32.0  vulnerability  Python  venv/b/METADATA
      CVE-2024-47081  requests  2.31.0     2.32.0  vulnerability  Python  venv/c/METADATA  new

    3 findings (3 medium) in 1 file
    gate: FAILED
      - 1 new vulnerability at CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN (at most 0 allowed)
    ");
}

// See: issue 8 item 20
#[test]
fn vex_out_without_statements_writes_no_file() {
    let dir = workdir();
    let vex = dir.path().join("vex.json");
    std::fs::write(&vex, "{\"stale\": true}").expect("write");
    let (out, outputs, _) = step(
        dir.path(),
        &[
            "--vex-out",
            "vex.json",
            "--fail-on",
            "CRITICAL",
            "--report",
            "CRITICAL",
            "image.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !vex.exists(),
        "a stale document is not left for later steps"
    );
    assert!(outputs.contains("vex=\n"), "{outputs}");
    assert!(
        text(&out.stderr).contains("OpenVEX needs at least one"),
        "{}",
        text(&out.stderr)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    // See: issue 8 item 8
    #[test]
    fn every_renderer_escapes_input_text(
        s in prop::string::string_regex("(.|\n|\r|%|::|\\||<script>|##\\[|`)*").expect("regex"),
    ) {
        use cicd::report::{self, Finding, Gate, InputProblem, Location, Report, ScanFacts, Severity, Verdict};
        // `Pos` is named nowhere here, so this test does not care which module owns it.
        let mut location = Location {
            file: s.clone().into(),
            start: Default::default(),
            end: Default::default(),
            symbolic: s.clone(),
        };
        location.start.line = 1;
        location.start.column = 1;
        location.end = location.start;
        let finding = Finding {
            rule: "trivy-vulnerability".into(),
            severity: Severity::High,
            message: s.clone(),
            location: Some(location),
            fix: Some(s.clone()),
            subject: Some(s.clone()),
            facts: Some(Box::new(ScanFacts {
                id: s.clone(), class: "vulnerability", package: Some(s.clone()),
                target: s.clone(), pkg_path: Some(s.clone()), report: s.clone(),
                ..ScanFacts::default()
            })),
        };
        let r = Report {
            title: "t".into(),
            findings: vec![finding],
            problems: vec![InputProblem::new(s.clone().into(), None, s.clone())],
            inputs: 1,
            notes: vec![s.clone()],
            gate: Some(Gate { failed: true, result: Verdict::Error, reasons: vec![s.clone()], ..Gate::default() }),
            ..Report::default()
        };
        let render = |f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
            let mut out = Vec::new();
            f(&mut out).expect("render");
            String::from_utf8(out).expect("utf-8")
        };
        let plain = render(&|o| report::terminal::render(&r, o, false));
        let table = render(&|o| report::table::render(&r, &[report::table::Column::Id, report::table::Column::Target, report::table::Column::Path], o, false));
        let github = render(&|o| report::github::render(&r, o));
        let json = render(&|o| report::json::render(&r, o));
        let sarif = render(&|o| report::sarif::render(&r, o));
        for (name, out) in [("plain", &plain), ("table", &table), ("github", &github), ("json", &json), ("sarif", &sarif)] {
            assert_no_injected_commands(out, name);
        }
        let problem = format!("{}", r.problems[0]);
        prop_assert!(!problem.contains('\n') && !problem.trim_start().starts_with("::"));
        for md in [report::summary::markdown(&r), report::summary::gate_markdown(&r)] {
            prop_assert!(!md.contains("<script>"), "{}", md);
            for line in md.lines().filter(|l| l.starts_with('|')) {
                // Every cell boundary is cicd's: a `|` from input is escaped.
                let cells = line.matches('|').count() - line.matches("\\|").count();
                prop_assert!(cells >= 2, "{}", line);
            }
        }
        let j: Value = serde_json::from_str(&json).expect("json");
        prop_assert_eq!(j["findings"][0]["message"].as_str(), Some(s.as_str()));
        prop_assert_eq!(j["findings"][0]["id"].as_str(), Some(s.as_str()));
        prop_assert_eq!(j["errors"][0]["message"].as_str(), Some(s.as_str()));
        let v: Value = serde_json::from_str(&sarif).expect("sarif");
        let result = &v["runs"][0]["results"][0];
        prop_assert_eq!(result["properties"]["package"].as_str(), Some(s.as_str()));
        if !s.is_empty() {
            let name = &result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"];
            prop_assert_eq!(name.as_str(), Some(s.as_str()));
        }
    }
}
