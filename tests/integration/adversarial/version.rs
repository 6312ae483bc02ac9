//! `cicd version` and `cicd tag` used as a hostile contributor would: commit messages holding
//! newlines, `::` workflow commands, `##[` and a megabyte of text; tags that are not semver;
//! no repository, an empty repository, a bad `Release-As:` and a bad `release:` section.

use crate::version::{Repo, stderr, stdout};

/// No line of `text` opens a workflow command (`::` at its start, `##[` anywhere), except the
/// warnings cicd itself writes.
fn inert(text: &str) {
    for line in text.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") || t.starts_with("::warning title=cicd"),
            "opens a workflow command: {line:.200}"
        );
        assert!(!line.contains("##["), "legacy command marker: {line:.200}");
    }
}

// See: issue 14 (malformed commit messages must not break outputs)
#[test]
fn hostile_commit_messages_stay_inert_everywhere() {
    let mut repo = Repo::new();
    repo.commit_file("a", "a", "chore: init");
    repo.tag("v1.0.0");
    repo.commit(
        "feat(::x::): ::error file=a::pwned\n\n::set-output name=version::9.9.9\n##[group]x",
    );
    repo.commit("fix: a%0Ab\r\n::add-mask::x");
    repo.commit(&format!("fix(huge): {}", "z".repeat(1 << 20)));
    repo.commit("feat: ##[error]boom [x](javascript:alert(1)) <img src=x>");
    let out_file = repo.root().with_file_name("out");
    let actions = |args: &[&str]| {
        repo.cicd_cmd()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &out_file)
            .args(args)
            .output()
            .expect("run")
    };
    let next = actions(&["version", "next", "--json"]);
    assert_eq!(next.status.code(), Some(0), "{}", stderr(&next));
    inert(&stdout(&next));
    inert(&stderr(&next));
    let j: serde_json::Value = serde_json::from_slice(&next.stdout).expect("valid JSON");
    assert_eq!(j["version"], "1.1.0");
    let log = actions(&["version", "changelog"]);
    assert_eq!(log.status.code(), Some(0), "{}", stderr(&log));
    let md = stdout(&log);
    inert(&md);
    assert!(
        md.len() < 8_000,
        "a huge subject is bounded: {} bytes",
        md.len()
    );
    assert!(md.contains("\\<img src=x\\>"), "{md}");
    assert!(!md.contains("9.9.9"), "bodies are not shown: {md}");
    // $GITHUB_OUTPUT: one `version=` line, then the changelog as one heredoc value.
    let written = std::fs::read_to_string(&out_file).expect("output");
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("version=1.1.0"));
    assert_eq!(lines.next(), Some("tag=v1.1.0"));
    let opener = lines.next().expect("changelog");
    let delimiter = opener.strip_prefix("changelog<<").expect("heredoc");
    assert_eq!(written.matches(&format!("\n{delimiter}\n")).count(), 1);
    assert!(!written.contains("version=9.9.9"));
    let tag = actions(&["tag"]);
    assert_eq!(tag.status.code(), Some(0), "{}", stderr(&tag));
    inert(&stdout(&tag));
    let message = repo.git(&["tag", "-l", "--format=%(contents)", "v1.1.0"]);
    inert(&message);
}

#[test]
fn tags_that_are_not_semver_are_ignored() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    for t in [
        "v1",
        "v1.2",
        "vnext",
        "v01.2.3",
        "v1.2.3.4",
        "release-7",
        "v2.0.0-",
    ] {
        repo.tag(t);
    }
    repo.commit("fix: a");
    repo.tag("v1.4.0");
    repo.commit("fix: b");
    let out = repo.cicd(&["version", "next"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1.4.1\n");
}

#[test]
fn no_repository_and_an_empty_one_are_bad_input() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = crate::harness::cicd()
        .current_dir(dir.path())
        .env(
            "GIT_CEILING_DIRECTORIES",
            dir.path().parent().expect("parent"),
        )
        .args(["version", "next"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
    let repo = Repo::new();
    let out = repo.cicd(&["version", "next"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`HEAD` names no commit"),
        "{}",
        stderr(&out)
    );
    let out = repo.cicd(&["tag"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn unusable_release_as_and_config_are_bad_input() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v2.0.0");
    repo.commit("chore: go back\n\nRelease-As: 1.0.0");
    let out = repo.cicd(&["version", "next"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Release-As 1.0.0 is not above the previous version 2.0.0"),
        "{}",
        stderr(&out)
    );
    repo.commit("chore: x\n\nRelease-As: soon\n::error::x");
    let out = repo.cicd(&["version", "next"]);
    assert_eq!(out.status.code(), Some(2));
    inert(&stderr(&out));
    repo.write("cicd.yaml", "release:\n  tags:\n    extra: ['{evil}']\n");
    let out = repo.cicd(&["version", "next"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cicd.yaml:3:"), "{}", stderr(&out));
    repo.write("cicd.yaml", "release:\n  tag-prefix: \"v\\n::x\"\n");
    let out = repo.cicd(&["version", "next"]);
    assert_eq!(out.status.code(), Some(2));
    inert(&stderr(&out));
}

// A shallow clone (actions/checkout's default) has no tags: computing from it would restart
// at 0.1.0. Refused with what to do.
#[test]
fn a_shallow_clone_is_refused() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v3.0.0");
    repo.commit("fix: a");
    repo.commit("fix: b");
    let shallow = repo.root().with_file_name("shallow");
    let url = format!("file://{}", repo.root().display());
    repo.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        shallow.to_str().expect("utf-8"),
    ]);
    let out = crate::harness::cicd()
        .current_dir(&shallow)
        .args(["version", "next"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("fetch-depth: 0"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let out = crate::harness::cicd()
        .current_dir(&shallow)
        .args(["version", "changelog", "--to", "HEAD"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

// See: issue 14 item 3. A remote that accepts the connection and never answers: `cicd tag
// --push` gives up at the Git timeout (exit 3 naming the remote), keeps the local tag, and
// writes no `$GITHUB_OUTPUT` (a re-run pushes it).
#[test]
fn tag_push_to_a_remote_that_never_answers_is_an_external_failure() {
    let silent = crate::harness::http::StallServer::silent();
    let mut repo = Repo::new();
    repo.commit_file("a.txt", "a", "chore: init");
    repo.tag("v1.2.0");
    repo.commit("feat: more");
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("http://{}/acme/app.git", silent.addr),
    ]);
    let output = repo.root().with_file_name("gh-output-silent");
    let out = repo
        .cicd_cmd()
        .env("CICD_HTTP_TIMEOUT", "2")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .args(["tag", "--push"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not push v1.3.0 to origin")
            && stderr(&out).contains("Operation too slow"),
        "{}",
        stderr(&out)
    );
    assert!(!output.exists(), "{:?}", std::fs::read_to_string(&output));
    assert!(repo.git(&["tag", "--list", "v1.3.0"]).contains("v1.3.0"));
}

/// `cicd version changelog --prepend` onto a `CHANGELOG.md` that is a symbolic link to
/// `/dev/zero` read until memory ran out, and onto a FIFO blocked for ever. Both are exit 2
/// naming the file now, and neither is replaced by a file.
#[test]
fn changelog_prepend_onto_an_endless_or_blocking_file_is_refused() {
    let mut repo = Repo::new();
    repo.commit("feat: first");
    let changelog = repo.path.join("CHANGELOG.md");
    std::os::unix::fs::symlink("/dev/zero", &changelog).expect("symlink");
    let refused = |repo: &Repo| {
        let out = repo
            .cicd_cmd()
            .args(["version", "changelog", "--prepend", "CHANGELOG.md"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("CHANGELOG.md"), "{}", stderr(&out));
    };
    refused(&repo);
    assert!(
        changelog
            .symlink_metadata()
            .expect("still there")
            .is_symlink()
    );
    std::fs::remove_file(&changelog).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&changelog)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    refused(&repo);
    let kind = changelog
        .symlink_metadata()
        .expect("still there")
        .file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
}
