//! Commit messages and tags are written by anyone who can push: `release::commits::Commit::parse`
//! on any UTF-8 message, the changelog rendered from it, `release::tags::parse_tag` and the tag
//! engine over the tags given, and `config::release::check_template` never panic; no changelog
//! line opens a workflow command, and `latest` never moves to a prerelease.
#![no_main]

use cicd::config::release::{TagsConfig, check_template};
use cicd::release::changelog::{Section, prepend, render};
use cicd::release::commits::Commit;
use cicd::release::git::RawCommit;
use cicd::release::tags::{Context, parse_tag, plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let commit = Commit::parse(&RawCommit {
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        message: s.to_owned(),
    });
    let _ = commit.release_as_version();
    let commits = [commit];
    let md = render(
        &Section {
            title: "1.0.0",
            date: Some("2026-01-01"),
            previous_tag: Some("v0.9.0"),
            tag: "v1.0.0",
            commits: &commits,
        },
        None,
    );
    for line in md.lines() {
        assert!(!line.trim_start().starts_with("::"), "{line:?}");
    }
    let _ = prepend(Some(s), &md, "1.0.0");
    let _ = check_template(s);
    let tags: Vec<&str> = s.split(['\n', ' ']).collect();
    for t in &tags {
        if let Some(v) = parse_tag(t) {
            let p = plan(
                &v,
                &tags,
                &TagsConfig::default(),
                &Context {
                    sha: Some(s),
                    branch: Some(s),
                },
            );
            let latest = p.decisions.iter().any(|d| d.tag == "latest" && d.set);
            assert!(!latest || v.pre.is_empty(), "{t:?}");
        }
    }
});
