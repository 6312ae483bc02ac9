//! GitHub Deployments through the OpenAPI-validated REST stand-in: a promotion creates a
//! deployment with the payload and `in_progress` → `success` statuses; a refused promotion
//! creates none; a rollback is a new deployment naming what it rolled back from; a deployment
//! GitHub made for this run's job is reused.

use super::*;
use crate::harness::github_rest::GithubRest;
use crate::harness::proxy::roundtrip;
use crate::harness::registry::plain;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn with_github(w: &World, gh: &GithubRest, args: &[&str], now: &str) -> Output {
    cicd()
        .current_dir(w.tmp.path())
        .env("CICD_NOW", now)
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_TOKEN", "ghs_token-never-print-me")
        .env("GITHUB_REPOSITORY", "acme/api")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_API_URL", &gh.api_url)
        .args(args)
        .output()
        .expect("run")
}

#[test]
fn promotions_and_rollbacks_are_recorded_as_deployments() {
    let reg = plain();
    let gh = GithubRest::start();
    let w = World::new(&reg.addr, "deploy");
    w.config("");
    let src = w.repo("src");
    let one = w.push(&src, "v1.0.0", 2401);
    let two = w.push(&src, "v2.0.0", 2402);
    w.sign(&format!("docker://{src}:v1.0.0"), &w.key);
    w.sign(&format!("docker://{src}:v2.0.0"), &w.key);
    let unsigned = w.push(&src, "unsigned", 2403);

    for (i, d) in [&one, &two].iter().enumerate() {
        let out = with_github(
            &w,
            &gh,
            &["promote", &format!("{src}@{d}"), "--to", "staging"],
            &format!("2026-01-31T12:00:0{i}Z"),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for stream in [&out.stdout, &out.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains("never-print-me"));
        }
    }
    let writes_before = gh.writes().len();
    let out = with_github(
        &w,
        &gh,
        &["promote", &format!("{src}@{unsigned}"), "--to", "staging"],
        NOW,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        gh.writes().len(),
        writes_before,
        "a refused promotion creates no deployment"
    );

    let out = with_github(
        &w,
        &gh,
        &["promote", "--rollback", "staging"],
        "2026-01-31T12:05:00Z",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let state = gh.state();
    let deployments: Vec<&Value> = state.deployments.values().collect();
    assert_eq!(deployments.len(), 3);
    let first = deployments[0];
    assert_eq!(first["environment"], "staging");
    assert_eq!(first["ref"], SHA);
    assert_eq!(first["production_environment"], false);
    assert_eq!(first["payload"]["digest"], one.as_str());
    assert_eq!(first["payload"]["image"], w.repo("staging").as_str());
    assert_eq!(deployments[1]["payload"]["previous_digest"], one.as_str());
    let rollback = deployments[2];
    assert_eq!(rollback["payload"]["kind"], "rollback");
    assert_eq!(rollback["payload"]["digest"], one.as_str());
    assert_eq!(rollback["payload"]["previous_digest"], two.as_str());
    assert!(
        rollback["payload"]["rolled_back_from"]
            .as_str()
            .is_some_and(|t| t.starts_with("staging-"))
    );
    for (id, _) in state.deployments.iter() {
        let statuses: Vec<&str> = state.statuses[id]
            .iter()
            .filter_map(|s| s["state"].as_str())
            .collect();
        assert_eq!(statuses, ["in_progress", "success"]);
        let last = state.statuses[id].last().expect("status");
        assert_eq!(last["environment_url"], "https://staging.example.com");
        assert_eq!(
            last["log_url"],
            "https://github.example/acme/api/actions/runs/4242"
        );
    }
    drop(state);
    gh.assert_openapi_valid();
}

#[test]
fn the_jobs_own_deployment_is_reused() {
    let reg = plain();
    let gh = GithubRest::start();
    let w = World::new(&reg.addr, "reuse");
    w.config("");
    let src = w.repo("src");
    let d = w.push(&src, "v1.0.0", 2501);
    w.sign(&format!("docker://{src}:v1.0.0"), &w.key);
    // What GitHub makes for a job with `environment: staging`.
    let addr = gh.api_url.trim_start_matches("http://");
    let body = serde_json::json!({"ref": SHA, "environment": "staging", "auto_merge": false, "required_contexts": []}).to_string();
    let (status, _, created) = roundtrip(
        addr,
        "POST",
        "/repos/acme/api/deployments",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .expect("POST");
    assert_eq!(status, 201);
    let id = serde_json::from_slice::<Value>(&created).expect("json")["id"]
        .as_u64()
        .expect("id");
    let body = serde_json::json!({"state": "queued", "log_url": "https://github.example/acme/api/actions/runs/4242/job/1"}).to_string();
    let (status, _, _) = roundtrip(
        addr,
        "POST",
        &format!("/repos/acme/api/deployments/{id}/statuses"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .expect("POST status");
    assert_eq!(status, 201);

    let out = with_github(
        &w,
        &gh,
        &["promote", &format!("{src}@{d}"), "--to", "staging"],
        NOW,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = gh.state();
    assert_eq!(state.deployments.len(), 1, "no second deployment");
    let statuses: Vec<&str> = state.statuses[&id]
        .iter()
        .filter_map(|s| s["state"].as_str())
        .collect();
    assert_eq!(statuses, ["queued", "in_progress", "success"]);
}
