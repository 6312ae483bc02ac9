//! `cicd version changelog`: grouped Markdown from a real history, links when the GitHub
//! repository is known, a version tag's own changelog, and `--prepend CHANGELOG.md`.

use super::{Repo, stderr, stdout};

fn history() -> Repo {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v1.2.0");
    repo.commit("feat(api): list users (#12)");
    repo.commit("fix: crash on empty config");
    repo.commit("perf(build): stream layers");
    repo.commit("feat(cli)!: rename --out\n\nBREAKING CHANGE: use --output");
    repo.commit("ci: pin actions");
    repo.commit("Update README.md");
    repo
}

// See: issue 14 item 2
#[test]
fn changelog_with_links_is_grouped_and_deterministic() {
    let repo = history();
    let run = || {
        repo.cicd_cmd()
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_REPOSITORY", "acme/app")
            .args(["version", "changelog"])
            .output()
            .expect("run")
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&run()), "deterministic");
    insta::with_settings!({filters => super::sha_filters()}, {
        insta::assert_snapshot!(stdout(&out));
    });
}

#[test]
fn a_tags_changelog_and_unreleased() {
    let mut repo = history();
    repo.tag("v2.0.0");
    repo.commit("docs: after");
    let out = repo.cicd(&["version", "changelog", "--to", "v2.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("## 2.0.0 - 2026-01-"), "{text}");
    assert!(
        text.contains("### Breaking changes\n\n- *(cli)* rename --out — use --output"),
        "{text}"
    );
    assert!(!text.contains("after"), "{text}");
    let out = repo.cicd(&["version", "changelog"]);
    let text = stdout(&out);
    assert!(text.starts_with("## Unreleased - "), "{text}");
    assert!(text.contains("- docs: after"), "{text}");
    assert!(!text.contains("list users"), "{text}");
    // --from narrows the range.
    let out = repo.cicd(&["version", "changelog", "--from", "v1.2.0", "--to", "v2.0.0"]);
    assert!(stdout(&out).contains("list users"));
    let bad = repo.cicd(&["version", "changelog", "--to", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("`nope` names no commit"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn prepend_keeps_a_changelog_and_refuses_twice() {
    let repo = history();
    let out = repo.cicd(&["version", "changelog", "--prepend", "CHANGELOG.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file = std::fs::read_to_string(repo.root().join("CHANGELOG.md")).expect("written");
    assert!(file.starts_with("# Changelog\n"), "{file}");
    assert!(file.contains("## [Unreleased]\n\n## 2.0.0 - "), "{file}");
    assert!(
        file.ends_with(&stdout(&out)),
        "the section printed is the one written"
    );
    let again = repo.cicd(&["version", "changelog", "--prepend", "CHANGELOG.md"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already has a section for 2.0.0"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(repo.root().join("CHANGELOG.md")).expect("kept"),
        file
    );
}
