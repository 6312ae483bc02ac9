//! The next version: from the newest stable version tag reachable from HEAD and the
//! conventional commits since it. `feat` → minor, `fix`/`perf` → patch, breaking → major;
//! below 1.0 breaking → minor and feat → patch (both configurable); `Release-As:` forces a
//! version; `--pre rc` numbers `rc.N` over every tag already made for that version.

use semver::{Prerelease, Version};
use serde::Serialize;

use super::ReleaseError;
use super::commits::{Commit, Level};
use super::git::Repo;
use crate::config::release::ReleaseConfig;

/// How the version moved from the previous stable one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bump {
    Major,
    Minor,
    Patch,
    /// No version tag yet: the first release (`0.1.0`).
    Initial,
    /// A `Release-As:` footer chose it.
    ReleaseAs,
}

/// The bump rules from `release:`.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub minor_pre_major: bool,
    pub patch_for_minor_pre_major: bool,
}

impl From<&ReleaseConfig> for Rules {
    fn from(c: &ReleaseConfig) -> Self {
        Self {
            minor_pre_major: c.bump_minor_pre_major,
            patch_for_minor_pre_major: c.bump_patch_for_minor_pre_major,
        }
    }
}

/// The first version when no version tag exists.
pub const INITIAL: Version = Version::new(0, 1, 0);

/// A version tag in git.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionTag {
    pub tag: String,
    pub version: Version,
}

/// The version tags under `prefix`; others (not semver after the prefix) are returned apart.
pub fn version_tags(
    repo: &Repo,
    prefix: &str,
    rev: Option<&str>,
) -> Result<(Vec<VersionTag>, Vec<String>), ReleaseError> {
    let mut tags = Vec::new();
    let mut ignored = Vec::new();
    for tag in repo.tags(prefix, rev)? {
        match tag
            .strip_prefix(prefix)
            .and_then(|v| Version::parse(v).ok())
        {
            Some(version) => tags.push(VersionTag { tag, version }),
            None => ignored.push(tag),
        }
    }
    tags.sort_by(|a, b| a.version.cmp_precedence(&b.version).then(a.tag.cmp(&b.tag)));
    Ok((tags, ignored))
}

/// The tag a changelog for `version` starts after: the highest stable below it (a stable
/// release lists everything since the last stable), or for a prerelease the highest of any.
pub fn previous_for<'t>(reachable: &'t [VersionTag], version: &Version) -> Option<&'t VersionTag> {
    reachable
        .iter()
        .filter(|t| t.version.cmp_precedence(version).is_lt())
        .filter(|t| !version.pre.is_empty() || t.version.pre.is_empty())
        .max_by(|a, b| a.version.cmp_precedence(&b.version))
}

/// What `version next` decided.
#[derive(Clone, Debug)]
pub struct Next {
    pub version: Version,
    /// The git tag to create (`v1.3.0`, `api/v1.3.0`).
    pub tag: String,
    /// The tag the changelog starts after (see [`previous_for`]).
    pub previous: Option<VersionTag>,
    pub bump: Bump,
    /// The commits since the previous stable version that caused the bump.
    pub commits: Vec<Commit>,
}

/// Why there is nothing to release.
#[derive(Clone, Debug)]
pub struct Nothing {
    pub since: Option<String>,
    pub commits: usize,
}

/// The next version at `head` (`pre`: `alpha`, `beta`, `rc`), or why there is none.
pub fn next(
    repo: &Repo,
    config: &ReleaseConfig,
    pre: Option<&str>,
    head: &str,
) -> Result<Result<Next, Nothing>, ReleaseError> {
    repo.resolve(head)?;
    let prefix = config.git_prefix();
    let (all, _) = version_tags(repo, &prefix, None)?;
    let (reachable, _) = version_tags(repo, &prefix, Some(head))?;
    let base = reachable
        .iter()
        .filter(|t| t.version.pre.is_empty())
        .max_by(|a, b| a.version.cmp_precedence(&b.version));
    let raw = repo.commits(base.map(|b| b.tag.as_str()), head)?;
    let commits: Vec<Commit> = raw.iter().map(Commit::parse).collect();
    let newest_pre = reachable
        .iter()
        .filter(|t| !t.version.pre.is_empty())
        .map(|t| &t.version)
        .max_by(|a, b| a.cmp_precedence(b));
    let known: Vec<Version> = all.iter().map(|t| t.version.clone()).collect();
    let decided = decide(
        base.map(|b| &b.version),
        newest_pre,
        &commits,
        pre,
        &known,
        Rules::from(config),
    )
    .map_err(ReleaseError::ReleaseAs)?;
    let nothing = || Nothing {
        since: base.map(|b| b.tag.clone()),
        commits: commits.len(),
    };
    let Some((version, bump)) = decided else {
        return Ok(Err(nothing()));
    };
    // A prerelease needs something new since the newest tag of any kind.
    if pre.is_some()
        && let Some(newest) = reachable
            .iter()
            .max_by(|a, b| a.version.cmp_precedence(&b.version))
        && repo.commits(Some(&newest.tag), head)?.is_empty()
    {
        return Ok(Err(nothing()));
    }
    Ok(Ok(Next {
        tag: format!("{prefix}{version}"),
        previous: previous_for(&reachable, &version).cloned(),
        bump,
        commits: commits
            .into_iter()
            .filter(|c| c.level() > Level::None)
            .collect(),
        version,
    }))
}

/// The pure rule: the next version from the previous stable `base`, the newest reachable
/// prerelease, the commits since `base` (newest first) and every version already tagged.
/// `Ok(None)`: nothing releasable. `Err`: a `Release-As:` footer that cannot be used.
pub fn decide(
    base: Option<&Version>,
    newest_pre: Option<&Version>,
    commits: &[Commit],
    pre: Option<&str>,
    known: &[Version],
    rules: Rules,
) -> Result<Option<(Version, Bump)>, String> {
    let forced = commits
        .iter()
        .find_map(Commit::release_as_version)
        .transpose()?;
    let (mut target, mut bump) = if let Some(v) = forced {
        if let Some(b) = base
            && v.cmp_precedence(b).is_le()
        {
            return Err(format!(
                "Release-As {v} is not above the previous version {b}"
            ));
        }
        (v, Bump::ReleaseAs)
    } else {
        let level = commits
            .iter()
            .map(Commit::level)
            .max()
            .unwrap_or(Level::None);
        if level == Level::None {
            return Ok(None);
        }
        match base {
            None => (INITIAL, Bump::Initial),
            Some(b) => bump(b, level, rules),
        }
    };
    // Releasing after prereleases continues their version (1.3.0-rc.2 → 1.3.0).
    if bump != Bump::ReleaseAs
        && let Some(p) = newest_pre
    {
        let core = Version::new(p.major, p.minor, p.patch);
        if core.cmp_precedence(&target).is_gt() {
            target = core;
            if let Some(b) = base {
                bump = if target.major != b.major {
                    Bump::Major
                } else if target.minor != b.minor {
                    Bump::Minor
                } else {
                    Bump::Patch
                };
            }
        }
    }
    if let Some(id) = pre {
        let n = known
            .iter()
            .filter(|k| (k.major, k.minor, k.patch) == (target.major, target.minor, target.patch))
            .filter_map(|k| {
                k.pre
                    .as_str()
                    .strip_prefix(id)?
                    .strip_prefix('.')?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .map_or(1, |n| n + 1);
        target.pre =
            Prerelease::new(&format!("{id}.{n}")).map_err(|e| format!("--pre {id}: {e}"))?;
    }
    Ok(Some((target, bump)))
}

fn bump(base: &Version, level: Level, rules: Rules) -> (Version, Bump) {
    let level = match level {
        Level::Major if base.major == 0 && rules.minor_pre_major => Level::Minor,
        Level::Minor if base.major == 0 && rules.patch_for_minor_pre_major => Level::Patch,
        l => l,
    };
    match level {
        Level::Major => (Version::new(base.major + 1, 0, 0), Bump::Major),
        Level::Minor => (Version::new(base.major, base.minor + 1, 0), Bump::Minor),
        _ => (
            Version::new(base.major, base.minor, base.patch + 1),
            Bump::Patch,
        ),
    }
}

#[cfg(test)]
#[path = "version_tests.rs"]
mod tests;
