//! `cicd.yaml`: found at the repository root or via `--config`, rejected with file:line:column
//! when wrong, and its settings honoured.

use crate::harness::{check_json, cicd, data};

fn config_error(config: &str) -> String {
    let out = cicd()
        .current_dir(data("check"))
        .args(["--config", config, "check", "clean/workflows/pinned.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn wrong_type_names_file_line_column() {
    insta::assert_snapshot!(config_error("bad/config-wrong-type/cicd.yaml"), @"error: bad/config-wrong-type/cicd.yaml:5:14: policy.rules.unpinned-action.allow: invalid type: integer `5`, expected a sequence");
}

#[test]
fn unknown_key_names_file_line_column() {
    insta::assert_snapshot!(config_error("bad/config-unknown-key/cicd.yaml"), @"error: bad/config-unknown-key/cicd.yaml:5:3: policy: unknown field `rulez`, expected one of `ignore`, `rules`, `trivy`");
}

fn repo_with_config(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".git")).expect("git dir");
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::copy(
        data("check/workflows/ci-basic.yml"),
        dir.path().join(".github/workflows/ci.yml"),
    )
    .expect("copy");
    std::fs::copy(
        data("check/workflows/services.yml"),
        dir.path().join(".github/workflows/services.yml"),
    )
    .expect("copy");
    std::fs::create_dir_all(dir.path().join("vendor/x")).expect("mkdir");
    std::fs::copy(
        data("check/dockerfiles/latest/Dockerfile"),
        dir.path().join("vendor/x/Dockerfile"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("cicd.yaml"), config).expect("config");
    dir
}

/// Runs `cicd check` in a repository with `config`; expects exit 2 and returns stderr.
fn rejected(config: &str) -> String {
    let dir = repo_with_config(config);
    let out = cicd()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unknown_rule_and_bad_severity_are_located() {
    insta::assert_snapshot!(rejected("policy:\n  rules:\n    unpinned-actions: {}\n"), @"error: cicd.yaml:3:5: unknown rule `unpinned-actions`; rules are: unpinned-action, unpinned-image, pin-comment-mismatch, impostor-commit, unverifiable-image, compose-exposed-port, compose-docker-socket, compose-optional-secret, compose-default-credential, compose-privileged, traefik-insecure-api, dockerfile-root-user, dockerfile-single-stage, scan-continue-on-error, scan-not-gating, image-not-scanned, excessive-permissions");
    insta::assert_snapshot!(rejected("policy:\n  rules:\n    unpinned-image:\n      severity: severe\n"), @"error: cicd.yaml:4:17: unknown severity `severe`; use low, medium, high or critical");
    insta::assert_snapshot!(rejected("policy:\n  ignore: ['a/[b']\n"), @"error: cicd.yaml:2:11: ignore pattern 1 is not a valid glob: error parsing glob 'a/[b': unclosed character class; missing ']'");
}

#[test]
fn settings_are_honoured() {
    let base = repo_with_config("");
    let (_, json) = check_json(base.path(), &[]);
    let count = |json: &serde_json::Value, rule: &str| {
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == rule)
            .count()
    };
    assert_eq!(count(&json, "unpinned-action"), 2);
    assert_eq!(
        count(&json, "unpinned-image"),
        5,
        "vendor/x/Dockerfile included: {json:#}"
    );

    // Found from a subdirectory too (up to the directory holding .git).
    let dir = repo_with_config(
        "policy:\n  ignore: [vendor/]\n  rules:\n    unpinned-action:\n      allow: ['actions/*']\n    unpinned-image:\n      severity: low\n      allow: ['docker.io/library/postgres']\n",
    );
    let (code, json) = check_json(&dir.path().join(".github"), &[".."]);
    assert_eq!(code, 1);
    // Tag pins of actions/* are allowed.
    let actions: Vec<_> = json["findings"]
        .as_array()
        .expect("f")
        .iter()
        .filter(|f| f["rule"] == "unpinned-action")
        .collect();
    assert_eq!(actions.len(), 0, "{actions:#?}");
    let images: Vec<_> = json["findings"]
        .as_array()
        .expect("f")
        .iter()
        .filter(|f| f["rule"] == "unpinned-image")
        .collect();
    // postgres:16 allowed, vendor/ ignored; untagged and :latest images stay findings.
    assert_eq!(images.len(), 3, "{images:#?}");
    assert!(images.iter().all(|f| f["severity"] == "low"));

    let dir = repo_with_config(
        "policy:\n  rules:\n    unpinned-image: {enabled: false}\n    unpinned-action: {enabled: false}\n    excessive-permissions: {enabled: false}\n    dockerfile-root-user: {enabled: false}\n",
    );
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(
        (code, json["findings"].as_array().map(Vec::len)),
        (0, Some(0))
    );
}
