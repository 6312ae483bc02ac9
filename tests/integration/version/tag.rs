//! `cicd tag`: the annotated tag with the changelog as its message, the refusals (dirty tree,
//! existing tag, HEAD off the default branch), pushing, and the Actions token warning.

use super::{Repo, stderr, stdout};

fn released() -> Repo {
    let mut repo = Repo::new();
    repo.commit_file("a.txt", "a", "chore: init");
    repo.tag("v1.2.0");
    repo.commit("feat(api): list users (#12)");
    repo.commit("fix: crash");
    repo
}

// See: issue 14 item 3
#[test]
fn tags_head_with_the_changelog() {
    let repo = released();
    let out = repo.cicd(&["tag"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::with_settings!({filters => super::sha_filters()}, {
        insta::assert_snapshot!(stdout(&out), @r"
        created tag v1.3.0 at [short]
        not pushed: run `git push origin v1.3.0` or pass --push
        ");
    });
    assert_eq!(repo.git(&["cat-file", "-t", "v1.3.0"]), "tag", "annotated");
    assert_eq!(
        repo.git(&["rev-parse", "v1.3.0^{commit}"]),
        repo.git(&["rev-parse", "HEAD"])
    );
    let message = repo.git(&["tag", "-l", "--format=%(contents)", "v1.3.0"]);
    assert!(
        message.starts_with("v1.3.0\n\n## 1.3.0 - 2026-01-"),
        "{message}"
    );
    assert!(
        message.contains("### Features\n\n- *(api)* list users ("),
        "{message}"
    );
    assert!(message.contains("### Bug fixes\n\n- crash"), "{message}");
    // Tagged: nothing left to release, and no second tag.
    let again = repo.cicd(&["tag"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr(&again).contains("nothing to release"),
        "{}",
        stderr(&again)
    );
    assert_eq!(repo.git(&["tag", "-l"]), "v1.2.0\nv1.3.0");
}

#[test]
fn refuses_a_dirty_tree() {
    let repo = released();
    repo.write("a.txt", "changed");
    let out = repo.cicd(&["tag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("uncommitted changes (a.txt)"),
        "{}",
        stderr(&out)
    );
    repo.git(&["checkout", "a.txt"]);
    repo.write("new.txt", "untracked");
    assert_eq!(repo.cicd(&["tag"]).status.code(), Some(2));
    assert_eq!(repo.git(&["tag", "-l"]), "v1.2.0");
}

#[test]
fn refuses_an_existing_tag() {
    let mut repo = released();
    // v1.3.0 already made elsewhere (a branch not merged here).
    repo.git(&["checkout", "-q", "-b", "other", "v1.2.0"]);
    repo.commit("feat: elsewhere");
    repo.tag("v1.3.0");
    repo.git(&["checkout", "-q", "main"]);
    let out = repo.cicd(&["tag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tag v1.3.0 already exists"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn refuses_off_the_default_branch_unless_allowed() {
    let mut repo = released();
    repo.git(&["checkout", "-q", "-b", "release/1.2", "v1.2.0"]);
    repo.commit("fix: backport");
    let out = repo.cicd(&["tag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not on the default branch main"),
        "{}",
        stderr(&out)
    );
    let out = repo.cicd(&["tag", "--allow-branch", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (j["tag"].as_str(), j["pushed"].as_bool()),
        (Some("v1.2.1"), Some(false))
    );
}

#[test]
fn pushes_and_warns_about_the_actions_token() {
    let repo = released();
    let remote = repo.root().with_file_name("remote.git");
    let remote_s = remote.to_str().expect("utf-8");
    repo.git(&["init", "-q", "--bare", remote_s]);
    repo.git(&["remote", "add", "origin", remote_s]);
    repo.git(&["push", "-q", "origin", "main"]);
    let out_file = repo.root().with_file_name("gh-output");
    let out = repo
        .cicd_cmd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", "ghs_not-a-real-token-4f1e")
        .env("GITHUB_OUTPUT", &out_file)
        .args(["tag", "--push", "--pre", "rc"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("::warning title=cicd tag::a tag pushed with the workflow's GITHUB_TOKEN"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("run `cicd release` in this same job"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("pushed v1.3.0-rc.1 to origin"));
    for s in [stdout(&out), stderr(&out)] {
        assert!(!s.contains("ghs_not-a-real-token"), "token printed: {s}");
    }
    let remote_tags = repo.git(&["ls-remote", "--tags", remote_s]);
    assert!(
        remote_tags.contains("refs/tags/v1.3.0-rc.1"),
        "{remote_tags}"
    );
    assert_eq!(
        std::fs::read_to_string(&out_file).expect("output"),
        "version=1.3.0-rc.1\ntag=v1.3.0-rc.1\n"
    );
    // A push that fails is an external failure (3), the local tag kept.
    repo.git(&["remote", "set-url", "origin", "/nonexistent/remote.git"]);
    let mut repo2 = repo;
    repo2.commit("fix: more");
    let out = repo2.cicd(&["tag", "--push", "--pre", "rc"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not push v1.3.0-rc.2 to origin"),
        "{}",
        stderr(&out)
    );
}
