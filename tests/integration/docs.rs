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

/// README's main-job command on a fresh machine, after `cargo install`.
const MAIN_JOB: &str = "cd examples/hello && export CICD_KEY_PASSWORD= && { [ -f cosign.key ] || cicd keygen --prefix cosign; } && cicd release --version 0.1.0 --to oci:./dist/oci --offline";

/// The README's first command releases the embedded example (`examples/hello`) with no
/// registry, Docker or GitHub: built for two platforms, an SBOM per platform, signed with the
/// local key, tagged by the scheme, into an OCI layout that verifies. Run here on a copy in a
/// fresh git repository, as a clone is.
#[test]
fn readme_main_job_releases_the_example_into_a_layout() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    assert!(readme.contains(MAIN_JOB), "README must show: {MAIN_JOB}");
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("examples/hello");
    std::fs::create_dir_all(dir.join("site")).expect("mkdir");
    let example = repo_root().join("examples/hello");
    for file in ["cicd.yaml", "site/index.html", ".gitignore"] {
        std::fs::copy(example.join(file), dir.join(file)).expect(file);
    }
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .current_dir(tmp.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .expect("git");
        assert!(ok.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "feat: the example"]);
    // The command as the README spells it, with `cicd` being the binary under test.
    let bin = env!("CARGO_BIN_EXE_cicd");
    let script = format!("cicd() {{ '{bin}' \"$@\"; }}; {MAIN_JOB}");
    for run in ["first", "second (idempotent)"] {
        let out = std::process::Command::new("bash")
            .current_dir(tmp.path())
            .args(["-c", &script])
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("bash");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{run} run: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("signed: yes"), "{run}: {stdout}");
        assert!(
            stdout.contains("tags: 0.1.0, 0.1, latest"),
            "{run}: {stdout}"
        );
    }
    for sbom in ["hello.linux-amd64.cdx.json", "hello.linux-arm64.cdx.json"] {
        assert!(dir.join("dist/sbom").join(sbom).is_file(), "{sbom}");
    }
    let verified = cicd()
        .current_dir(&dir)
        .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .arg("oci:./dist/oci/hello:0.1.0")
        .output()
        .expect("verify");
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}
