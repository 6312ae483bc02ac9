//! Changelog rendering and prepending, snapshotted.

use super::*;
use crate::release::git::RawCommit;

fn commits(messages: &[&str]) -> Vec<Commit> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Commit::parse(&RawCommit {
                sha: format!("{:x}{}", i + 10, "0".repeat(39)),
                message: (*m).to_owned(),
            })
        })
        .collect()
}

fn section<'a>(commits: &'a [Commit], previous: Option<&'a str>) -> Section<'a> {
    Section {
        title: "1.3.0",
        date: Some("2026-11-30"),
        previous_tag: previous,
        tag: "v1.3.0",
        commits,
    }
}

#[test]
fn grouped_and_linked() {
    let c = commits(&[
        "feat(api): add users (#12)",
        "fix: crash on empty input",
        "feat!: drop the v1 API\n\nBREAKING CHANGE: clients must move to /v2",
        "perf(db): batch writes",
        "docs: typo",
        "Update README",
    ]);
    let links = Links::new("https://github.example/", "acme/app").expect("links");
    insta::assert_snapshot!(render(&section(&c, Some("v1.2.0")), Some(&links)), @r"
    ## [1.3.0] - 2026-11-30

    ### Breaking changes

    - drop the v1 API — clients must move to /v2 ([c000000](https://github.example/acme/app/commit/c000000000000000000000000000000000000000))

    ### Features

    - *(api)* add users ([a000000](https://github.example/acme/app/commit/a000000000000000000000000000000000000000)) ([#12](https://github.example/acme/app/pull/12))

    ### Bug fixes

    - crash on empty input ([b000000](https://github.example/acme/app/commit/b000000000000000000000000000000000000000))

    ### Performance

    - *(db)* batch writes ([d000000](https://github.example/acme/app/commit/d000000000000000000000000000000000000000))

    <details>
    <summary>Other changes (2)</summary>

    - docs: typo ([e000000](https://github.example/acme/app/commit/e000000000000000000000000000000000000000))
    - Update README ([f000000](https://github.example/acme/app/commit/f000000000000000000000000000000000000000))

    </details>

    [1.3.0]: https://github.example/acme/app/compare/v1.2.0...v1.3.0
    ");
}

#[test]
fn hostile_text_is_escaped_and_bounded() {
    let long = format!("fix(<b>): {}", "y".repeat(500));
    let c = commits(&[
        "feat(x*y): ::error::boom [link](javascript:x) <script>",
        &long,
        "chore: a\r\n::set-output name=x::y",
    ]);
    let out = render(&section(&c, None), None);
    insta::assert_snapshot!(out.replace(&"y".repeat(200), "y{200}"), @r"
    ## 1.3.0 - 2026-11-30

    ### Features

    - *(x\*y)* ::error::boom \[link\](javascript:x) \<script\> (a000000)

    ### Bug fixes

    - *(\<b\>)* y{200}… (b000000)

    <details>
    <summary>Other changes (1)</summary>

    - chore: a (c000000)

    </details>
    ");
    assert!(out.lines().all(|l| !l.trim_start().starts_with("::")));
    assert_eq!(Links::new("https://x/(evil)", "a/b"), None);
    assert_eq!(Links::new("https://x", "a/b/c"), None);
    assert_eq!(Links::new("https://x", "../b"), None);
    assert_eq!(Links::new("ftp://x", "a/b"), None);
}

#[test]
fn empty_section_says_so() {
    assert_eq!(
        render(&section(&[], Some("v1.2.0")), None),
        "## 1.3.0 - 2026-11-30\n\nNo changes.\n"
    );
}

#[test]
fn prepend_keeps_a_changelog_layout() {
    let new = prepend(None, "## [1.0.0] - 2026-01-01\n\n- a\n", "1.0.0").expect("new file");
    assert!(new.starts_with("# Changelog\n"));
    assert!(
        new.ends_with("## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n- a\n"),
        "{new}"
    );
    let next = prepend(Some(&new), "## [1.1.0] - 2026-02-01\n\n- b\n", "1.1.0").expect("next");
    let order: Vec<&str> = next.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        order,
        [
            "## [Unreleased]",
            "## [1.1.0] - 2026-02-01",
            "## [1.0.0] - 2026-01-01"
        ]
    );
    let again = prepend(Some(&next), "## [1.1.0]\n", "1.1.0").expect_err("twice");
    assert!(again.contains("already"), "{again}");
    // 1.1.0 is not 1.1.0-rc.1's heading.
    assert!(prepend(Some(&next), "## [1.1.0-rc.1]\n", "1.1.0-rc.1").is_ok());
    // A file with no version yet gets the section at its end.
    let plain = prepend(Some("# Changes\n"), "## 0.1.0\n", "0.1.0").expect("plain");
    assert_eq!(plain, "# Changes\n\n## 0.1.0\n");
}
