//! The changelog: one version's commits as deterministic Markdown (Breaking changes,
//! Features, Bug fixes, Performance, then the rest folded in `<details>`), links to commits,
//! pull requests and the compare view when the GitHub repository is known, and prepending
//! that section to a Keep a Changelog `CHANGELOG.md`. All commit text is escaped.

use semver::Version;

use super::ReleaseError;
use super::commits::{Commit, Group, short};
use super::git::Repo;
use super::version::{previous_for, version_tags};
use crate::config::release::ReleaseConfig;
use crate::report::escape::markdown;

/// Where commits, pull requests and compare views live (`https://github.com/owner/repo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links {
    base: String,
}

impl Links {
    /// From `GITHUB_SERVER_URL` and `GITHUB_REPOSITORY`; `None` when either is missing or not
    /// something a Markdown link can hold safely.
    pub fn new(server: &str, repository: &str) -> Option<Self> {
        let server = server.trim_end_matches('/');
        let url_ok = (server.starts_with("https://") || server.starts_with("http://"))
            && server
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>[]\"'`\\".contains(&b));
        let mut parts = repository.split('/');
        let name_ok = |p: Option<&str>| {
            p.is_some_and(|p| {
                !p.is_empty()
                    && p != "."
                    && p != ".."
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            })
        };
        let repo_ok = name_ok(parts.next()) && name_ok(parts.next()) && parts.next().is_none();
        (url_ok && repo_ok).then(|| Self {
            base: format!("{server}/{repository}"),
        })
    }

    pub fn from_env() -> Option<Self> {
        let server = std::env::var("GITHUB_SERVER_URL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "https://github.com".into());
        let repository = std::env::var("GITHUB_REPOSITORY").ok()?;
        Self::new(&server, &repository)
    }
}

/// One version's section.
#[derive(Clone, Debug)]
pub struct Section<'a> {
    /// `1.3.0`, or `Unreleased`.
    pub title: &'a str,
    /// `YYYY-MM-DD`.
    pub date: Option<&'a str>,
    /// The compare view: from this tag…
    pub previous_tag: Option<&'a str>,
    /// …to this tag or ref.
    pub tag: &'a str,
    /// Newest first, as git lists them.
    pub commits: &'a [Commit],
}

const GROUPS: [(Group, &str); 4] = [
    (Group::Breaking, "Breaking changes"),
    (Group::Features, "Features"),
    (Group::Fixes, "Bug fixes"),
    (Group::Performance, "Performance"),
];

/// The longest description shown; longer ones end with `…`.
const MAX_DESCRIPTION: usize = 200;

/// The Markdown for one section, ending with one newline.
pub fn render(section: &Section<'_>, links: Option<&Links>) -> String {
    let compare = match (links, section.previous_tag) {
        (Some(l), Some(prev)) => Some(format!(
            "{}/compare/{}...{}",
            l.base,
            encode(prev),
            encode(section.tag)
        )),
        _ => None,
    };
    let title = markdown(section.title);
    let mut out = match &compare {
        Some(_) => format!("## [{title}]"),
        None => format!("## {title}"),
    };
    if let Some(date) = section.date {
        out.push_str(&format!(" - {}", markdown(date)));
    }
    out.push_str("\n\n");
    for (group, heading) in GROUPS {
        let entries: Vec<&Commit> = section
            .commits
            .iter()
            .filter(|c| c.group() == group)
            .collect();
        if entries.is_empty() {
            continue;
        }
        out.push_str(&format!("### {heading}\n\n"));
        for c in entries {
            out.push_str(&entry(c, links, false));
        }
        out.push('\n');
    }
    let others: Vec<&Commit> = section
        .commits
        .iter()
        .filter(|c| c.group() == Group::Other)
        .collect();
    if !others.is_empty() {
        out.push_str(&format!(
            "<details>\n<summary>Other changes ({})</summary>\n\n",
            others.len()
        ));
        for c in others {
            out.push_str(&entry(c, links, true));
        }
        out.push_str("\n</details>\n\n");
    }
    if section.commits.is_empty() {
        out.push_str("No changes.\n\n");
    }
    if let Some(url) = compare {
        out.push_str(&format!("[{title}]: {url}\n"));
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn entry(c: &Commit, links: Option<&Links>, with_type: bool) -> String {
    let mut line = String::from("- ");
    if with_type && let Some(kind) = &c.kind {
        line.push_str(&format!("{}: ", markdown(kind)));
    }
    if let Some(scope) = &c.scope {
        line.push_str(&format!("*({})* ", markdown(scope)));
    }
    line.push_str(&markdown(&bounded(strip_pr_suffix(&c.description))));
    if let Some(note) = &c.breaking_note {
        line.push_str(&format!(" — {}", markdown(&bounded(note))));
    }
    let sha = short(&c.sha);
    match links {
        Some(l) => line.push_str(&format!(" ([{sha}]({}/commit/{}))", l.base, encode(&c.sha))),
        None => line.push_str(&format!(" ({sha})")),
    }
    for pr in &c.pull_requests {
        match links {
            Some(l) => line.push_str(&format!(" ([#{pr}]({}/pull/{pr}))", l.base)),
            None => line.push_str(&format!(" (#{pr})")),
        }
    }
    line.push('\n');
    line
}

/// The description without the `(#123)` groups shown as links.
fn strip_pr_suffix(s: &str) -> &str {
    let mut rest = s.trim_end();
    while let Some(open) = rest.rfind("(#") {
        let inner = &rest[open + 2..];
        match inner.strip_suffix(')') {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                rest = rest[..open].trim_end();
            }
            _ => break,
        }
    }
    rest
}

fn bounded(s: &str) -> String {
    match s.char_indices().nth(MAX_DESCRIPTION) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A ref or SHA for a URL path: tag characters kept, anything else percent-encoded.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_./".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const HEADER: &str = "# Changelog\n\nAll notable changes to this project are documented in this file.\n\nThe format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\nand this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n\n## [Unreleased]\n";

/// `existing` (a Keep a Changelog file, or nothing) with `section` for `title` inserted
/// after `## [Unreleased]` and before the newest version; refused when `title` is there.
pub fn prepend(existing: Option<&str>, section: &str, title: &str) -> Result<String, String> {
    let existing = existing.filter(|e| !e.trim().is_empty()).unwrap_or(HEADER);
    let is_heading_of = |line: &str, name: &str| {
        let rest = line.trim_end().strip_prefix("## ").unwrap_or("");
        let rest = rest.strip_prefix('[').unwrap_or(rest);
        rest.len() >= name.len()
            && rest[..name.len()].eq_ignore_ascii_case(name)
            && rest[name.len()..]
                .chars()
                .next()
                .is_none_or(|c| c == ']' || c == ' ')
    };
    if existing.lines().any(|l| is_heading_of(l, &markdown(title))) {
        return Err(format!("already has a section for {title}"));
    }
    let mut out = String::with_capacity(existing.len() + section.len() + 2);
    let mut inserted = false;
    for line in existing.split_inclusive('\n') {
        if !inserted && line.starts_with("## ") && !is_heading_of(line, "Unreleased") {
            out.push_str(section.trim_end());
            out.push_str("\n\n");
            inserted = true;
        }
        out.push_str(line);
    }
    if !inserted {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
        out.push_str(section.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The changelog of `version`, released at `to` (a tag or commit): the commits since the
/// previous version (see `version::previous_for`), dated by `to`'s commit. For `cicd release`.
pub fn for_version(
    repo: &Repo,
    config: &ReleaseConfig,
    version: &Version,
    to: &str,
    links: Option<&Links>,
) -> Result<String, ReleaseError> {
    let prefix = config.git_prefix();
    let (reachable, _) = version_tags(repo, &prefix, Some(to))?;
    let previous = previous_for(&reachable, version);
    let from = previous.map(|p| p.tag.as_str());
    let commits: Vec<Commit> = repo.commits(from, to)?.iter().map(Commit::parse).collect();
    let date = repo.date(to)?;
    let title = version.to_string();
    let tag = format!("{prefix}{version}");
    Ok(render(
        &Section {
            title: &title,
            date: Some(&date),
            previous_tag: from,
            tag: &tag,
            commits: &commits,
        },
        links,
    ))
}

#[cfg(test)]
#[path = "changelog_tests.rs"]
mod tests;
