//! Inside GitHub Actions: outputs `critical`, `high`, `medium`, `low`, `new`, `failed`, a job
//! summary, and annotations only for findings that point at a file and line.

use super::fixture;
use crate::harness::cicd;

#[test]
fn outputs_summary_and_annotations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("output");
    let summary = dir.path().join("summary.md");
    let out = cicd()
        .current_dir(fixture(""))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("CICD_NOW")
        .args([
            "check",
            "trivy",
            "--format",
            "sarif",
            "--fail-on",
            "CRITICAL",
        ])
        .args(["--baseline", "image.json", "image.json", "fs.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("stdout stays SARIF");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Only findings with a file and line; the level follows the severity.
    let annotations: Vec<&str> = stderr.lines().filter(|l| l.starts_with("::")).collect();
    let levels: Vec<&str> = annotations
        .iter()
        .filter_map(|a| a[2..].split(' ').next())
        .collect();
    assert_eq!(
        levels,
        ["error", "error", "error", "error", "error", "warning"],
        "{stderr}"
    );
    assert!(annotations.iter().all(|a| a.contains(" file=")), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&output).expect("output"),
        "critical=4\nhigh=6\nmedium=4\nlow=3\nnew=6\nfailed=true\nresult=failed\nvex=\n"
    );
    insta::assert_snapshot!(std::fs::read_to_string(&summary).expect("summary"), @r#"
    ## cicd check trivy

    :x: **gate failed**

    - 2 new secrets at CRITICAL (at most 0 allowed)

    | critical | high | medium | low | unknown |
    |---:|---:|---:|---:|---:|
    | 4 | 6 | 4 | 3 | 1 |

    Against the baseline: **6 new**, 0 fixed.

    | severity | id | package | installed | fixed | target | path | new |
    |---|---|---|---|---|---|---|---|
    | critical | aws-access-key-id |  |  |  | config.py:1 |  | new |
    | critical | github-pat |  |  |  | config.py:2 |  | new |
    | critical | CVE-2023-45853 | zlib1g | 1:1.2.13.dfsg-1 |  | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    | critical | CVE-2024-24790 | stdlib | v1.22.1 | 1.21.11, 1.22.4 | usr/local/bin/app |  |  |
    | high | CVE-2021-23337 | lodash | 4.17.20 | 4.17.21 | app/package-lock.json:12 |  |  |
    | high | CVE-2023-5363 | libssl3 | 3.0.11-1\~deb12u1 | 3.0.11-1\~deb12u2 | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    | high | CVE-2024-2961 | libc6 | 2.36-9+deb12u4 | 2.36-9+deb12u7 | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    | high | CVE-2024-33599 | libc6 | 2.36-9+deb12u4 | 2.36-9+deb12u7 | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    | high | DS-0002 |  |  |  | Dockerfile:3 |  | new |
    | high | DS-0025 |  |  |  | Dockerfile:2 |  | new |
    | medium | CVE-2020-28500 | lodash | 4.17.20 | 4.17.21 | app/package-lock.json:12 |  |  |
    | medium | CVE-2023-45288 | golang.org/x/net | v0.17.0 | 0.23.0 | usr/local/bin/app |  |  |
    | medium | CVE-2024-0727 | libssl3 | 3.0.11-1\~deb12u1 | 3.0.13-1\~deb12u1 | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    | medium | CVE-2024-35195 | requests | 2.31.0 | 2.32.0 | Python | usr/local/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA |  |
    | low | CVE-2011-3374 | apt | 2.6.1 |  | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    | low | DS-0026 |  |  |  | Dockerfile |  | new |
    | low | MIT | lodash |  |  | package-lock.json | package-lock.json | new |
    | unknown | TEMP-0841856-B18BAF | bash | 5.2.15-2+b2 |  | ghcr.io/example/app:1.4.2 (debian 12.5) |  |  |
    "#);
}
