//! Adversarial cases for the inputs area (see `mod.rs`): `cicd check` and `cicd pin` on
//! files GitHub reads that a strict reader refuses, vendored trees, paths that do not exist,
//! symbolic links leaving the tree, references that can never resolve, and huge inputs.

use std::path::Path;

use crate::harness::git_server::GitServer;
use crate::harness::registry::plain;
use crate::harness::{check_json, cicd, data, images};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// (exit code, stdout, stderr) of `cicd ARGS` in `dir`.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = cicd()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run cicd");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

const UNPINNED: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n";

// See: issue 8 item 21
/// pytest's, pluggy's and pytest-cov's main test workflows close a matrix list with `]` at
/// the key's column: GitHub runs them, so cicd reads them and reports their unpinned actions.
#[test]
fn flow_sequence_closed_at_its_keys_column_is_read() {
    let (code, json) = check_json(
        &data("check"),
        &["real/pytest", "real/pluggy", "real/pytest-cov"],
    );
    assert_eq!(json["errors"], serde_json::json!([]), "{json:#}");
    assert_eq!(json["summary"]["files"].as_u64(), Some(3), "{json:#}");
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 6, "{json:#}");
    assert!(
        findings
            .iter()
            .all(|f| f["file"] == "real/pytest-cov/.github/workflows/test.yml")
    );
    assert_eq!(code, 1);
    let dir = tempfile::tempdir().expect("tmp");
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        "on: push\npermissions: {}\njobs:\n  t:\n    strategy:\n      matrix:\n        target: [\n          \"py39\",\n          \"py313\",\n        ]\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
    );
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(json["errors"], serde_json::json!([]), "{json:#}");
    assert_eq!(json["findings"][0]["line"].as_u64(), Some(13), "{json:#}");
    assert_eq!(code, 1);
}

// See: issue 8 item 22
/// Only `<root>/.github/workflows` holds workflows GitHub runs: those of vendored trees and
/// templates are skipped and counted, those of sub-repositories (`.git` dir or file) and of
/// the path given are checked, and a file named explicitly is always read.
#[test]
fn nested_workflow_folders_count_only_at_a_repository_root() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).expect("git");
    write(&root.join(".github/workflows/ci.yml"), UNPINNED);
    write(&root.join("vendor/lib/.github/workflows/ci.yml"), UNPINNED);
    let template = "templates/app/.github/workflows/ci.yml";
    write(
        &root.join(template),
        "on: push\njobs:\n{% for job in jobs %}\n  {{ job }}:\n    runs-on: x\n{% endfor %}\n",
    );
    write(
        &root.join("modules/sub/.git"),
        "gitdir: ../../.git/modules/sub\n",
    );
    write(&root.join("modules/sub/.github/workflows/ci.yml"), UNPINNED);

    let (code, out, err) = run(root, &["check", "--offline", "--color", "never"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(".github/workflows/ci.yml:7:"), "{out}");
    assert!(
        out.contains("modules/sub/.github/workflows/ci.yml:7:"),
        "{out}"
    );
    assert!(!out.contains("vendor/lib"), "{out}");
    assert!(!out.contains("templates/"), "{out}");
    assert!(
        out.contains("note: 2 files under nested .github/workflows skipped"),
        "{out}"
    );
    let (_, json) = check_json(root, &[]);
    assert_eq!(json["summary"]["files"].as_u64(), Some(2), "{json:#}");
    // The path given is a root of its own.
    let (code, json) = check_json(root, &["vendor/lib"]);
    assert_eq!(
        (code, json["findings"].as_array().map(Vec::len)),
        (1, Some(1))
    );
    // Named explicitly, the template is read (and is not YAML).
    let (code, _, err) = run(root, &["check", "--offline", template]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(template), "{err}");
}

// See: issue 8 item 14
/// A path that does not exist is an input problem: the other paths are still checked and
/// their findings shown; the run exits 2 because of the bad input.
#[test]
fn missing_path_does_not_hide_the_other_inputs() {
    let (code, out, err) = run(
        &data("check"),
        &[
            "check",
            "--offline",
            "--color",
            "never",
            "/nonexistent",
            "workflows/ci-basic.yml",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("error: /nonexistent: no such file or directory"),
        "{err}"
    );
    assert!(out.contains("workflows/ci-basic.yml:15:"), "{out}");
    assert!(out.contains("workflows/ci-basic.yml:16:"), "{out}");
    let (code, json) = check_json(&data("check"), &["/nonexistent", "workflows/ci-basic.yml"]);
    assert_eq!(code, 2);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["errors"][0]["file"], "/nonexistent");
}

/// A Git server holding actions/checkout with `v4` (and `v4.2.2`) on one commit.
fn checkout_server() -> (GitServer, String) {
    let server = GitServer::start();
    let mut sha = String::new();
    server.repo("actions", "checkout", |r| {
        sha = r.commit("one", "2026-01-01T00:00:00Z");
        r.tag("v4");
        r.tag("v4.2.2");
    });
    (server, sha)
}

/// `cicd pin` in `dir` against `server`: (exit code, stdout and stderr, redacted).
fn pin(server: &GitServer, sha: &str, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = cicd()
        .current_dir(dir)
        .env("GITHUB_SERVER_URL", &server.url)
        .arg("pin")
        .args(args)
        .output()
        .expect("run");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let text = text.replace(&server.url, "[server]").replace(sha, "<sha>");
    (out.status.code().unwrap_or(-1), text)
}

// See: issue 8 item 12
/// Malformed references can never be pinned: exit 2 (bad input), not 3, on every run.
#[test]
fn pin_of_malformed_references_is_bad_input() {
    let (server, sha) = checkout_server();
    let dir = tempfile::tempdir().expect("tmp");
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@\n      - uses: \"@v4\"\n",
    );
    let first = pin(&server, &sha, dir.path(), &[]);
    assert_eq!(first.0, 2, "{}", first.1);
    insta::assert_snapshot!(first.1, @r"
    not pinned: .github/workflows/ci.yml:6: actions/checkout@: not `owner/repo[/path]@ref`
    not pinned: .github/workflows/ci.yml:7: @v4: not `owner/repo[/path]@ref`
    pinned 0 references in 0 files from 0 repositories; 2 not pinned
    ");
    assert_eq!(pin(&server, &sha, dir.path(), &[]), first);
}

// See: issue 8 item 12
/// A tag or repository that does not exist is a wrong reference (exit 2, not 3): the run
/// that pins the others and the run after it agree on the exit code and the message.
#[test]
fn pin_of_a_missing_tag_exits_2_on_every_run() {
    let (server, sha) = checkout_server();
    let dir = tempfile::tempdir().expect("tmp");
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/checkout@v99\n      - uses: nobody/nothing@v1\n",
    );
    let (code, first) = pin(&server, &sha, dir.path(), &[]);
    assert_eq!(code, 2, "{first}");
    insta::assert_snapshot!(first, @r"
    .github/workflows/ci.yml
         6  actions/checkout@v4 -> actions/checkout@<sha> # v4.2.2
    not pinned: .github/workflows/ci.yml:7: actions/checkout@v99: actions/checkout has no tag or branch `v99`
    not pinned: .github/workflows/ci.yml:8: nobody/nothing@v1: [server]/nobody/nothing.git/git-upload-pack: repository not found (check the owner/repo name, or that it is public)
    pinned 1 reference in 1 file from 2 repositories; 2 not pinned
    ");
    let (code, second) = pin(&server, &sha, dir.path(), &[]);
    assert_eq!(code, 2, "{second}");
    let not_pinned = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("not pinned"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(not_pinned(&second), not_pinned(&first));
    assert!(
        second.contains("pinned 0 references in 0 files from 2 repositories; 2 not pinned"),
        "{second}"
    );
}

/// Pushes a one-platform image to the shared registry and returns its reference.
fn pushed_image(tmp: &Path, name: &str) -> String {
    let reg = plain();
    let layout = tmp.join(format!("layout-{name}"));
    images::single(&layout, "v1", 64, 7);
    let image = format!("{}/symlink/{name}:v1", reg.addr);
    let out = cicd()
        .args([
            "image",
            "copy",
            &format!("oci:{}:v1", layout.display()),
            &format!("docker://{image}"),
        ])
        .output()
        .expect("push");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    image
}

// See: issue 8 item 10
/// `cicd pin` on a symlinked Dockerfile edits the link's target in place when it stays in the
/// tree, and refuses (exit 2, path named) when the link leads outside; the link stays a link.
#[test]
fn pin_edits_a_symlinks_target_inside_the_tree_and_refuses_outside() {
    let tmp = tempfile::tempdir().expect("tmp");
    let image = pushed_image(tmp.path(), "base");
    let repo = tmp.path().join("repo");
    write(
        &repo.join("docker/Dockerfile.base"),
        &format!("FROM {image}\n"),
    );
    std::os::unix::fs::symlink("Dockerfile.base", repo.join("docker/Dockerfile")).expect("ln");
    let out = cicd()
        .current_dir(&repo)
        .args(["pin", "docker/Dockerfile"])
        .output()
        .expect("pin");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let link = repo.join("docker/Dockerfile");
    assert!(link.symlink_metadata().expect("lstat").is_symlink());
    let pinned = std::fs::read_to_string(repo.join("docker/Dockerfile.base")).expect("read");
    assert!(
        pinned.starts_with(&format!("FROM {image}@sha256:")),
        "{pinned}"
    );

    let outside = tmp.path().join("outside/Dockerfile");
    write(&outside, &format!("FROM {image}\n"));
    std::os::unix::fs::symlink(&outside, repo.join("Dockerfile")).expect("ln");
    let (code, out, err) = run(&repo, &["pin", "Dockerfile"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("error: Dockerfile: leads through a symbolic link to")
            && err.contains("outside/Dockerfile, outside "),
        "{err}"
    );
    assert!(
        repo.join("Dockerfile")
            .symlink_metadata()
            .expect("lstat")
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(&outside).expect("read"),
        format!("FROM {image}\n")
    );
}

/// Peak RSS in bytes of `cicd check --offline --format json --output out.json` in `dir`
/// under GNU time, and the number of findings it wrote.
fn check_rss(time: &Path, dir: &Path) -> (u64, usize) {
    let out = std::process::Command::new(time)
        .current_dir(dir)
        .args(["-f", "max-rss-kb=%M"])
        .arg(env!("CARGO_BIN_EXE_cicd"))
        .args([
            "check",
            "--offline",
            "--format",
            "json",
            "--output",
            "out.json",
        ])
        .output()
        .expect("run under time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let kb: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("max-rss-kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in {stderr}"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out.json")).expect("read")).expect("json");
    (kb * 1024, json["findings"].as_array().map_or(0, Vec::len))
}

// See: issue 8 item 18
/// A large workflow (4 MB here, one unpinned action per job) is checked in a small multiple of
/// its size: the span tree is compact, short scalars are shared, the text is held once and
/// read on the thread that reports it. It took 25 times the file before; the debug build
/// measured about 9 times here (release, 50 MB: see the README's `cicd check` section).
#[test]
fn large_workflow_in_bounded_memory() {
    let time = crate::harness::require_tool("time", "`apt-get install time` (GNU time)");
    let tiny = tempfile::tempdir().expect("tmp");
    write(&tiny.path().join(".github/workflows/ci.yml"), UNPINNED);
    let (base, found) = check_rss(&time, tiny.path());
    assert_eq!(found, 1);
    let dir = tempfile::tempdir().expect("tmp");
    let mut text = String::from("name: big\non: [push]\npermissions: {}\njobs:\n");
    let mut jobs = 0;
    while text.len() < 4 << 20 {
        text.push_str(&format!(
            "  job{jobs}:\n    name: \"Job {jobs}\"\n    runs-on: ${{{{ matrix.os }}}}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, windows-latest]\n        python: [\"3.10\", \"3.11\", \"3.12\"]\n    env:\n      FOO: bar-{jobs}\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n      - uses: actions/setup-python@0a5c61591373683505ea898e09a3ea4f39ef2b9c # v5.0.0\n        with:\n          python-version: ${{{{ matrix.python }}}}\n      - run: |\n          pip install -e .[test]\n          pytest -q tests/ -k \"not slow\" --junitxml=out-{jobs}.xml\n"
        ));
        jobs += 1;
    }
    write(&dir.path().join(".github/workflows/big.yml"), &text);
    let size = text.len() as u64;
    let (rss, found) = check_rss(&time, dir.path());
    assert_eq!(found, jobs);
    let grown = rss.saturating_sub(base);
    assert!(
        grown < 10 * size,
        "peak RSS grew by {} MB for a {} MB workflow",
        grown >> 20,
        size >> 20
    );
}

/// Compose `extends.file` naming `/dev/zero`, a FIFO or a file outside the tree: `cicd
/// check` hung reading `/dev/zero` (or the FIFO) for ever, and read files outside the tree it
/// was given. Now none is followed (as a missing file is not), the check ends and reports
/// the service's own file, and the same `extends` inside the tree is still followed.
#[test]
fn compose_extends_never_reads_endless_blocking_or_outside_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tree = tmp.path().join("tree");
    write(
        &tmp.path().join("outside.yml"),
        "services:\n  base:\n    image: nginx:latest\n",
    );
    write(
        &tree.join("inside.yml"),
        "services:\n  base:\n    image: nginx:latest\n",
    );
    let fifo = tree.join("fifo.yml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let compose = |file: &str| {
        format!("services:\n  app:\n    extends:\n      file: {file}\n      service: base\n")
    };
    for (file, followed) in [
        ("/dev/zero", false),
        ("fifo.yml", false),
        ("../outside.yml", false),
        ("inside.yml", true),
    ] {
        write(&tree.join("compose.yaml"), &compose(file));
        let out = cicd()
            .current_dir(&tree)
            .args(["check", "compose.yaml", "--format", "json"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("run cicd");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {stderr}"));
        let files: Vec<&str> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["file"].as_str())
            .collect();
        assert_eq!(
            files.contains(&"inside.yml"),
            followed,
            "{file}: findings in {files:?}"
        );
        assert!(
            !files.iter().any(|f| f.contains("outside")),
            "{file}: {files:?}"
        );
    }
}

/// A workflow that is a symbolic link (here to `/dev/zero`) or a FIFO is not followed when a
/// directory is checked; it used to vanish from the count ("no findings in 0 files", exit 0),
/// now a note says how many inputs were skipped and why.
#[test]
fn symlinked_or_special_workflows_are_counted_not_silently_dropped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join(".github/workflows")).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", dir.join(".github/workflows/zero.yml"))
        .expect("symlink");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join(".github/workflows/fifo.yml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let (code, stdout, stderr) = run(dir, &["check", "."]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("2 inputs skipped: symbolic links and special files are not followed"),
        "{stdout}"
    );
}

/// A `cicd.yaml` that a checked-out pull request made a symbolic link to a file outside the
/// repository (a registry credential file here) is refused before it is read: exit 2, the
/// credential never printed, `--json` not reporting a pass. Inside the tree a link is followed,
/// and a file the user names with `--config` is read wherever it is.
#[test]
fn a_cicd_yaml_symlinked_out_of_the_repository_is_refused_unread() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("repo");
    write(&repo.join(".github/workflows/ci.yml"), UNPINNED);
    std::fs::create_dir_all(repo.join(".git")).expect(".git");
    let secret = "c2VjcmV0LXJlZ2lzdHJ5LXRva2Vu";
    write(
        &tmp.path().join("docker/config.json"),
        &format!("policy:\n  rules:\n    unpinned-action:\n      severity: {secret}\n"),
    );
    std::os::unix::fs::symlink("../docker/config.json", repo.join("cicd.yaml")).expect("link");
    for args in [&["check"][..], &["check", "--format", "json"]] {
        let (code, stdout, stderr) = run(&repo, args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("cicd.yaml could not be read: a symlink to"),
            "{stderr}"
        );
        assert!(stderr.contains("name it with --config"), "{stderr}");
        assert!(
            !format!("{stdout}{stderr}").contains(secret),
            "{stdout}{stderr}"
        );
        assert!(
            !stdout.contains("\"passed\":true") && !stdout.contains("\"ok\":true"),
            "{stdout}"
        );
    }
    // Named by the user: read, and its bad value reported like any config error.
    let named = tmp.path().join("docker/config.json");
    let (code, _, stderr) = run(
        &repo,
        &["check", "--config", named.to_str().expect("utf-8")],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("severity"), "{stderr}");
    // A link inside the tree is followed.
    write(&repo.join("ci/cicd.yaml"), "policy: {}\n");
    std::fs::remove_file(repo.join("cicd.yaml")).expect("rm");
    std::os::unix::fs::symlink("ci/cicd.yaml", repo.join("cicd.yaml")).expect("link");
    let (code, stdout, stderr) = run(&repo, &["check"]);
    assert_eq!(code, 1, "unpinned action found: {stdout}{stderr}");
}
