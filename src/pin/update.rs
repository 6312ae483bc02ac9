//! `cicd pin --update --min-age DAYS`: which release a SHA pin moves to — the newest version
//! tag whose commit has been public for DAYS, never backwards. The cooldown is the defence
//! against a tag that was hijacked an hour ago.

use std::collections::HashMap;

use super::resolve::{Pin, most_specific_tag, version};
use crate::github::git::refs::RefMap;

/// Release tags (no pre-release suffix) in the pin's style, newest first.
pub fn candidates(refs: &RefMap, v_style: bool) -> Vec<(Vec<u64>, &str, &str)> {
    let mut tags: Vec<(Vec<u64>, &str, &str)> = refs
        .tags
        .iter()
        .filter(|(name, _)| name.starts_with('v') == v_style)
        .filter_map(|(name, sha)| Some((version(name)?, name.as_str(), sha.as_str())))
        .collect();
    // Among equal versions (`v4` and `v4.0.0`), the longer spelling first.
    tags.sort_by(|a, b| pad(&b.0).cmp(&pad(&a.0)).then(b.0.len().cmp(&a.0.len())));
    tags
}

fn pad(v: &[u64]) -> [u64; 4] {
    let mut out = [0; 4];
    for (o, x) in out.iter_mut().zip(v) {
        *o = *x;
    }
    out
}

/// The pin `current` (with its trailing `comment`) should move to, if any.
/// `times` maps commits to committer time; `now` and the result are Unix seconds.
pub fn choose(
    refs: &RefMap,
    times: &HashMap<String, i64>,
    current: &str,
    comment: Option<&str>,
    min_age_days: u32,
    now: i64,
) -> Option<Pin> {
    let v_style = comment.is_none_or(|c| c.starts_with('v'));
    let cutoff = now - i64::from(min_age_days) * 86_400;
    let list = candidates(refs, v_style);
    // Where the pin stands now: the newest version tag on its commit, else its comment.
    let current_version = list
        .iter()
        .find(|(_, _, sha)| *sha == current)
        .map(|(v, ..)| pad(v))
        .or_else(|| comment.and_then(version).map(|v| pad(&v)));
    let (v, name, sha) = list
        .iter()
        .find(|(_, _, sha)| times.get(*sha).is_some_and(|t| *t <= cutoff))?;
    if *sha == current || current_version.is_some_and(|cur| cur >= pad(v)) {
        return None;
    }
    Some(Pin {
        sha: (*sha).to_owned(),
        comment: most_specific_tag(refs, sha, name),
        branch: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    fn world() -> (RefMap, HashMap<String, i64>) {
        let mut refs = RefMap::default();
        let mut times = HashMap::new();
        for (tag, sha, age) in [
            ("v1.0.0", "a", 100),
            ("v1", "c", 30),
            ("v1.1.0", "c", 30),
            ("v1.2.0", "d", 2),
            ("v2.0.0-rc.1", "e", 50),
        ] {
            refs.tags.insert(tag.into(), sha.into());
            times.insert(sha.to_owned(), NOW - age * DAY);
        }
        (refs, times)
    }

    #[test]
    fn moves_to_the_newest_release_past_the_cooldown() {
        let (refs, times) = world();
        let pin = choose(&refs, &times, "a", Some("v1.0.0"), 7, NOW).expect("update");
        assert_eq!((pin.sha.as_str(), pin.comment.as_str()), ("c", "v1.1.0"));
        // With no cooldown the two-day-old release wins.
        assert_eq!(
            choose(&refs, &times, "a", Some("v1.0.0"), 0, NOW)
                .expect("update")
                .sha,
            "d"
        );
    }

    #[test]
    fn never_moves_backwards_or_sideways() {
        let (refs, times) = world();
        assert_eq!(choose(&refs, &times, "c", Some("v1.1.0"), 7, NOW), None);
        // Pinned to the newest release already, younger than the cooldown: stays.
        assert_eq!(choose(&refs, &times, "d", Some("v1.2.0"), 7, NOW), None);
        // Nothing old enough at all.
        assert_eq!(choose(&refs, &times, "a", Some("v1.0.0"), 1000, NOW), None);
    }
}
