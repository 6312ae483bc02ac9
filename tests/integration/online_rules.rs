//! The online rules against a real Git server and a REST stand-in shaped by GitHub's OpenAPI
//! description: `pin-comment-mismatch` and `impostor-commit`, with and without a token.

use crate::harness::git_server::GitServer;
use crate::harness::github_api::{StubApi, openapi_path};
use crate::harness::{cicd, repo_root, require_tool, run_tool};

struct World {
    server: GitServer,
    text: String,
    names: Vec<(String, &'static str)>,
}

fn world() -> World {
    let server = GitServer::start();
    let mut c = Vec::new();
    server.repo("octo", "tool", |r| {
        c.push(r.commit("one", "1767225600 +0000"));
        r.tag("v1.0.0");
        c.push(r.commit("two", "1767312000 +0000"));
        c.push(r.commit("three", "1767398400 +0000"));
        r.annotated_tag("v1.1.0");
        c.push(r.commit("four", "1767484800 +0000"));
        // A commit only a fork's pull request reaches: on no branch or tag.
        c.push(r.commit("fork", "1767571200 +0000"));
        r.update_ref("refs/pull/1/head", &c[4]);
        r.reset_hard(&c[3]);
    });
    let text = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: octo/tool@{one} # v1.0.0\n      - uses: octo/tool@{one} # v1.1.0\n      - uses: octo/tool@{three} # v9.9.9\n      - uses: octo/tool@{two}\n      - uses: octo/tool@{fork} # v1.1.0\n      - uses: octo/tool@{four} # main\n      - uses: octo/tool@{one} # tag=v1.1.0\n",
        one = c[0],
        two = c[1],
        three = c[2],
        fork = c[4],
        four = c[3],
    );
    let names = vec![
        (c[0].clone(), "<one>"),
        (c[1].clone(), "<two>"),
        (c[2].clone(), "<three>"),
        (c[3].clone(), "<four>"),
        (c[4].clone(), "<fork>"),
    ];
    World {
        server,
        text,
        names,
    }
}

fn run(world: &World, api: &str, token: Option<&str>) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ci.yml"), &world.text).expect("write");
    let mut cmd = cicd();
    cmd.current_dir(dir.path())
        .env("GITHUB_SERVER_URL", &world.server.url)
        .env("GITHUB_API_URL", api)
        .args(["check", "--format", "json", "ci.yml"]);
    if let Some(t) = token {
        cmd.env("GITHUB_TOKEN", t);
    }
    let out = cmd.output().expect("run");
    let mut stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    for (sha, name) in &world.names {
        stdout = stdout.replace(sha.as_str(), name);
    }
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), json, all)
}

fn summary(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        // The online rules only (the fixture's workflow also lacks `permissions:`).
        .filter(|f| f["rule"] != "unpinned-action" && f["rule"] != "excessive-permissions")
        .map(|f| {
            format!(
                "{}:{} {} {}",
                f["line"],
                f["rule"].as_str().unwrap_or_default(),
                f["severity"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn without_a_token_git_answers_what_it_can() {
    let world = world();
    let (code, json, _) = run(&world, crate::harness::NOWHERE, None);
    assert_eq!(code, 1);
    insta::assert_debug_snapshot!(summary(&json), @r#"
    [
        "7:pin-comment-mismatch medium the comment says `v1.1.0`, but `v1.1.0` of octo/tool is <three>, not the pinned commit",
        "8:pin-comment-mismatch medium the comment says `v9.9.9`, but octo/tool has no tag `v9.9.9`",
        "10:pin-comment-mismatch medium the comment says `v1.1.0`, but `v1.1.0` of octo/tool is <three>, not the pinned commit",
        "12:pin-comment-mismatch medium the comment says `v1.1.0`, but `v1.1.0` of octo/tool is <three>, not the pinned commit",
    ]
    "#);
    insta::assert_debug_snapshot!(json["summary"]["notes"], @r#"
    Array [
        String("impostor-commit checked only branch and tag tips: set GITHUB_TOKEN to check ancestry through the API"),
    ]
    "#);
}

#[test]
fn with_a_token_the_api_decides_reachability_and_every_request_matches_the_openapi_description() {
    let world = world();
    let api = StubApi::start(
        world
            .server
            .bare("octo", "tool")
            .parent()
            .expect("owner dir")
            .parent()
            .expect("root")
            .to_path_buf(),
    );
    let secret = "ghs_s3cr3tT0kenThatMustNeverPrint";
    let (code, json, all) = run(&world, &api.url, Some(secret));
    assert_eq!(code, 1);
    assert!(!all.contains(secret), "the token leaked: {all}");
    insta::assert_debug_snapshot!(summary(&json), @r#"
    [
        "7:pin-comment-mismatch medium the comment says `v1.1.0`, but `v1.1.0` of octo/tool is <three>, not the pinned commit",
        "8:pin-comment-mismatch medium the comment says `v9.9.9`, but octo/tool has no tag `v9.9.9`",
        "10:impostor-commit high <fork> is not on any branch or tag of octo/tool: it may come from a fork",
        "10:pin-comment-mismatch medium the comment says `v1.1.0`, but `v1.1.0` of octo/tool is <three>, not the pinned commit",
        "12:pin-comment-mismatch medium the comment says `v1.1.0`, but `v1.1.0` of octo/tool is <three>, not the pinned commit",
    ]
    "#);

    let exchanges = api.exchanges();
    assert!(!exchanges.is_empty());
    assert!(exchanges.iter().all(|e| {
        e.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {secret}"))
    }));
    let python = require_tool("python3", "install Python 3");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("exchanges.json");
    std::fs::write(&file, serde_json::to_vec(&exchanges).expect("json")).expect("write");
    let script = repo_root().join("tests/integration/openapi_check.py");
    let spec = openapi_path();
    let (ok, text) = run_tool(
        &python,
        &[script.as_os_str(), spec.as_os_str(), file.as_os_str()],
    );
    assert!(ok, "{text}");
}

#[test]
fn offline_skips_them_and_says_so_once() {
    let world = world();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ci.yml"), &world.text).expect("write");
    let out = cicd()
        .current_dir(dir.path())
        .env("GITHUB_SERVER_URL", &world.server.url)
        .args(["check", "--offline", "--color", "never", "ci.yml"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("--offline").count(), 1, "{stdout}");
    assert!(world.server.requests().is_empty());
}
