//! Conventional commits (parsed by `git-conventional`): what each commit means for the next
//! version and where it goes in the changelog. A message that is not a conventional commit is
//! kept as "other" with its subject; it never bumps the version.

use semver::Version;
use serde::Serialize;

use super::git::RawCommit;

/// How much a commit asks the version to move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    None,
    Patch,
    Minor,
    Major,
}

/// Where a commit goes in the changelog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    Breaking,
    Features,
    Fixes,
    Performance,
    Other,
}

/// One commit, read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub sha: String,
    /// The conventional type (`feat`, `fix`…), lowercase; `None` for a non-conventional commit.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub scope: Option<String>,
    /// The description (conventional) or the subject line; the `(#123)` suffix kept.
    pub description: String,
    pub breaking: bool,
    /// What the `BREAKING CHANGE:` footer says, when it says more than the description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaking_note: Option<String>,
    /// Pull request numbers named as `(#123)` at the end of the subject.
    pub pull_requests: Vec<u64>,
    /// A `Release-As: X.Y.Z` footer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_as: Option<String>,
}

impl Commit {
    pub fn parse(raw: &RawCommit) -> Self {
        let subject = raw.message.lines().next().unwrap_or("").trim().to_owned();
        let mut commit = Commit {
            sha: raw.sha.clone(),
            kind: None,
            scope: None,
            pull_requests: pull_requests(&subject),
            description: subject,
            breaking: false,
            breaking_note: None,
            release_as: None,
        };
        let Ok(parsed) = git_conventional::Commit::parse(&raw.message) else {
            return commit;
        };
        commit.kind = Some(parsed.type_().as_str().to_ascii_lowercase());
        commit.scope = parsed.scope().map(|s| s.as_str().to_owned());
        commit.description = parsed.description().trim().to_owned();
        commit.breaking = parsed.breaking();
        commit.breaking_note = parsed
            .breaking_description()
            .map(str::trim)
            .filter(|d| *d != commit.description && !d.is_empty())
            .map(str::to_owned);
        commit.release_as = parsed
            .footers()
            .iter()
            .find(|f| f.token().as_str().eq_ignore_ascii_case("release-as"))
            .map(|f| f.value().trim().to_owned());
        commit
    }

    /// The bump this commit asks for (before the 0.x rules).
    pub fn level(&self) -> Level {
        if self.breaking {
            return Level::Major;
        }
        match self.kind.as_deref() {
            Some("feat") => Level::Minor,
            Some("fix" | "perf") => Level::Patch,
            _ => Level::None,
        }
    }

    pub fn group(&self) -> Group {
        if self.breaking {
            return Group::Breaking;
        }
        match self.kind.as_deref() {
            Some("feat") => Group::Features,
            Some("fix") => Group::Fixes,
            Some("perf") => Group::Performance,
            _ => Group::Other,
        }
    }

    /// The `Release-As:` version, if the footer names a valid one.
    pub fn release_as_version(&self) -> Option<Result<Version, String>> {
        self.release_as.as_ref().map(|v| {
            Version::parse(v.trim_start_matches('v')).map_err(|e| {
                format!(
                    "commit {}: Release-As `{v}` is not a semantic version: {e}",
                    short(&self.sha)
                )
            })
        })
    }
}

/// The first 7 characters of a SHA.
pub fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// `(#123)` groups at the end of a subject, as GitHub's squash merge writes them.
fn pull_requests(subject: &str) -> Vec<u64> {
    let mut found = Vec::new();
    let mut rest = subject.trim_end();
    while let Some(open) = rest.rfind("(#") {
        let inner = &rest[open + 2..];
        let Some(num) = inner.strip_suffix(')') else {
            break;
        };
        match num.parse::<u64>() {
            Ok(n) if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => found.push(n),
            _ => break,
        }
        rest = rest[..open].trim_end();
    }
    found.reverse();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(message: &str) -> Commit {
        Commit::parse(&RawCommit {
            sha: "0123456789abcdef".into(),
            message: message.into(),
        })
    }

    #[test]
    fn conventional_forms() {
        let c = parse("feat(api): add users (#12)");
        assert_eq!(
            (c.kind.as_deref(), c.scope.as_deref(), c.level(), c.group()),
            (Some("feat"), Some("api"), Level::Minor, Group::Features)
        );
        assert_eq!(c.pull_requests, [12]);
        assert_eq!(parse("fix: x").level(), Level::Patch);
        assert_eq!(parse("perf: x").group(), Group::Performance);
        assert_eq!(parse("docs: x").level(), Level::None);
        let b = parse("feat!: drop v1");
        assert_eq!((b.level(), b.group()), (Level::Major, Group::Breaking));
        let f = parse("fix: y\n\nBREAKING CHANGE: config moved");
        assert!(f.breaking);
        assert_eq!(f.breaking_note.as_deref(), Some("config moved"));
        let r = parse("chore: release\n\nRelease-As: 2.0.0");
        assert_eq!(r.release_as_version(), Some(Ok(Version::new(2, 0, 0))));
        assert!(
            parse("chore: x\n\nRelease-As: two")
                .release_as_version()
                .is_some_and(|r| r.is_err())
        );
    }

    #[test]
    fn malformed_messages_are_other() {
        for m in [
            "",
            "\n\n",
            "Merge branch 'x'",
            "::error::boom",
            "feat:",
            "(#1)",
            "feat(: x",
        ] {
            let c = parse(m);
            assert_eq!(c.level(), Level::None, "{m:?}");
            assert_eq!(c.group(), Group::Other, "{m:?}");
        }
        let huge = format!("fix: {}", "x".repeat(1 << 20));
        assert_eq!(parse(&huge).level(), Level::Patch);
        assert_eq!(pull_requests("a (#1) (#22)"), [1, 22]);
        assert_eq!(pull_requests("a (#x)"), Vec::<u64>::new());
        assert_eq!(pull_requests("a (#)"), Vec::<u64>::new());
    }
}
