//! Tests of the tag scheme: the cases issue 14 item 4 names, then properties over random
//! registries and release sequences.

use super::*;
use proptest::prelude::*;

fn v(s: &str) -> Version {
    Version::parse(s).expect("version")
}

fn scheme() -> TagsConfig {
    TagsConfig::default()
}

fn set(version: &str, existing: &[&str], scheme: &TagsConfig) -> Vec<String> {
    let ctx = Context {
        sha: Some("0123456789abcdef0123456789abcdef01234567"),
        branch: Some("feature/Login_2"),
    };
    plan(&v(version), existing, scheme, &ctx)
        .to_set()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[test]
fn stable_release_into_an_empty_repository_gets_all_four() {
    assert_eq!(
        set("1.2.3", &[], &scheme()),
        ["1.2.3", "1.2", "1", "latest"]
    );
}

#[test]
fn backport_moves_its_line_never_latest() {
    let existing = ["1.4.2", "1.4", "1", "2.0.0", "2.0", "2", "latest"];
    assert_eq!(set("1.4.3", &existing, &scheme()), ["1.4.3", "1.4", "1"]);
    // A patch on an older minor moves only that minor.
    let existing = ["1.4.2", "1.5.0", "2.0.0"];
    assert_eq!(set("1.4.3", &existing, &scheme()), ["1.4.3", "1.4"]);
    let plan = plan(&v("1.4.3"), &existing, &scheme(), &Context::default());
    let latest = plan
        .decisions
        .iter()
        .find(|d| d.tag == "latest")
        .expect("latest considered");
    assert!(!latest.set);
    assert_eq!(
        latest.reason,
        "2.0.0 is already released in all releases: stays"
    );
    let major = &plan.decisions[2];
    assert_eq!(major.reason, "1.5.0 is already released in 1: stays");
    let minor = &plan.decisions[1];
    assert_eq!(
        minor.reason,
        "1.4.3 is the highest stable in 1.4 (was 1.4.2)"
    );
}

#[test]
fn prerelease_gets_only_its_exact_tag() {
    assert_eq!(set("1.3.0-rc.1", &["1.2.0"], &scheme()), ["1.3.0-rc.1"]);
    assert_eq!(set("2.0.0-alpha.1", &[], &scheme()), ["2.0.0-alpha.1"]);
    let p = plan(
        &v("1.3.0-rc.1"),
        &["latest"],
        &scheme(),
        &Context::default(),
    );
    assert!(p.decisions[1..].iter().all(|d| !d.set));
    assert!(p.decisions[3].exists);
    assert!(p.decisions[3].reason.contains("prerelease"));
}

#[test]
fn prereleases_in_the_registry_do_not_hold_stable_back() {
    assert_eq!(
        set("1.5.0", &["1.4.0", "2.0.0-rc.1"], &scheme()),
        ["1.5.0", "1.5", "1", "latest"]
    );
    // The stable after its release candidates takes everything.
    assert_eq!(
        set("1.3.0", &["1.2.0", "1.3.0-rc.1", "1.3.0-rc.2"], &scheme()),
        ["1.3.0", "1.3", "1", "latest"]
    );
}

#[test]
fn zero_major_is_opt_in() {
    assert_eq!(set("0.3.1", &[], &scheme()), ["0.3.1", "0.3", "latest"]);
    let zero = TagsConfig {
        zero_major: true,
        ..scheme()
    };
    assert_eq!(set("0.3.1", &[], &zero), ["0.3.1", "0.3", "0", "latest"]);
    let p = plan(&v("0.3.1"), &[] as &[&str], &scheme(), &Context::default());
    assert!(p.decisions[2].reason.contains("zero-major"));
}

#[test]
fn rerun_of_the_same_release_sets_the_same_tags() {
    let existing = ["1.2.3", "1.2", "1", "latest"];
    assert_eq!(set("1.2.3", &existing, &scheme()), existing);
    let p = plan(&v("1.2.3"), &existing, &scheme(), &Context::default());
    assert!(p.decisions.iter().all(|d| d.exists));
    assert!(p.decisions[0].reason.contains("re-run"));
    assert!(p.decisions[3].reason.contains("still the highest"));
}

#[test]
fn switches_turn_off_floating_and_latest() {
    let no_latest = TagsConfig {
        latest: false,
        ..scheme()
    };
    assert_eq!(set("1.2.3", &[], &no_latest), ["1.2.3", "1.2", "1"]);
    let no_floating = TagsConfig {
        floating: false,
        ..scheme()
    };
    assert_eq!(set("1.2.3", &[], &no_floating), ["1.2.3", "latest"]);
}

#[test]
fn existing_tags_with_v_and_build_metadata_count() {
    assert_eq!(set("1.2.3", &["v1.3.0"], &scheme()), ["1.2.3", "1.2"]);
    assert_eq!(set("1.2.3+b.1", &[], &scheme())[0], "1.2.3_b.1");
    // Build metadata has no precedence: 1.2.3_b.1 present does not hold 1.2.3 back.
    assert_eq!(set("1.2.3", &["1.2.3_b.9"], &scheme()).len(), 4);
    // Non-version tags are ignored.
    assert_eq!(
        set("1.0.0", &["main", "sha-abc", "1.x"], &scheme()).len(),
        4
    );
}

#[test]
fn extra_templates_render_and_are_made_tag_safe() {
    let extra = TagsConfig {
        extra: vec![
            "sha-{short}".into(),
            "{branch}".into(),
            "{version}-alpine".into(),
            "{major}".into(),
            "v{major}.{minor}".into(),
            "sha-{short}".into(),
        ],
        ..scheme()
    };
    let ctx = Context {
        sha: Some("0123456789abcdef"),
        branch: Some("feature/Login_2"),
    };
    let p = plan(&v("1.2.3-rc.1"), &["sha-0123456"], &extra, &ctx);
    let got: Vec<(&str, bool)> = p.decisions[4..]
        .iter()
        .map(|d| (d.tag.as_str(), d.set))
        .collect();
    assert_eq!(
        got,
        [
            ("sha-0123456", true),
            ("feature-Login_2", true),
            ("1.2.3-rc.1-alpine", true),
            ("1", false),
            ("v1.2", false),
            ("sha-0123456", false),
        ]
    );
    assert!(p.decisions[4].exists);
    assert!(p.decisions[7].reason.contains("version scheme"));
    assert!(p.decisions[9].reason.contains("repeats"));
    // Without a branch or SHA, templates that need them are skipped with the reason.
    let p = plan(&v("1.2.3"), &[] as &[&str], &extra, &Context::default());
    assert!(!p.decisions[4].set && p.decisions[4].reason.contains("SHA"));
    assert!(!p.decisions[5].set && p.decisions[5].reason.contains("branch"));
}

#[test]
fn tag_safe_strips_and_bounds() {
    assert_eq!(tag_safe("--.feat/x y"), "feat-x-y");
    assert_eq!(tag_safe(&"a".repeat(300)).len(), 128);
    assert_eq!(tag_safe("/::\n"), "");
    assert_eq!(tag_safe("ünï"), "-n-".trim_start_matches('-'));
}

fn version_strategy() -> impl Strategy<Value = Version> {
    (0u64..3, 0u64..3, 0u64..3, prop::option::of(1u64..3)).prop_map(|(a, b, c, rc)| {
        let mut v = Version::new(a, b, c);
        if let Some(n) = rc {
            v.pre = semver::Prerelease::new(&format!("rc.{n}")).expect("pre");
        }
        v
    })
}

proptest! {
    /// `latest` never moves to a prerelease or below a stable version already released.
    #[test]
    fn latest_only_moves_up_to_stable(
        existing in prop::collection::vec(version_strategy(), 0..8),
        version in version_strategy(),
        zero_major in any::<bool>(),
    ) {
        let tags: Vec<String> = existing.iter().map(exact_tag).collect();
        let scheme = TagsConfig { zero_major, ..TagsConfig::default() };
        let p = plan(&version, &tags, &scheme, &Context::default());
        let latest = p.decisions.iter().find(|d| d.tag == "latest").expect("latest");
        if latest.set {
            prop_assert!(version.pre.is_empty());
            for e in existing.iter().filter(|e| e.pre.is_empty()) {
                prop_assert!(e.cmp_precedence(&version).is_le(), "{e} > {version}");
            }
        }
        // The exact tag is always set; a prerelease sets nothing else.
        prop_assert!(p.decisions[0].set);
        if !version.pre.is_empty() {
            prop_assert_eq!(p.to_set().len(), 1);
        }
        if version.major == 0 && !zero_major {
            prop_assert!(!p.to_set().contains(&"0"));
        }
    }

    /// Releasing in any order, each floating tag ends on the highest stable of its line.
    #[test]
    fn floating_tags_track_the_highest_stable(
        releases in prop::collection::vec(version_strategy(), 1..10),
    ) {
        use std::collections::BTreeMap;
        let scheme = TagsConfig { zero_major: true, ..TagsConfig::default() };
        let mut registry: BTreeMap<String, Version> = BTreeMap::new();
        for r in &releases {
            let tags: Vec<String> = registry.keys().cloned().collect();
            for t in plan(r, &tags, &scheme, &Context::default()).to_set() {
                registry.insert(t.to_owned(), r.clone());
            }
        }
        let stable: Vec<&Version> = releases.iter().filter(|r| r.pre.is_empty()).collect();
        let best = |f: &dyn Fn(&Version) -> bool| {
            stable.iter().copied().filter(|v| f(v)).max_by(|a, b| a.cmp_precedence(b)).cloned()
        };
        prop_assert_eq!(registry.get("latest").cloned(), best(&|_| true));
        for s in &stable {
            let major = s.major.to_string();
            prop_assert_eq!(
                registry.get(&major).map(|v| (v.major, v.minor, v.patch)),
                best(&|v| v.major == s.major).map(|v| (v.major, v.minor, v.patch))
            );
            let minor = format!("{}.{}", s.major, s.minor);
            prop_assert_eq!(
                registry.get(&minor).map(|v| (v.major, v.minor, v.patch)),
                best(&|v| v.major == s.major && v.minor == s.minor)
                    .map(|v| (v.major, v.minor, v.patch))
            );
        }
    }
}
