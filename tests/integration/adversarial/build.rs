//! Adversarial cases for `cicd build` (see `mod.rs`): inputs that must stop a build with exit 2
//! and a reason before anything is pushed, and Actions outputs that never report a failure as
//! a digest.

use std::path::Path;

use serde_json::Value;

use crate::build::{json, project, run};
use crate::harness::registry::plain;
use crate::harness::{require_tool, run_tool};

/// Whether the registry has anything under `repo` (a build that failed must leave nothing).
fn pushed_anything(repo: &str) -> bool {
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let (ok, text) = run_tool(
        &bin,
        &[
            "list-tags".as_ref(),
            "--tls-verify=false".as_ref(),
            format!("docker://{repo}").as_ref(),
        ],
    );
    ok && !text.contains("\"Tags\": []")
}

fn refused(dir: &Path, repo: &str, args: &[&str], reason: &str) {
    let to = format!("docker://{repo}");
    let mut all = vec!["build", "bb", "--to", to.as_str()];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(dir, &all);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(reason),
        "{args:?}: expected `{reason}` in {stderr}"
    );
    assert!(
        !pushed_anything(repo),
        "{args:?} pushed something to {repo}"
    );
}

// See: issue 11 (bad input: missing source file, unknown platform, unreadable file, escape)
#[test]
fn build_bad_inputs_exit_2_with_the_reason_and_push_nothing() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let repo = |n: &str| format!("{}/adversarial/build-{n}", reg.addr);
    // Unknown platform on the command line, and one the image does not list.
    refused(
        tmp.path(),
        &repo("p1"),
        &["--platform", "linux/sparc"],
        "unknown platform `linux/sparc`",
    );
    refused(
        tmp.path(),
        &repo("p2"),
        &["--platform", "linux/s390x"],
        "does not list platform linux/s390x",
    );
    // A missing source file: only arm64's is gone, and amd64 must not be pushed either.
    std::fs::remove_file(tmp.path().join("dist/arm64/busybox")).expect("rm");
    refused(tmp.path(), &repo("missing"), &[], "dist/arm64/busybox");
    // A source that cannot be read as a file (a directory).
    std::fs::create_dir(tmp.path().join("dist/arm64/busybox")).expect("dir");
    refused(tmp.path(), &repo("dir"), &[], "is not a regular file");
    // A symlink out of the build tree is refused, not followed.
    std::fs::remove_dir(tmp.path().join("dist/arm64/busybox")).expect("rmdir");
    std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("dist/arm64/busybox")).expect("ln");
    refused(tmp.path(), &repo("escape"), &[], "leaves the build tree");
    // A config error points at its line.
    std::fs::write(
        tmp.path().join("cicd.yaml"),
        "images:\n  - name: bb\n    platforms: [linux/amd64, linux/m68k]\n    native: {}\n",
    )
    .expect("config");
    refused(tmp.path(), &repo("config"), &[], "cicd.yaml:3:");
}

// See: issue 11 (base image without the requested platform; base pinned by digest)
#[test]
fn build_base_image_must_be_pinned_and_have_every_platform() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let base_repo = format!("{}/adversarial/base", reg.addr);
    // The base: an index with one platform (amd64).
    std::fs::write(
        tmp.path().join("base.yaml"),
        "images:\n  - name: base\n    platforms: [linux/amd64]\n    native:\n      files: [{src: motd, dst: /etc/motd}]\n",
    )
    .expect("base config");
    let base = json(
        tmp.path(),
        &[
            "build",
            "base",
            "--config",
            "base.yaml",
            "--to",
            &format!("docker://{base_repo}"),
            "--json",
        ],
    );
    let pinned = format!("{base_repo}@{}", base["digest"].as_str().expect("digest"));
    std::fs::write(tmp.path().join("app"), "app\n").expect("app");
    let config = |base: &str, platforms: &str| {
        format!(
            "images:\n  - name: bb\n    platforms: [{platforms}]\n    native:\n      base: {base}\n      files: [{{src: app, dst: /app}}]\n"
        )
    };
    std::fs::write(
        tmp.path().join("cicd.yaml"),
        config(&pinned, "linux/amd64, linux/arm64"),
    )
    .expect("w");
    refused(
        tmp.path(),
        &format!("{}/adversarial/on-base-1", reg.addr),
        &[],
        "has no linux/arm64 variant",
    );
    std::fs::write(
        tmp.path().join("cicd.yaml"),
        config(&format!("{base_repo}:latest"), "linux/amd64"),
    )
    .expect("w");
    refused(
        tmp.path(),
        &format!("{}/adversarial/on-base-2", reg.addr),
        &[],
        "not pinned by digest",
    );
    // The pinned base with the platform it has: its layers come first, ours on top.
    std::fs::write(tmp.path().join("cicd.yaml"), config(&pinned, "linux/amd64")).expect("w");
    let on_base = format!("docker://{}/adversarial/on-base-3", reg.addr);
    let built = json(tmp.path(), &["build", "bb", "--to", &on_base, "--json"]);
    let child = built["platforms"][0]["digest"].as_str().expect("d");
    let m: Value = serde_json::from_str(&crate::build::skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{on_base}@{child}"),
    ]))
    .expect("manifest");
    assert_eq!(m["layers"].as_array().expect("layers").len(), 2);
    assert_eq!(
        m["annotations"]["org.opencontainers.image.base.digest"],
        base["platforms"][0]["digest"]
    );
    assert_eq!(
        m["annotations"]["org.opencontainers.image.base.name"],
        pinned.as_str()
    );
}

// See: issue 11 (fail closed: Actions outputs only after success)
#[test]
fn build_actions_outputs_name_digests_only_on_success() {
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let output = tmp.path().join("output");
    let summary = tmp.path().join("summary");
    let layout = format!("oci:{}", tmp.path().join("out").display());
    let go = |dir: &Path| {
        crate::harness::cicd()
            .current_dir(dir)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["build", "bb", "--to", &layout])
            .output()
            .expect("run")
    };
    let ok = go(tmp.path());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let text = std::fs::read_to_string(&output).expect("output");
    assert!(
        text.lines().any(|l| l.starts_with("digest=sha256:")),
        "{text}"
    );
    let map = text
        .lines()
        .find_map(|l| l.strip_prefix("platform-digests="))
        .expect("platform-digests");
    let map: Value = serde_json::from_str(map).expect("json map");
    assert!(
        map["linux/arm64"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    let table = std::fs::read_to_string(&summary).expect("summary");
    assert!(table.contains("| linux/amd64 | `sha256:"), "{table}");
    // A failed build appends nothing.
    std::fs::remove_file(&output).expect("rm");
    std::fs::remove_file(tmp.path().join("motd")).expect("rm");
    let failed = go(tmp.path());
    assert_eq!(failed.status.code(), Some(2));
    assert!(!output.exists() || std::fs::read_to_string(&output).expect("o").is_empty());
}

// See: issue 11 (tool backends: a missing tool is exit 2 with a hint, a failing one exit 3
// with its own words)
#[test]
fn build_tool_backends_missing_tool_exit_2_failing_tool_exit_3() {
    require_tool("buildah", "apt-get install buildah");
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM scratch\nCOPY missing-file /x\n",
    )
    .expect("w");
    std::fs::write(
        tmp.path().join("cicd.yaml"),
        "images:\n  - name: bb\n    platforms: [linux/amd64]\n    dockerfile: {}\n",
    )
    .expect("config");
    let layout = format!("oci:{}", tmp.path().join("out").display());
    let (code, _, stderr) = run(tmp.path(), &["build", "bb", "--to", &layout]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("`buildah build` failed") && stderr.contains("missing-file"),
        "{stderr}"
    );
    let empty = tempfile::tempdir().expect("empty PATH");
    for (backend, tool) in [("buildah", "buildah"), ("buildx", "docker")] {
        let out = crate::harness::cicd()
            .current_dir(tmp.path())
            .env("PATH", empty.path())
            .args([
                "build",
                "bb",
                "--backend",
                backend,
                "--to",
                "docker://127.0.0.1:9/x",
            ])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("`{tool}` is not installed")),
            "{stderr}"
        );
    }
}

/// A fan-out record is written by another job and may be tampered with: a repository or
/// platform carrying a newline and a workflow command is refused (exit 2, the reason named),
/// no line of output starts a workflow command, and `$GITHUB_OUTPUT` and the step summary get
/// nothing.
#[test]
fn build_merge_of_a_record_carrying_workflow_commands_is_refused_and_escaped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let digest = format!("sha256:{}", "a".repeat(64));
    let record = |repository: &str, platform: &str| {
        serde_json::json!({
            "repository": repository,
            "platform": platform,
            "digest": digest,
            "size": 1,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
        })
        .to_string()
    };
    let cases = [
        (
            record(
                "docker://127.0.0.1:1/app\n::set-output name=digest::sha256:evil",
                "linux/amd64",
            ),
            "invalid image reference",
        ),
        (
            record("docker://127.0.0.1:1/app", "linux/amd64\n::warning::pwned"),
            "unknown platform",
        ),
    ];
    for (n, (text, reason)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("record-{n}.json"));
        std::fs::write(&path, text).expect("record");
        let output = tmp.path().join(format!("output-{n}"));
        let summary = tmp.path().join(format!("summary-{n}"));
        let out = crate::harness::cicd()
            .current_dir(tmp.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["build", "merge", "--to"])
            .arg(format!("oci:{}", tmp.path().join("out").display()))
            .arg(&path)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
        assert!(
            stderr.contains("%3A%3A"),
            "the newline's `::` is escaped: {stderr}"
        );
        for line in stdout.lines().chain(stderr.lines()) {
            assert!(
                !line.starts_with("::"),
                "a workflow command got through: {line}"
            );
        }
        for file in [&output, &summary] {
            assert!(
                std::fs::read_to_string(file).unwrap_or_default().is_empty(),
                "{} was written",
                file.display()
            );
        }
    }
}
