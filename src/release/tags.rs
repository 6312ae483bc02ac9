//! The image tag scheme, as one pure function: given the version being released, the tags
//! already in the registry and `release.tags`, which tags this release sets and why each
//! floating tag moves or stays. Used by `cicd release` (and promotion) and its dry-run plan.
//!
//! A stable `X.Y.Z` gets `X.Y.Z`, and `X.Y`, `X`, `latest` only when no stable version above it
//! is already in that line (a backport `1.4.3` after `2.0.0` moves `1.4` and `1`, never
//! `latest`). A prerelease gets only its exact tag. `0.x` gets no bare `0` unless
//! `zero-major`. Prereleases already in the registry never hold a floating tag back.

use semver::Version;
use serde::Serialize;

use crate::config::release::TagsConfig;

/// What the commit being released is, for `{sha}`, `{short}` and `{branch}` templates.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// The full commit SHA.
    pub sha: Option<&'a str>,
    /// The branch, when the release runs on one (a tag push has none).
    pub branch: Option<&'a str>,
}

/// One tag the scheme considered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagDecision {
    pub tag: String,
    /// This release sets the tag (to its digest).
    pub set: bool,
    /// The tag is already in the registry: setting it moves it (or re-sets it on a re-run).
    pub exists: bool,
    /// Why it is set or left alone, for the plan.
    pub reason: String,
}

/// Every tag considered for one release, in a stable order: exact, `X.Y`, `X`, `latest`,
/// then the extra templates in config order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagPlan {
    pub version: String,
    pub decisions: Vec<TagDecision>,
}

impl TagPlan {
    /// The tags to set, in plan order.
    pub fn to_set(&self) -> Vec<&str> {
        self.decisions
            .iter()
            .filter(|d| d.set)
            .map(|d| d.tag.as_str())
            .collect()
    }
}

/// The image tag for a version: semver with `+` (not allowed in OCI tags) as `_`.
pub fn exact_tag(version: &Version) -> String {
    version.to_string().replace('+', "_")
}

/// The version an image tag names (`1.2.3`, `v1.2.3`, `1.2.3-rc.1`, `1.2.3_b`), if any.
pub fn parse_tag(tag: &str) -> Option<Version> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    Version::parse(&t.replace('_', "+")).ok()
}

/// Decides the tags for releasing `version` into a repository holding `existing`.
pub fn plan<S: AsRef<str>>(
    version: &Version,
    existing: &[S],
    scheme: &TagsConfig,
    ctx: &Context<'_>,
) -> TagPlan {
    let has = |t: &str| existing.iter().any(|e| e.as_ref() == t);
    let stable: Vec<Version> = existing
        .iter()
        .filter_map(|e| parse_tag(e.as_ref()))
        .filter(|v| v.pre.is_empty())
        .collect();
    let mut decisions = Vec::new();
    let exact = exact_tag(version);
    decisions.push(TagDecision {
        exists: has(&exact),
        reason: if has(&exact) {
            "this release's own tag; already present, set again (a re-run)".into()
        } else {
            "this release's own tag".into()
        },
        set: true,
        tag: exact,
    });
    let lines = [
        (format!("{}.{}", version.major, version.minor), Line::Minor),
        (version.major.to_string(), Line::Major),
        ("latest".to_owned(), Line::All),
    ];
    for (tag, line) in lines {
        let hold = floating_hold(version, &stable, scheme, line);
        let set = hold.is_none();
        let reason = match hold {
            Some(why) => why,
            None => moved_reason(version, &stable, line),
        };
        decisions.push(TagDecision {
            exists: has(&tag),
            tag,
            set,
            reason,
        });
    }
    for template in &scheme.extra {
        let decision = extra(template, version, ctx, &decisions, &has);
        decisions.push(decision);
    }
    TagPlan {
        version: version.to_string(),
        decisions,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    Minor,
    Major,
    All,
}

impl Line {
    fn holds(self, version: &Version, other: &Version) -> bool {
        match self {
            Line::Minor => other.major == version.major && other.minor == version.minor,
            Line::Major => other.major == version.major,
            Line::All => true,
        }
    }

    fn name(self, version: &Version) -> String {
        match self {
            Line::Minor => format!("{}.{}", version.major, version.minor),
            Line::Major => format!("{}", version.major),
            Line::All => "all releases".into(),
        }
    }
}

/// Why a floating tag stays where it is, or `None` when it moves to `version`.
fn floating_hold(
    version: &Version,
    stable: &[Version],
    scheme: &TagsConfig,
    line: Line,
) -> Option<String> {
    if !version.pre.is_empty() {
        return Some(format!(
            "{version} is a prerelease: only its exact tag is set"
        ));
    }
    match line {
        Line::All if !scheme.latest => return Some("release.tags.latest is false".into()),
        Line::Minor | Line::Major if !scheme.floating => {
            return Some("release.tags.floating is false".into());
        }
        Line::Major if version.major == 0 && !scheme.zero_major => {
            return Some(
                "0.x: a bare `0` promises nothing (set release.tags.zero-major to tag it)".into(),
            );
        }
        _ => {}
    }
    let higher = stable
        .iter()
        .filter(|v| line.holds(version, v))
        .filter(|v| v.cmp_precedence(version).is_gt())
        .max_by(|a, b| a.cmp_precedence(b))?;
    Some(format!(
        "{higher} is already released in {}: stays",
        line.name(version)
    ))
}

fn moved_reason(version: &Version, stable: &[Version], line: Line) -> String {
    let below = stable
        .iter()
        .filter(|v| line.holds(version, v))
        .filter(|v| v.cmp_precedence(version).is_lt())
        .max_by(|a, b| a.cmp_precedence(b));
    match below {
        Some(prev) => format!(
            "{version} is the highest stable in {} (was {prev})",
            line.name(version)
        ),
        None if stable.iter().any(|v| v.cmp_precedence(version).is_eq()) => {
            format!(
                "{version} is still the highest stable in {}",
                line.name(version)
            )
        }
        None => format!("first stable release in {}", line.name(version)),
    }
}

/// One extra template, rendered and made tag-safe, unless it cannot be rendered or would
/// take a name the semver scheme owns.
fn extra(
    template: &str,
    version: &Version,
    ctx: &Context<'_>,
    earlier: &[TagDecision],
    has: &dyn Fn(&str) -> bool,
) -> TagDecision {
    let skip = |tag: &str, reason: String| TagDecision {
        tag: tag.to_owned(),
        set: false,
        exists: has(tag),
        reason,
    };
    let rendered = match render(template, version, ctx) {
        Ok(r) => r,
        Err(why) => return skip(template, why),
    };
    let tag = tag_safe(&rendered);
    if tag.is_empty() {
        return skip(template, format!("`{template}` renders to no usable tag"));
    }
    if tag == "latest" || is_semver_owned(&tag) {
        return skip(
            &tag,
            format!("`{template}` renders `{tag}`, which the version scheme decides"),
        );
    }
    if earlier.iter().any(|d| d.tag == tag) {
        return skip(&tag, format!("`{template}` repeats a tag already planned"));
    }
    TagDecision {
        exists: has(&tag),
        reason: format!("from template `{template}`"),
        set: true,
        tag,
    }
}

fn render(template: &str, version: &Version, ctx: &Context<'_>) -> Result<String, String> {
    let mut out = template.to_owned();
    let pairs: [(&str, Option<String>); 7] = [
        ("{version}", Some(exact_tag(version))),
        ("{major}", Some(version.major.to_string())),
        ("{minor}", Some(version.minor.to_string())),
        ("{patch}", Some(version.patch.to_string())),
        ("{sha}", ctx.sha.map(str::to_owned)),
        ("{short}", ctx.sha.map(|s| s.chars().take(7).collect())),
        ("{branch}", ctx.branch.map(str::to_owned)),
    ];
    for (key, value) in pairs {
        if out.contains(key) {
            let Some(value) = value else {
                let what = if key == "{branch}" {
                    "no branch is known (a tag build)"
                } else {
                    "no commit SHA is known"
                };
                return Err(format!("`{template}`: {what}"));
            };
            out = out.replace(key, &value);
        }
    }
    Ok(out)
}

/// An OCI tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`) from any text: other characters become
/// `-`, leading `.`/`-` are dropped (as docker/metadata-action does for branch names).
pub fn tag_safe(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    mapped
        .trim_start_matches(['.', '-'])
        .chars()
        .take(128)
        .collect()
}

/// `1`, `1.2` or a stable `1.2.3` (with or without `v`): names only the scheme may set.
/// (`1.2.3-alpine` parses as a prerelease, which holds no floating tag back: allowed.)
fn is_semver_owned(tag: &str) -> bool {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let numeric = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = t.split('.').collect();
    (parts.len() <= 2 && parts.iter().all(|p| numeric(p)))
        || parse_tag(tag).is_some_and(|v| v.pre.is_empty())
}

#[cfg(test)]
#[path = "tags_tests.rs"]
mod tests;
