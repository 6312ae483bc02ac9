//! Turns a tag or branch into the commit to pin and the comment to keep beside it: the most
//! specific version tag on that commit (`v4` → `v4.2.2`), or the branch name.

use crate::github::git::refs::RefMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub sha: String,
    /// What goes in the trailing comment: a version tag or the branch name.
    pub comment: String,
    /// The ref was a branch: the pin freezes its head today.
    pub branch: bool,
}

/// Resolves `git_ref` against the repository's refs; tags win over branches of the same
/// name, as git's own lookup order does.
pub fn resolve(refs: &RefMap, git_ref: &str) -> Option<Pin> {
    if let Some(sha) = refs.tags.get(git_ref) {
        return Some(Pin {
            sha: sha.clone(),
            comment: most_specific_tag(refs, sha, git_ref),
            branch: false,
        });
    }
    refs.heads.get(git_ref).map(|sha| Pin {
        sha: sha.clone(),
        comment: git_ref.to_owned(),
        branch: true,
    })
}

/// The version tag on `sha` with the most components (then the highest), written in the
/// same style as `asked` (`v` prefix or not); `asked` itself when no version tag fits.
pub fn most_specific_tag(refs: &RefMap, sha: &str, asked: &str) -> String {
    tag_on(refs, sha, asked).unwrap_or_else(|| asked.to_owned())
}

/// The most specific version tag on `sha` in the style of `like`, if there is one.
pub fn tag_on(refs: &RefMap, sha: &str, like: &str) -> Option<String> {
    // A version keeps its own style; any other tag (`stable`) gets the usual `v` style.
    let wants_v = like.starts_with('v') || version(like).is_none();
    refs.tags
        .iter()
        .filter(|(name, target)| *target == sha && name.starts_with('v') == wants_v)
        .filter_map(|(name, _)| version(name).map(|v| (v, name)))
        .max_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
        .map(|(_, name)| name.clone())
}

/// `v1.2.3` → [1, 2, 3]; pre-release and build suffixes are not versions to pin comments to.
pub fn version(tag: &str) -> Option<Vec<u64>> {
    let core = tag.strip_prefix('v').unwrap_or(tag);
    core.split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty() && v.len() <= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> RefMap {
        let mut r = RefMap::default();
        for (t, s) in [
            ("v4", "a"),
            ("v4.2", "a"),
            ("v4.2.2", "a"),
            ("v4.2.1", "b"),
            ("v4.10.0-rc.1", "a"),
            ("4.2.2", "a"),
            ("stable", "a"),
        ] {
            r.tags.insert(t.into(), s.into());
        }
        r.heads.insert("main".into(), "c".into());
        r.heads.insert("v4".into(), "d".into());
        r
    }

    #[test]
    fn tags_resolve_to_the_most_specific_version() {
        let pin = resolve(&refs(), "v4").expect("tag");
        assert_eq!(
            (pin.sha.as_str(), pin.comment.as_str(), pin.branch),
            ("a", "v4.2.2", false)
        );
        assert_eq!(resolve(&refs(), "v4.2.1").expect("tag").comment, "v4.2.1");
        assert_eq!(resolve(&refs(), "4.2.2").expect("tag").comment, "4.2.2");
        assert_eq!(resolve(&refs(), "stable").expect("tag").comment, "v4.2.2");
    }

    #[test]
    fn branches_pin_their_head() {
        let pin = resolve(&refs(), "main").expect("branch");
        assert_eq!(
            (pin.sha.as_str(), pin.comment.as_str(), pin.branch),
            ("c", "main", true)
        );
        assert_eq!(resolve(&refs(), "nope"), None);
    }
}
