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

/// The minimum Rust version the README states is `Cargo.toml`'s `rust-version`.
// See: issue 8 item 20
#[test]
fn readme_states_the_msrv_cargo_toml_declares() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml");
    let declared = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version"))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("Cargo.toml declares rust-version");
    let stated = readme
        .split("Minimum supported Rust version: ")
        .nth(1)
        .and_then(|rest| rest.split([' ', '\n']).next())
        .expect("README states the minimum supported Rust version");
    assert_eq!(stated, declared);
}

/// A clone has only the repository: the README links nowhere outside it.
// See: issue 8 item 20
#[test]
fn readme_links_stay_inside_the_repository() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    for (i, target) in readme.split("](").skip(1).enumerate() {
        let target = target.split(')').next().unwrap_or_default();
        if target.starts_with("http") || target.starts_with('#') {
            continue;
        }
        assert!(
            !target.starts_with("..") && !target.starts_with('/'),
            "link {i} leaves the repository: {target}"
        );
        let path = target.split('#').next().unwrap_or_default();
        assert!(
            repo_root().join(path).exists(),
            "link {i} points at {path}, which does not exist"
        );
    }
    assert!(!readme.contains("../shared"), "README names ../shared");
}
