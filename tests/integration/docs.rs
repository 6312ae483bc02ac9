//! Docs that name files and commands stay true, and cicd passes its own check.

use crate::harness::{cicd, repo_root};

/// Every repository path the README puts in backticks exists.
#[test]
fn readme_paths_exist() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    let mut checked = 0;
    for (i, chunk) in readme.split('`').enumerate() {
        let looks_like_path = i % 2 == 1
            && !chunk.contains([' ', '*'])
            && (chunk.starts_with("scripts/")
                || chunk.starts_with("src/")
                || chunk.starts_with(".ci/")
                || chunk.starts_with(".github/")
                || chunk.starts_with("tests/")
                || chunk.ends_with(".md")
                || chunk == "cicd.yaml");
        if looks_like_path {
            assert!(
                repo_root().join(chunk).exists(),
                "README names `{chunk}`, which does not exist"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "README names too few files to be a useful guide ({checked})"
    );
}

/// `.ci/run` runs the very test command the README shows.
#[test]
fn ci_runs_the_readme_test_command() {
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).expect(".ci/run");
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    assert!(ci.contains("scripts/test"), "{ci}");
    assert!(readme.contains("scripts/test"));
}

/// The repository's own workflows, actions, Dockerfiles and compose files are pinned.
#[test]
fn cicd_checks_itself() {
    let out = cicd()
        .current_dir(repo_root())
        .args(["check", "--offline", "--color", "never"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("no findings in ")),
        "{stdout}"
    );
}
