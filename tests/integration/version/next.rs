//! `cicd version next` against real histories: a golden table, prereleases, merges,
//! backports on a release branch, `Release-As:`, a monorepo component, the JSON contract.

use super::{Repo, stderr, stdout};

fn next(repo: &Repo, args: &[&str]) -> String {
    let mut all = vec!["version", "next"];
    all.extend_from_slice(args);
    let out = repo.cicd(&all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

fn json(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["version", "next", "--json"];
    all.extend_from_slice(args);
    let out = repo.cicd(&all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("json")
}

// See: issue 14 item 1
#[test]
fn golden_next_versions() {
    // (history after the tag, the tag, the expected next version)
    let table: &[(&str, &[&str], &str)] = &[
        ("v1.2.0", &["fix: a"], "1.2.1"),
        ("v1.2.0", &["perf(db): a"], "1.2.1"),
        ("v1.2.0", &["fix: a", "feat(api): b", "docs: c"], "1.3.0"),
        ("v1.2.0", &["feat(api)!: drop v1", "fix: b"], "2.0.0"),
        (
            "v1.2.0",
            &["fix: a\n\nBREAKING CHANGE: config moved"],
            "2.0.0",
        ),
        ("v0.3.4", &["feat!: a"], "0.4.0"),
        ("v0.3.4", &["feat: a"], "0.3.5"),
        ("v1.2.0", &["chore: x\n\nRelease-As: 4.0.0"], "4.0.0"),
        ("", &["feat: first"], "0.1.0"),
        ("v1.2.0", &["docs: a", "Update README"], ""),
    ];
    for (tag, commits, want) in table {
        let mut repo = Repo::new();
        repo.commit("chore: init");
        if !tag.is_empty() {
            repo.tag(tag);
        }
        for c in *commits {
            repo.commit(c);
        }
        assert_eq!(next(&repo, &[]), *want, "{tag} + {commits:?}");
    }
}

#[test]
fn zero_major_rules_are_configurable() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v0.3.4");
    repo.commit("feat!: a");
    repo.write(
        "cicd.yaml",
        "release:\n  bump-minor-pre-major: false\n  bump-patch-for-minor-pre-major: false\n",
    );
    assert_eq!(next(&repo, &[]), "1.0.0");
    repo.write("cicd.yaml", "release:\n  bump-minor-pre-major: false\n");
    assert_eq!(next(&repo, &[]), "1.0.0");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.commit("feat: b");
    repo.write(
        "cicd.yaml",
        "release:\n  bump-patch-for-minor-pre-major: false\n",
    );
    assert_eq!(next(&repo, &[]), "0.4.0");
}

#[test]
fn prerelease_then_stable() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v1.2.0");
    repo.commit("feat: a");
    assert_eq!(next(&repo, &["--pre", "rc"]), "1.3.0-rc.1");
    repo.tag("v1.3.0-rc.1");
    // Nothing new since rc.1: no rc.2.
    assert_eq!(next(&repo, &["--pre", "rc"]), "");
    repo.commit("fix: b");
    assert_eq!(next(&repo, &["--pre", "rc"]), "1.3.0-rc.2");
    repo.tag("v1.3.0-rc.2");
    let j = json(&repo, &[]);
    assert_eq!(j["version"], "1.3.0");
    assert_eq!(j["previous"], "1.2.0");
    assert_eq!(j["bump"], "minor");
    assert_eq!(j["commits"].as_array().map(Vec::len), Some(2));
    let pre = json(&repo, &["--pre", "beta"]);
    assert_eq!(pre["version"], "", "a beta after rc.2 with nothing new");
    repo.tag("v1.3.0");
    assert_eq!(next(&repo, &[]), "");
}

#[test]
fn merged_branches_count_each_commit_once() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v1.0.0");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit("feat(ui): dark mode (#7)");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("fix: typo in help");
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #7 from a/feature",
        "feature",
    ]);
    let j = json(&repo, &[]);
    assert_eq!(j["version"], "1.1.0");
    let kinds: Vec<&str> = j["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["feat", "fix"]);
}

#[test]
fn backport_on_a_release_branch_stays_in_its_line() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.commit("feat: one four");
    repo.tag("v1.4.2");
    repo.git(&["branch", "release/1.4"]);
    repo.commit("feat!: two");
    repo.tag("v2.0.0");
    repo.git(&["checkout", "-q", "release/1.4"]);
    repo.commit("fix: backported (#40)");
    assert_eq!(next(&repo, &[]), "1.4.3");
    repo.tag("v1.4.3");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("fix: on main");
    assert_eq!(next(&repo, &[]), "2.0.1");
}

#[test]
fn component_tags_and_prefixes() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("api/v1.0.0");
    repo.tag("web/v3.0.0");
    repo.tag("v9.0.0");
    repo.commit("feat(api): x");
    repo.write("cicd.yaml", "release:\n  component: api\n");
    let j = json(&repo, &[]);
    assert_eq!(
        (j["version"].as_str(), j["tag"].as_str()),
        (Some("1.1.0"), Some("api/v1.1.0"))
    );
    repo.write("cicd.yaml", "release:\n  tag-prefix: ''\n");
    repo.tag("2.0.0");
    repo.commit("feat: y");
    assert_eq!(next(&repo, &[]), "2.1.0");
}

#[test]
fn json_contract_and_github_output() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v1.2.0");
    repo.commit("fix(cli): handle -- (#3)");
    repo.commit("feat!: new config\n\nBREAKING CHANGE: `images` moved");
    let out_file = repo.root().join("gh-output");
    let out = repo
        .cicd_cmd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out_file)
        .args(["version", "next", "--json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    insta::with_settings!({filters => super::sha_filters()}, {
        insta::assert_snapshot!(stdout(&out));
    });
    assert_eq!(
        std::fs::read_to_string(&out_file).expect("output"),
        "version=2.0.0\ntag=v2.0.0\n"
    );
}

// See: issue 14 item 1 ("nothing releasable: says so, exit 0, empty output")
#[test]
fn nothing_releasable_says_so_with_empty_output() {
    let mut repo = Repo::new();
    repo.commit("chore: init");
    repo.tag("v1.0.0");
    repo.commit("docs: readme");
    let out_file = repo.root().join("gh-output");
    let out = repo
        .cicd_cmd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out_file)
        .args(["version", "next"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("nothing to release: 1 commit since v1.0.0"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&out_file).expect("output"),
        "version=\n"
    );
    let j = json(&repo, &[]);
    assert_eq!(
        (j["version"].as_str(), j["bump"].as_str()),
        (Some(""), Some("none"))
    );
    assert_eq!(j["previous"], "1.0.0");
}
