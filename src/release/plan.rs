//! What `cicd release` will do, decided before anything is written: the version (from
//! `--version`, a `refs/tags/…` `GITHUB_REF`, or the tag on HEAD), whether it is a
//! prerelease, whether it becomes GitHub's latest release (only the highest stable version
//! among the repository's version tags), and each image's destination. `--dry-run` prints
//! this and stops.

use std::path::{Path, PathBuf};
use std::process::Command;

use semver::Version;
use serde::Serialize;

use super::tags::TagPlan;

/// Why a release cannot start: always the user's to fix (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// Where the version came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionSource {
    Flag,
    GithubRef,
    HeadTag,
}

#[derive(Clone, Debug)]
pub struct ReleaseVersion {
    pub version: Version,
    /// The git tag (`v1.2.3`, or `api/v1.2.3` in a monorepo).
    pub git_tag: String,
    pub source: VersionSource,
}

/// The version to release: `--version`, else `GITHUB_REF=refs/tags/<prefix>X.Y.Z`, else the
/// one `<prefix>X.Y.Z` tag pointing at HEAD in `repo`.
pub fn resolve_version(
    flag: Option<&str>,
    github_ref: Option<&str>,
    repo: &Path,
    prefix: &str,
) -> Result<ReleaseVersion, PlanError> {
    if let Some(v) = flag {
        let version = parse(v.strip_prefix(prefix).unwrap_or(v), "--version")?;
        return Ok(ReleaseVersion {
            git_tag: format!("{prefix}{version}"),
            version,
            source: VersionSource::Flag,
        });
    }
    if let Some(tag) = github_ref.and_then(|r| r.strip_prefix("refs/tags/")) {
        let Some(bare) = tag.strip_prefix(prefix) else {
            return Err(PlanError(format!(
                "GITHUB_REF names tag `{tag}`, which does not start with the tag prefix `{prefix}` (release.tag-prefix in cicd.yaml)"
            )));
        };
        return Ok(ReleaseVersion {
            version: parse(bare, &format!("tag `{tag}` (GITHUB_REF)"))?,
            git_tag: tag.to_owned(),
            source: VersionSource::GithubRef,
        });
    }
    let at_head = git(
        repo,
        &[
            "tag",
            "--points-at",
            "HEAD",
            "--list",
            &format!("{prefix}*"),
        ],
    )?;
    let tags: Vec<&str> = at_head.lines().filter(|l| !l.is_empty()).collect();
    match tags.as_slice() {
        [] => Err(PlanError(format!(
            "no `{prefix}X.Y.Z` tag on HEAD in {}: tag the commit (`cicd tag`), run in a tag workflow (GITHUB_REF=refs/tags/…), or pass --version X.Y.Z",
            repo.display()
        ))),
        [tag] => Ok(ReleaseVersion {
            version: parse(&tag[prefix.len()..], &format!("tag `{tag}` on HEAD"))?,
            git_tag: (*tag).to_owned(),
            source: VersionSource::HeadTag,
        }),
        many => Err(PlanError(format!(
            "HEAD has {} version tags ({}): pass --version to say which one to release",
            many.len(),
            many.join(", ")
        ))),
    }
}

fn parse(text: &str, what: &str) -> Result<Version, PlanError> {
    Version::parse(text).map_err(|e| {
        PlanError(format!(
            "{what}: `{text}` is not a semantic version X.Y.Z[-pre] ({e})"
        ))
    })
}

/// Every `<prefix>X.Y.Z` tag of the repository, parsed (others ignored).
pub fn released_versions(repo: &Path, prefix: &str) -> Vec<Version> {
    git(repo, &["tag", "--list", &format!("{prefix}*")])
        .map(|out| {
            out.lines()
                .filter_map(|t| t.strip_prefix(prefix))
                .filter_map(|v| Version::parse(v).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// GitHub's `make_latest`: only a stable version no stable tag is above.
pub fn make_latest(version: &Version, released: &[Version]) -> bool {
    version.pre.is_empty() && !released.iter().any(|r| r.pre.is_empty() && r > version)
}

fn git(repo: &Path, args: &[&str]) -> Result<String, PlanError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| PlanError(format!("could not run git: {e}")))?;
    if !out.status.success() {
        return Err(PlanError(format!(
            "git {} in {}: {}",
            args.join(" "),
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The whole release, as `--dry-run` prints it and `--json` records it.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub version: String,
    pub git_tag: String,
    pub prerelease: bool,
    /// Whether the GitHub release is marked latest.
    pub make_latest: bool,
    pub images: Vec<ImagePlan>,
    /// Where notes and assets are written.
    pub dist: PathBuf,
    /// Asset file names, in upload order.
    pub assets: Vec<String>,
    /// `owner/repo` when a GitHub release will be made.
    pub github: Option<String>,
    pub signing: String,
    pub scan_reports: Vec<PathBuf>,
    /// The first environment, promoted to once the release is made.
    pub environment: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImagePlan {
    pub name: String,
    /// `docker://HOST/REPO` or `oci:PATH`.
    pub destination: String,
    pub platforms: Vec<String>,
    /// Which tags move and why (from the registry's current tags).
    pub tags: TagPlan,
    /// The tags already at the destination, listed once while planning (before anything is
    /// built); the pipeline decides the tags it sets from these.
    #[serde(skip)]
    pub existing: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("version")
    }

    #[test]
    fn only_the_highest_stable_is_latest() {
        let released = [v("1.0.0"), v("2.0.0"), v("2.1.0-rc.1")];
        assert!(make_latest(&v("2.0.1"), &released));
        assert!(!make_latest(&v("1.4.3"), &released), "a backport");
        assert!(!make_latest(&v("2.2.0-rc.1"), &released), "a prerelease");
        assert!(
            make_latest(&v("2.0.0"), &released),
            "a re-run of the highest"
        );
    }

    #[test]
    fn versions_come_from_the_flag_or_a_tag_ref() {
        let here = Path::new(".");
        let r = resolve_version(Some("v1.2.3"), None, here, "v").expect("flag");
        assert_eq!(
            (r.git_tag.as_str(), r.source),
            ("v1.2.3", VersionSource::Flag)
        );
        let r = resolve_version(None, Some("refs/tags/v2.0.0-rc.1"), here, "v").expect("ref");
        assert_eq!(r.version, v("2.0.0-rc.1"));
        let e = resolve_version(None, Some("refs/tags/v2.0"), here, "v").expect_err("not semver");
        assert!(e.0.contains("not a semantic version"), "{e}");
        let e = resolve_version(None, Some("refs/tags/release-1"), here, "v").expect_err("prefix");
        assert!(e.0.contains("tag prefix"), "{e}");
        assert!(resolve_version(Some("1.2"), None, here, "v").is_err());
    }
}
