//! `cicd pin` against a real Git server (`git http-backend` on loopback): refs become full
//! SHAs with version comments, nothing else in the files moves, one `ls-refs` per repository.

use std::ffi::OsStr;

use crate::harness::git_server::GitServer;
use crate::harness::{check_json, cicd, require_tool, run_tool};

struct World {
    server: GitServer,
    /// (sha, name to show in snapshots)
    names: Vec<(String, &'static str)>,
}

impl World {
    /// `text` with every known commit id replaced by its name and the server URL hidden.
    fn redact(&self, text: &str) -> String {
        let mut out = text.replace(&self.server.url, "[server]");
        for (sha, name) in &self.names {
            out = out.replace(sha.as_str(), name);
        }
        out
    }
}

fn world() -> World {
    let server = GitServer::start();
    let mut names = Vec::new();
    server.repo("actions", "checkout", |r| {
        names.push((r.commit("one", "2026-01-01T00:00:00Z"), "<checkout v4.1.0>"));
        r.tag("v4.1.0");
        names.push((r.commit("two", "2026-06-01T00:00:00Z"), "<checkout v4.2.2>"));
        r.tag("v4");
        r.tag("v4.2");
        r.annotated_tag("v4.2.2");
        names.push((r.commit("three", "2026-07-01T00:00:00Z"), "<checkout main>"));
    });
    server.repo("octo", "tool", |r| {
        names.push((r.commit("tool", "2026-02-01T00:00:00Z"), "<tool v1.0.3>"));
        r.annotated_tag("v1.0.3");
        r.tag("v1");
        r.checkout_new("releases/v1");
        names.push((
            r.commit("release branch", "2026-03-01T00:00:00Z"),
            "<tool releases/v1>",
        ));
    });
    World { server, names }
}

const WORKFLOW: &str = "\
name: ci
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4 # keep me? no: this is the version comment
      - uses: \"actions/checkout@v4.1.0\"
      - &tool { uses: octo/tool/sub@v1, with: {a: 1} }
      - uses: actions/checkout@main
      - uses: 'octo/tool@releases/v1'   # a branch
      - *tool
      - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567 # v0
      - uses: ./local
      - uses: missing/repo@v1
      - uses: actions/checkout@v9
";

fn repo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".git")).expect("git marker");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    std::fs::write(wf.join("ci.yml"), WORKFLOW).expect("write");
    std::fs::write(wf.join("crlf.yml"), WORKFLOW.replace('\n', "\r\n")).expect("write");
    let action = dir.path().join(".github/actions/build");
    std::fs::create_dir_all(&action).expect("mkdir");
    std::fs::write(action.join("action.yml"), ACTION).expect("write");
    dir
}

const ACTION: &str = "\
name: build
description: a composite action
runs:
  using: composite
  steps:
    - uses: actions/checkout@v4
    - run: make
      shell: bash
";

fn pin(world: &World, dir: &std::path::Path) -> (i32, String) {
    let out = cicd()
        .current_dir(dir)
        .env("GITHUB_SERVER_URL", &world.server.url)
        .arg("pin")
        .output()
        .expect("run");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    for (sha, name) in &world.names {
        text = text.replace(sha.as_str(), name);
    }
    (
        out.status.code().unwrap_or(-1),
        text.replace(&world.server.url, "[server]"),
    )
}

#[test]
fn pins_actions_and_changes_nothing_else() {
    let world = world();
    let dir = repo_dir();
    let (code, output) = pin(&world, dir.path());
    // missing/repo and the tag v9 do not exist: bad input, on this run and every later one.
    assert_eq!(code, 2, "{output}");
    insta::assert_snapshot!(output, @"
    .github/actions/build/action.yml
         6  actions/checkout@v4 -> actions/checkout@<checkout v4.2.2> # v4.2.2
    .github/workflows/ci.yml
         7  actions/checkout@v4 -> actions/checkout@<checkout v4.2.2> # v4.2.2
         8  actions/checkout@v4.1.0 -> actions/checkout@<checkout v4.1.0> # v4.1.0
         9  octo/tool/sub@v1 -> octo/tool/sub@<tool v1.0.3> # v1.0.3
        10  actions/checkout@main -> actions/checkout@<checkout main> # main (branch head today)
        11  octo/tool@releases/v1 -> octo/tool@<tool releases/v1> # releases/v1 (branch head today)
    .github/workflows/crlf.yml
         7  actions/checkout@v4 -> actions/checkout@<checkout v4.2.2> # v4.2.2
         8  actions/checkout@v4.1.0 -> actions/checkout@<checkout v4.1.0> # v4.1.0
         9  octo/tool/sub@v1 -> octo/tool/sub@<tool v1.0.3> # v1.0.3
        10  actions/checkout@main -> actions/checkout@<checkout main> # main (branch head today)
        11  octo/tool@releases/v1 -> octo/tool@<tool releases/v1> # releases/v1 (branch head today)
    not pinned: .github/workflows/ci.yml:15: missing/repo@v1: [server]/missing/repo.git/git-upload-pack: repository not found (check the owner/repo name, or that it is public)
    not pinned: .github/workflows/ci.yml:16: actions/checkout@v9: actions/checkout has no tag or branch `v9`
    not pinned: .github/workflows/crlf.yml:15: missing/repo@v1: [server]/missing/repo.git/git-upload-pack: repository not found (check the owner/repo name, or that it is public)
    not pinned: .github/workflows/crlf.yml:16: actions/checkout@v9: actions/checkout has no tag or branch `v9`
    pinned 11 references in 3 files from 3 repositories; 4 not pinned
    ");

    let after = std::fs::read_to_string(dir.path().join(".github/workflows/ci.yml")).expect("read");
    insta::assert_snapshot!(world.redact(&after), @r#"
    name: ci
    on: [push]
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@<checkout v4.2.2> # v4.2.2
          - uses: "actions/checkout@<checkout v4.1.0>" # v4.1.0
          - &tool { uses: octo/tool/sub@<tool v1.0.3>, with: {a: 1} } # v1.0.3
          - uses: actions/checkout@<checkout main> # main
          - uses: 'octo/tool@<tool releases/v1>'   # releases/v1
          - *tool
          - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567 # v0
          - uses: ./local
          - uses: missing/repo@v1
          - uses: actions/checkout@v9
    "#);
    // Every changed line differs only in its ref and comment.
    for (old, new) in WORKFLOW.lines().zip(after.lines()) {
        if old != new {
            let strip = |l: &str| l.split('@').next().unwrap_or(l).to_owned();
            assert_eq!(strip(old), strip(new), "{old}\n{new}");
        }
    }
    let crlf =
        std::fs::read_to_string(dir.path().join(".github/workflows/crlf.yml")).expect("read");
    assert_eq!(crlf, after.replace('\n', "\r\n"), "CRLF kept, same rewrite");

    // One ls-refs round trip per repository, whatever the number of references.
    let requests = world.server.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("POST /actions/checkout.git/git-upload-pack"))
            .count(),
        1,
        "{requests:#?}"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("POST /octo/tool.git/git-upload-pack"))
            .count(),
        1,
        "{requests:#?}"
    );

    // A second run changes nothing, byte for byte.
    let (_, _) = pin(&world, dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".github/workflows/ci.yml")).expect("read"),
        after
    );

    // What remains for `cicd check` is what could not be resolved.
    let (_, json) = check_json(dir.path(), &[".github/workflows/ci.yml"]);
    let left: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "unpinned-action")
        .map(|f| f["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(left, ["missing/repo@v1", "actions/checkout@v9"]);

    let action =
        std::fs::read_to_string(dir.path().join(".github/actions/build/action.yml")).expect("read");
    assert_eq!(
        world.redact(&action),
        ACTION.replace(
            "actions/checkout@v4",
            "actions/checkout@<checkout v4.2.2> # v4.2.2"
        )
    );

    let validator = require_tool("check-jsonschema", "pip install check-jsonschema");
    for (schema, file) in [
        ("vendor.github-workflows", ".github/workflows/ci.yml"),
        ("vendor.github-workflows", ".github/workflows/crlf.yml"),
        ("vendor.github-actions", ".github/actions/build/action.yml"),
    ] {
        let path = dir.path().join(file);
        let (ok, text) = run_tool(
            &validator,
            &[
                OsStr::new("--builtin-schema"),
                OsStr::new(schema),
                path.as_os_str(),
            ],
        );
        assert!(ok, "{file}: {text}");
    }
}

#[test]
fn unknown_repository_exits_2() {
    let world = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    std::fs::write(
        wf.join("ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: nobody/nothing@v1\n",
    )
    .expect("write");
    let (code, output) = pin(&world, dir.path());
    assert_eq!(code, 2, "{output}");
    insta::assert_snapshot!(output, @"
    not pinned: .github/workflows/ci.yml:6: nobody/nothing@v1: [server]/nobody/nothing.git/git-upload-pack: repository not found (check the owner/repo name, or that it is public)
    pinned 0 references in 0 files from 1 repository; 1 not pinned
    ");
    let offline = cicd()
        .current_dir(dir.path())
        .args(["--offline", "pin"])
        .output()
        .expect("run");
    assert_eq!(offline.status.code(), Some(2));
}

fn days_ago(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    format!("{} +0000", now - days * 86_400)
}

/// `--update --min-age`: SHA pins move to the newest release at least that old, never to
/// one inside the cooldown; with and without server-side filters.
#[test]
fn update_respects_the_cooldown() {
    let server = GitServer::start();
    let mut shas = Vec::new();
    for (owner, filters) in [("filtered", true), ("plain", false)] {
        // Messages name the owner: two repositories written within the same second would
        // otherwise share commit SHAs, and the expected text below is built by replacing SHAs.
        server.repo_with(owner, "lib", filters, |r| {
            let mut v = Vec::new();
            v.push(r.commit(&format!("{owner} 1.0.0"), &days_ago(100)));
            r.tag("v1.0.0");
            v.push(r.commit(&format!("{owner} 1.1.0"), &days_ago(30)));
            r.annotated_tag("v1.1.0");
            r.tag("v1");
            v.push(r.commit(&format!("{owner} 1.2.0"), &days_ago(2)));
            r.tag("v1.2.0");
            shas.push(v);
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    let text = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: filtered/lib@{} # v1.0.0\n      - uses: plain/lib@{} # v1.0.0\n      - uses: plain/lib@v1\n",
        shas[0][0], shas[1][0]
    );
    std::fs::write(wf.join("ci.yml"), &text).expect("write");
    let run = |args: &[&str]| {
        let out = cicd()
            .current_dir(dir.path())
            .env("GITHUB_SERVER_URL", &server.url)
            .arg("pin")
            .args(args)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(wf.join("ci.yml")).expect("read")
    };
    let week = run(&["--update", "--min-age", "7"]);
    let want = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: filtered/lib@{} # v1.1.0\n      - uses: plain/lib@{} # v1.1.0\n      - uses: plain/lib@{} # v1.1.0\n",
        shas[0][1], shas[1][1], shas[1][1]
    );
    assert_eq!(week, want);
    // Without --update, SHA pins stay where they are.
    assert_eq!(run(&[]), want);
    let now = run(&["--update", "--min-age", "0"]);
    assert_eq!(
        now,
        want.replace(&shas[0][1], &shas[0][2])
            .replace(&shas[1][1], &shas[1][2])
            .replace("v1.1.0", "v1.2.0")
    );
}

/// GitHub's lockfile: the locked commit is what gets pinned (what runs does not change), and
/// the workflow's entries are renamed to the SHA pin in the tool's own layout.
#[test]
fn keeps_actions_lock_consistent() {
    let world = world();
    let old = world
        .names
        .iter()
        .find(|(_, n)| *n == "<checkout v4.1.0>")
        .map(|(s, _)| s.clone())
        .expect("sha");
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    let job =
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n";
    std::fs::write(wf.join("ci.yml"), job).expect("write");
    std::fs::write(wf.join("other.yml"), job).expect("write");
    let lock = format!(
        "# This file is machine-generated by `gh actions-lock`.\n# Do not edit by hand; run `gh actions-lock` to update.\nversion: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n        - 'actions/checkout@v4'\n    '.github/workflows/other.yml':\n        - 'actions/checkout@v4'\ndependencies:\n    'actions/checkout@v4':\n        ref: 'v4'\n        commit: 'sha1-{old}'\n        owner_id: 44036562\n        repo_id: 197814629\n"
    );
    std::fs::write(wf.join("actions.lock"), &lock).expect("write");
    let (code, output) = {
        let out = cicd()
            .current_dir(dir.path())
            .env("GITHUB_SERVER_URL", &world.server.url)
            .args(["pin", ".github/workflows/ci.yml"])
            .output()
            .expect("run");
        (
            out.status.code(),
            world.redact(&String::from_utf8_lossy(&out.stdout)),
        )
    };
    assert_eq!(code, Some(0), "{output}");
    insta::assert_snapshot!(output, @"
    .github/workflows/ci.yml
         6  actions/checkout@v4 -> actions/checkout@<checkout v4.1.0> # v4.1.0
    note: actions/checkout@v4: `v4` of actions/checkout has moved since actions.lock locked it; pinned the locked commit <checkout v4.1.0>
    pinned 1 reference in 2 files from 1 repository; 0 not pinned
    ");
    let after = std::fs::read_to_string(wf.join("actions.lock")).expect("read");
    insta::assert_snapshot!(world.redact(&after), @"
    # This file is machine-generated by `gh actions-lock`.
    # Do not edit by hand; run `gh actions-lock` to update.
    version: 'v0.0.2'
    workflows:
        '.github/workflows/ci.yml':
            - 'actions/checkout@<checkout v4.1.0>'
        '.github/workflows/other.yml':
            - 'actions/checkout@v4'
    dependencies:
        'actions/checkout@<checkout v4.1.0>':
            ref: 'v4.1.0'
            commit: 'sha1-<checkout v4.1.0>'
            owner_id: 44036562
            repo_id: 197814629
        'actions/checkout@v4':
            ref: 'v4'
            commit: 'sha1-<checkout v4.1.0>'
            owner_id: 44036562
            repo_id: 197814629
    ");
    assert!(
        std::fs::read_to_string(wf.join("ci.yml"))
            .expect("read")
            .contains(&format!("actions/checkout@{old} # v4.1.0"))
    );
}
