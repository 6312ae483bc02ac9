//! Inside GitHub Actions (`GITHUB_ACTIONS=true`): annotations, a Markdown step summary and
//! the `findings` output are written without being asked for.

use crate::harness::{cicd, data};

#[test]
fn annotations_summary_and_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("output");
    let summary = dir.path().join("summary.md");
    std::fs::write(&output, "earlier=1\n").expect("seed");
    let out = cicd()
        .current_dir(data("check"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "check",
            "--color",
            "never",
            "workflows/services.yml",
            "workflows/tag-refs.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let annotations: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 10, "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&output).expect("output"),
        "earlier=1\nfindings=10\n"
    );
    insta::assert_snapshot!(std::fs::read_to_string(&summary).expect("summary"), @r#"
    ## cicd check

    **10 findings (2 high, 8 medium) in 2 files**

    | rule | high | medium | total |
    |---|---:|---:|---:|
    | `unpinned-action` | 0 | 6 | 6 |
    | `unpinned-image` | 2 | 2 | 4 |

    | severity | rule | location | finding |
    |---|---|---|---|
    | medium | `unpinned-image` | `workflows/services.yml:8:16` | service container image \`postgres:16\` is pinned to tag \`16\`, not a digest |
    | high | `unpinned-image` | `workflows/services.yml:17:16` | service container image \`redis\` uses \`latest\`, which changes with every release |
    | high | `unpinned-image` | `workflows/services.yml:19:16` | service container image \`mongo:latest\` uses \`latest\`, which changes with every release |
    | medium | `unpinned-image` | `workflows/services.yml:25:17` | service container image \`docker.elastic.co/elasticsearch/elasticsearch:8.15.0\` is pinned to tag \`8.15.0\`, not a digest |
    | medium | `unpinned-action` | `workflows/tag-refs.yml:7:15` | action \`actions/checkout@v4\` is pinned to tag \`v4\`, which can be moved |
    | medium | `unpinned-action` | `workflows/tag-refs.yml:8:15` | action \`actions/setup-node@v4.1.1\` is pinned to tag \`v4.1.1\`, which can be moved |
    | medium | `unpinned-action` | `workflows/tag-refs.yml:9:15` | action \`jdx/mise-action@v2.1\` is pinned to tag \`v2.1\`, which can be moved |
    | medium | `unpinned-action` | `workflows/tag-refs.yml:10:15` | action \`rhysd/action-setup-vim@1.2\` is pinned to tag \`1.2\`, which can be moved |
    | medium | `unpinned-action` | `workflows/tag-refs.yml:11:15` | action \`aquasecurity/trivy-action@0.28.0\` is pinned to tag \`0.28.0\`, which can be moved |
    | medium | `unpinned-action` | `workflows/tag-refs.yml:14:15` | action \`softprops/action-gh-release@v2.0.8\` is pinned to tag \`v2.0.8\`, which can be moved |
    "#);
}

/// With `--format json` stdout stays pure JSON; the annotations go to stderr, which the
/// runner also reads for workflow commands.
#[test]
fn json_stays_parseable_in_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cicd()
        .current_dir(data("check"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.path().join("o"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("s"))
        .args(["check", "--format", "json", "workflows/services.yml"])
        .output()
        .expect("run");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("pure JSON");
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("::error file=workflows/services.yml,"))
            .count(),
        4,
        "{stderr}"
    );
}

#[test]
fn nothing_is_written_outside_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("output");
    let out = cicd()
        .current_dir(data("check"))
        .env("GITHUB_OUTPUT", &output)
        .args(["check", "workflows/services.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(!output.exists());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::error"));
}
