//! Golden next-version table for the pure rule (git-backed cases are integration tests).

use super::*;
use crate::release::git::RawCommit;

const DEFAULT: Rules = Rules {
    minor_pre_major: true,
    patch_for_minor_pre_major: true,
};
const STRICT: Rules = Rules {
    minor_pre_major: false,
    patch_for_minor_pre_major: false,
};

fn commits(messages: &[&str]) -> Vec<Commit> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Commit::parse(&RawCommit {
                sha: format!("{i:040}"),
                message: (*m).to_owned(),
            })
        })
        .collect()
}

fn ver(s: &str) -> Version {
    Version::parse(s).expect("version")
}

fn run(
    base: Option<&str>,
    pre_tag: Option<&str>,
    messages: &[&str],
    pre: Option<&str>,
    known: &[&str],
    rules: Rules,
) -> Result<Option<(String, Bump)>, String> {
    let base = base.map(ver);
    let newest = pre_tag.map(ver);
    let known: Vec<Version> = known.iter().map(|k| ver(k)).collect();
    decide(
        base.as_ref(),
        newest.as_ref(),
        &commits(messages),
        pre,
        &known,
        rules,
    )
    .map(|o| o.map(|(v, b)| (v.to_string(), b)))
}

#[test]
fn golden_table() {
    #[allow(clippy::type_complexity)]
    let table: &[(
        Option<&str>,
        Option<&str>,
        &[&str],
        Option<&str>,
        &[&str],
        Rules,
        &str,
        Option<Bump>,
    )] = &[
        (
            Some("1.2.0"),
            None,
            &["fix: a"],
            None,
            &[],
            DEFAULT,
            "1.2.1",
            Some(Bump::Patch),
        ),
        (
            Some("1.2.0"),
            None,
            &["perf: a"],
            None,
            &[],
            DEFAULT,
            "1.2.1",
            Some(Bump::Patch),
        ),
        (
            Some("1.2.0"),
            None,
            &["fix: a", "feat(x): b"],
            None,
            &[],
            DEFAULT,
            "1.3.0",
            Some(Bump::Minor),
        ),
        (
            Some("1.2.0"),
            None,
            &["feat!: a", "fix: b"],
            None,
            &[],
            DEFAULT,
            "2.0.0",
            Some(Bump::Major),
        ),
        (
            Some("1.2.0"),
            None,
            &["fix: a\n\nBREAKING CHANGE: b"],
            None,
            &[],
            DEFAULT,
            "2.0.0",
            Some(Bump::Major),
        ),
        (
            Some("1.2.0"),
            None,
            &["docs: a", "chore: b", "not conventional"],
            None,
            &[],
            DEFAULT,
            "",
            None,
        ),
        (Some("1.2.0"), None, &[], None, &[], DEFAULT, "", None),
        // Below 1.0 (release-plz's rules, and both switched off).
        (
            Some("0.3.4"),
            None,
            &["feat!: a"],
            None,
            &[],
            DEFAULT,
            "0.4.0",
            Some(Bump::Minor),
        ),
        (
            Some("0.3.4"),
            None,
            &["feat: a"],
            None,
            &[],
            DEFAULT,
            "0.3.5",
            Some(Bump::Patch),
        ),
        (
            Some("0.3.4"),
            None,
            &["fix: a"],
            None,
            &[],
            DEFAULT,
            "0.3.5",
            Some(Bump::Patch),
        ),
        (
            Some("0.3.4"),
            None,
            &["feat!: a"],
            None,
            &[],
            STRICT,
            "1.0.0",
            Some(Bump::Major),
        ),
        (
            Some("0.3.4"),
            None,
            &["feat: a"],
            None,
            &[],
            STRICT,
            "0.4.0",
            Some(Bump::Minor),
        ),
        // No tag yet.
        (
            None,
            None,
            &["feat: a"],
            None,
            &[],
            DEFAULT,
            "0.1.0",
            Some(Bump::Initial),
        ),
        (None, None, &["chore: a"], None, &[], DEFAULT, "", None),
        (
            None,
            None,
            &["fix: a"],
            Some("rc"),
            &[],
            DEFAULT,
            "0.1.0-rc.1",
            Some(Bump::Initial),
        ),
        // Prereleases: numbered over every tag of that version.
        (
            Some("1.2.0"),
            None,
            &["feat: a"],
            Some("rc"),
            &[],
            DEFAULT,
            "1.3.0-rc.1",
            Some(Bump::Minor),
        ),
        (
            Some("1.2.0"),
            Some("1.3.0-rc.1"),
            &["feat: a", "fix: b"],
            Some("rc"),
            &["1.2.0", "1.3.0-rc.1"],
            DEFAULT,
            "1.3.0-rc.2",
            Some(Bump::Minor),
        ),
        (
            Some("1.2.0"),
            Some("1.3.0-rc.2"),
            &["feat: a"],
            None,
            &["1.3.0-rc.1", "1.3.0-rc.2"],
            DEFAULT,
            "1.3.0",
            Some(Bump::Minor),
        ),
        (
            Some("1.2.0"),
            Some("1.3.0-beta.2"),
            &["feat: a"],
            Some("rc"),
            &["1.3.0-beta.1", "1.3.0-beta.2"],
            DEFAULT,
            "1.3.0-rc.1",
            Some(Bump::Minor),
        ),
        (
            Some("1.2.0"),
            Some("1.3.0-rc.9"),
            &["feat: a"],
            Some("rc"),
            &["1.3.0-rc.9", "1.3.0-rc.10"],
            DEFAULT,
            "1.3.0-rc.11",
            Some(Bump::Minor),
        ),
        // A fix after a major release candidate continues the candidate's version.
        (
            Some("1.2.0"),
            Some("2.0.0-rc.1"),
            &["fix: a"],
            None,
            &[],
            DEFAULT,
            "2.0.0",
            Some(Bump::Major),
        ),
        // A breaking change after a minor release candidate goes past it.
        (
            Some("1.2.0"),
            Some("1.3.0-rc.1"),
            &["feat!: a"],
            Some("rc"),
            &["1.3.0-rc.1"],
            DEFAULT,
            "2.0.0-rc.1",
            Some(Bump::Major),
        ),
        // Release-As wins, also over no releasable commit.
        (
            Some("1.2.0"),
            None,
            &["fix: a", "chore: go\n\nRelease-As: 3.0.0"],
            None,
            &[],
            DEFAULT,
            "3.0.0",
            Some(Bump::ReleaseAs),
        ),
        (
            Some("1.2.0"),
            None,
            &["chore: go\n\nRelease-As: v1.5.0"],
            Some("beta"),
            &[],
            DEFAULT,
            "1.5.0-beta.1",
            Some(Bump::ReleaseAs),
        ),
        (
            None,
            None,
            &["chore: go\n\nRelease-As: 1.0.0"],
            None,
            &[],
            DEFAULT,
            "1.0.0",
            Some(Bump::ReleaseAs),
        ),
    ];
    for (i, (base, newest, msgs, pre, known, rules, want, bump)) in table.iter().enumerate() {
        let got = run(*base, *newest, msgs, *pre, known, *rules).expect("decides");
        match bump {
            Some(b) => assert_eq!(got, Some(((*want).to_owned(), *b)), "row {i}"),
            None => assert_eq!(got, None, "row {i}"),
        }
    }
}

#[test]
fn unusable_release_as_is_an_error() {
    let e = run(
        Some("1.2.0"),
        None,
        &["chore: x\n\nRelease-As: 1.2.0"],
        None,
        &[],
        DEFAULT,
    )
    .expect_err("not above");
    assert!(e.contains("not above"), "{e}");
    let e = run(
        Some("1.2.0"),
        None,
        &["chore: x\n\nRelease-As: soon"],
        None,
        &[],
        DEFAULT,
    )
    .expect_err("not semver");
    assert!(e.contains("not a semantic version"), "{e}");
}

#[test]
fn previous_for_stable_skips_prereleases() {
    let tags: Vec<VersionTag> = ["1.2.0", "1.3.0-rc.1", "1.3.0-rc.2", "1.3.0"]
        .iter()
        .map(|v| VersionTag {
            tag: format!("v{v}"),
            version: ver(v),
        })
        .collect();
    let prev = |v: &str| previous_for(&tags, &ver(v)).map(|t| t.tag.clone());
    assert_eq!(prev("1.3.0").as_deref(), Some("v1.2.0"));
    assert_eq!(prev("1.3.0-rc.2").as_deref(), Some("v1.3.0-rc.1"));
    assert_eq!(prev("1.4.0-rc.1").as_deref(), Some("v1.3.0"));
    assert_eq!(prev("1.0.0"), None);
}
