//! `cicd release` promotes to every root environment (every environment without `after:`),
//! each through promote's flow, every image verified for every environment before any is
//! applied: the record lists each environment, and one environment's refusal tags nothing in
//! any. Into an OCI layout, offline. See: issue 14.

use super::{git, layout_tags, project, release};

/// Appends `extra` to the committed cicd.yaml and moves `tag` to a new commit.
fn configure(dir: &std::path::Path, extra: &str, tag: &str) {
    let mut yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("yaml");
    yaml.push_str(extra);
    std::fs::write(dir.join("cicd.yaml"), yaml).expect("yaml");
    git(dir, &["commit", "-q", "-am", "chore: environments"]);
    git(dir, &["tag", "-f", "-a", tag, "-m", tag]);
}

const SIGNED: &str = "{ signature: { key: cosign.pub, insecure-ignore-tlog: true } }";

#[test]
fn a_release_promotes_every_root_environment_and_lists_each() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], true, "v1.0.0");
    configure(
        dir,
        &format!(
            "environments:\n  qa:\n    require: {SIGNED}\n  staging:\n    require: {SIGNED}\n  production:\n    after: staging\n    require: {SIGNED}\n"
        ),
        "v1.0.0",
    );
    let plan = release(dir, &[], &["--to", "oci:./out", "--offline", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("promote to: qa, staging"),
        "{}",
        plan.stdout
    );

    let run = release(dir, &[], &["--to", "oci:./out", "--offline", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let v = run.json();
    let p = &v["promotion"];
    assert_eq!(p["result"], "promoted", "{p:#}");
    assert_eq!(p["environment"], "qa, staging", "{p:#}");
    let envs: Vec<(String, String)> = p["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| (e["environment"].to_string(), e["result"].to_string()))
        .collect();
    assert_eq!(
        envs,
        [
            ("\"qa\"".into(), "\"promoted\"".into()),
            ("\"staging\"".into(), "\"promoted\"".into())
        ],
        "{p:#}"
    );
    for (i, image) in ["bb", "motd"].iter().enumerate() {
        let digest = v["images"][i]["digest"].as_str().expect("digest");
        for e in p["environments"].as_array().expect("environments") {
            let o = &e["images"][i];
            assert_eq!(o["digest"], digest, "{e:#}");
            assert_eq!(o["evidence"][0]["verified"], true, "{e:#}");
            assert!(o["history_tag"].is_string(), "{e:#}");
        }
        let tags = layout_tags(&dir.join("out").join(image));
        let at = |t: &str| tags.iter().find(|(n, _)| n == t).map(|(_, d)| d.clone());
        assert_eq!(at("qa").as_deref(), Some(digest), "{image}: {tags:?}");
        assert_eq!(at("staging").as_deref(), Some(digest), "{image}: {tags:?}");
        assert_eq!(at("production"), None, "{image}: {tags:?}");
        for env in ["qa", "staging"] {
            assert!(
                tags.iter()
                    .any(|(n, d)| n == &format!("{env}-20260131T120000Z") && d == digest),
                "{image}: no {env} history entry: {tags:?}"
            );
        }
        assert!(
            run.stderr
                .contains(&format!("promoted {image} {digest} to qa, staging")),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.output.contains("promotion-result=promoted"),
        "{}",
        run.output
    );
    // Several root environments: a JSON array a workflow can parse, no joined `environment`.
    assert!(
        run.output.contains(r#"environments=["qa","staging"]"#),
        "{}",
        run.output
    );
    assert!(!run.output.contains("environment="), "{}", run.output);
}

#[test]
fn one_root_environment_refusing_tags_nothing_in_any() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    // Unsigned: `qa` asks for nothing, `staging` for a signature.
    project(dir, [None, None], false, "v1.0.0");
    let key = crate::harness::cicd()
        .env("CICD_KEY_PASSWORD", super::PASSWORD)
        .args([
            "keygen",
            "--prefix",
            dir.join("cosign").to_str().expect("utf8"),
        ])
        .output()
        .expect("keygen");
    assert!(key.status.success());
    configure(
        dir,
        &format!("environments:\n  qa: {{}}\n  staging:\n    require: {SIGNED}\n"),
        "v1.0.0",
    );
    let run = release(dir, &[], &["--to", "oci:./out", "--offline", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = run.json();
    let p = &v["promotion"];
    assert_eq!(p["result"], "refused", "{p:#}");
    let results: Vec<&str> = p["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| e["result"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(results, ["verified", "refused"], "{p:#}");
    let refused = p["images"][0]["refused"].to_string();
    assert!(refused.contains("staging: signature"), "{refused}");
    for image in ["bb", "motd"] {
        let tags = layout_tags(&dir.join("out").join(image));
        assert!(
            tags.iter()
                .all(|(t, _)| !t.starts_with("qa") && !t.starts_with("staging")),
            "{image}: a refused release promoted: {tags:?}"
        );
    }
    assert!(
        run.output.contains("promotion-result=refused"),
        "{}",
        run.output
    );
    assert!(!run.output.contains("environment="), "{}", run.output);
    assert!(!run.output.contains("environments="), "{}", run.output);
}
