//! `cicd release` ends by promoting to the first environment (issue 14): on the real registry,
//! with the evidence the release just attached (signature, SBOM per platform, the gate's
//! vuln attestation with the report's own scan time) and GitHub deployments recorded on the
//! REST stand-in; an unsigned release is refused by an environment demanding a signature
//! (exit 1, the record says so, nothing tagged in the environment).

use std::path::Path;

use serde_json::json;

use super::{TOKEN, git, project, release};
use crate::build::skopeo;
use crate::harness::cicd;
use crate::harness::github_rest::GithubRest;
use crate::harness::registry::plain;

const ENVIRONMENTS: &str = "policy:\n  trivy:\n    fail-on: [CRITICAL, HIGH]\nenvironments:\n  staging:\n    url: https://staging.example.com\n    require:\n      signature: { key: cosign.pub, insecure-ignore-tlog: true }\n      sbom: true\n      scan: { max-age: 1d }\n  production:\n    after: staging\n    require:\n      signature: { key: cosign.pub, insecure-ignore-tlog: true }\n";

/// Appends `extra` to the committed cicd.yaml and moves `tag` to the amended commit.
pub fn configure(dir: &Path, extra: &str, tag: &str) {
    let path = dir.join("cicd.yaml");
    let mut yaml = std::fs::read_to_string(&path).expect("cicd.yaml");
    yaml.push_str(extra);
    std::fs::write(&path, yaml).expect("cicd.yaml");
    git(dir, &["add", "cicd.yaml"]);
    git(dir, &["commit", "-q", "--amend", "--no-edit"]);
    git(dir, &["tag", "-f", "-a", tag, "-m", tag]);
}

/// A Trivy image report (one LOW finding) written at `created`, version 0.76.0.
pub fn passing_report(path: &Path, created: &str) {
    let report = json!({
        "SchemaVersion": 2,
        "Trivy": {"Version": "0.76.0"},
        "CreatedAt": created,
        "ArtifactName": "bb",
        "ArtifactType": "container_image",
        "Results": [{
            "Target": "bb (alpine 3.20)",
            "Class": "os-pkgs",
            "Type": "alpine",
            "Vulnerabilities": [{
                "VulnerabilityID": "CVE-2024-0001",
                "PkgName": "busybox",
                "InstalledVersion": "1.36.1-r1",
                "Severity": "LOW",
                "Title": "low"
            }]
        }]
    });
    std::fs::write(path, serde_json::to_vec_pretty(&report).expect("json")).expect("report");
}

fn gh_env(gh: &GithubRest) -> Vec<(&str, &str)> {
    vec![
        ("GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_API_URL", gh.api_url.as_str()),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "77"),
    ]
}

/// The digest `repo:tag` names, or `None` when the tag does not exist.
fn tag_digest(repo: &str, tag: &str) -> Option<String> {
    let bin = crate::harness::require_tool("skopeo", "apt-get install skopeo");
    let out = std::process::Command::new(bin)
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{repo}:{tag}"),
        ])
        .output()
        .expect("skopeo");
    out.status
        .success()
        .then(|| cicd::oci::digest::sha256(&out.stdout))
}

#[test]
fn a_release_promotes_each_image_to_the_first_environment_with_the_evidence_it_made() {
    // See: issue 14 (release ends by promoting to the first environment).
    let reg = plain();
    let gh = GithubRest::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let repos = [
        format!("{}/rel-promote/bb", reg.addr),
        format!("{}/rel-promote/motd", reg.addr),
    ];
    project(dir, [Some(&repos[0]), Some(&repos[1])], true, "v1.0.0");
    configure(dir, ENVIRONMENTS, "v1.0.0");
    let scans = tempfile::tempdir().expect("tmp");
    let report = scans.path().join("trivy.json");
    passing_report(&report, "2026-01-31T11:00:00Z");
    let env = gh_env(&gh);

    let plan = release(dir, &env, &["--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("promote to: staging"),
        "{}",
        plan.stdout
    );

    let run = release(
        dir,
        &env,
        &["--json", "--scan-report", report.to_str().expect("utf8")],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let v = run.json();
    let p = &v["promotion"];
    assert_eq!(
        (p["environment"].as_str(), p["result"].as_str()),
        (Some("staging"), Some("promoted")),
        "{p:#}"
    );
    for (i, repo) in repos.iter().enumerate() {
        let digest = v["images"][i]["digest"].as_str().expect("digest");
        let o = &p["images"][i];
        assert_eq!(o["digest"], digest);
        let evidence: Vec<String> = o["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .map(|c| format!("{} {}", c["evidence"].as_str().unwrap_or(""), c["verified"]))
            .collect();
        assert_eq!(
            evidence,
            [
                "signature true",
                "sbom linux/amd64 true",
                "sbom linux/arm64 true",
                "scan true"
            ],
            "{o:#}"
        );
        assert_eq!(tag_digest(repo, "staging").as_deref(), Some(digest));
        assert_eq!(tag_digest(repo, "production"), None, "only the first one");
        assert!(
            o["history_tag"]
                .as_str()
                .is_some_and(|t| t.starts_with("staging-"))
        );
    }
    // The release was made first, then one deployment per image, each ending in success.
    let order: Vec<String> = gh
        .writes()
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    let created = order
        .iter()
        .position(|w| w == "POST /repos/octo/app/releases");
    let deployed = order
        .iter()
        .position(|w| w == "POST /repos/octo/app/deployments");
    assert!(created < deployed && deployed.is_some(), "{order:#?}");
    let state = gh.state();
    assert_eq!(state.deployments.len(), 2);
    for (id, d) in &state.deployments {
        assert_eq!(d["environment"], "staging");
        let last = state.statuses[id].last().expect("status");
        assert_eq!(last["state"], "success");
        assert_eq!(last["environment_url"], "https://staging.example.com");
    }
    drop(state);
    let digest0 = v["images"][0]["digest"].as_str().expect("digest");
    assert!(
        run.output.contains("promotion-result=promoted"),
        "{}",
        run.output
    );
    assert!(run.output.contains("environment=staging"), "{}", run.output);
    assert!(
        run.output.contains(r#"environments=["staging"]"#),
        "{}",
        run.output
    );
    assert!(run.output.contains(digest0), "{}", run.output);
    assert!(
        run.summary.contains("Promotion to `staging`: **promoted**"),
        "{}",
        run.summary
    );
    gh.assert_openapi_valid();

    // A re-run verifies again and moves nothing: no second history entry or deployment.
    let history = |repo: &str| {
        skopeo(&[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{repo}"),
        ])
        .matches("\"staging-")
        .count()
    };
    let before = history(&repos[0]);
    assert!(before >= 1, "no staging history entry");
    let again = release(
        dir,
        &env,
        &["--json", "--scan-report", report.to_str().expect("utf8")],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    let p = &again.json()["promotion"];
    assert_eq!(p["result"], "promoted");
    assert_eq!(p["unchanged"].as_array().map(Vec::len), Some(2), "{p:#}");
    assert_eq!(history(&repos[0]), before);
    assert_eq!(gh.state().deployments.len(), 2);
    assert!(
        again.stderr.contains("already at staging"),
        "{}",
        again.stderr
    );

    // The vuln attestation carries the report's scanner version and scan time (item 4).
    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}", repos[0]),
    ]);
    assert!(tags.contains(&digest0.replace(':', "-")), "{tags}");
    let verify = cicd()
        .current_dir(dir)
        .args([
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--type",
            "vuln",
            "--insecure-ignore-tlog",
            "--json",
            &format!("docker://{}@{digest0}", repos[0]),
        ])
        .output()
        .expect("verify-attestation");
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(text.contains("2026-01-31T11:00:00Z"), "{text}");
    assert!(text.contains("0.76.0"), "{text}");
}

#[test]
fn an_unsigned_release_is_refused_by_an_environment_that_requires_a_signature() {
    // See: issue 14 (promotion refused: exit 1, the record says so, nothing tagged).
    let reg = plain();
    let gh = GithubRest::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let repos = [
        format!("{}/rel-refused/bb", reg.addr),
        format!("{}/rel-refused/motd", reg.addr),
    ];
    project(dir, [Some(&repos[0]), Some(&repos[1])], false, "v1.0.0");
    let key = cicd()
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
        "environments:\n  staging:\n    require:\n      signature: { key: cosign.pub, insecure-ignore-tlog: true }\n",
        "v1.0.0",
    );
    let run = release(dir, &gh_env(&gh), &["--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["promotion"]["result"], "refused", "{:#}", v["promotion"]);
    assert_eq!(v["signed"], false);
    let refused = v["promotion"]["images"][0]["refused"].to_string();
    assert!(refused.contains("signature"), "{refused}");
    for repo in &repos {
        assert_eq!(
            tag_digest(repo, "staging"),
            None,
            "a refused promotion tagged {repo}"
        );
        assert!(
            tag_digest(repo, "1.0.0").is_some(),
            "the release itself was made"
        );
    }
    assert!(run.stderr.contains("staging refused"), "{}", run.stderr);
    assert!(
        run.output.contains("promotion-result=refused"),
        "{}",
        run.output
    );
    assert!(!run.output.contains("environment="), "{}", run.output);
    assert!(!run.output.contains("promoted-digest"), "{}", run.output);
    assert!(run.summary.contains("**refused**"), "{}", run.summary);
    assert!(
        gh.state().deployments.is_empty(),
        "a refused promotion deployed"
    );
    assert_eq!(gh.releases().len(), 1);
    gh.assert_openapi_valid();
}
