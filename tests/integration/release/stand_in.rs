//! The GitHub REST stand-in itself (harness/github_rest.rs): its stateful answers follow
//! GitHub's rules (one release per tag, one asset per name, uploads on their own host), and
//! every exchange it records passes the OpenAPI validator, injected failures included.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{Value, json};

use crate::harness::github_rest::GithubRest;

/// One HTTP/1.1 request over a fresh connection; returns (status, JSON body or null).
pub fn call(
    origin: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Value) {
    let addr = origin.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/vnd.github+json\r\nX-GitHub-Api-Version: 2022-11-28\r\nAuthorization: Bearer t\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).expect("write");
    conn.write_all(body).expect("write");
    let mut text = Vec::new();
    conn.read_to_end(&mut text).expect("read");
    let text = String::from_utf8_lossy(&text).into_owned();
    let status: u16 = text[9..12].parse().expect("status");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn json_call(origin: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    call(origin, method, path, "application/json", &bytes)
}

#[test]
fn releases_and_assets_follow_githubs_rules_and_every_exchange_is_valid() {
    let gh = GithubRest::start();
    let api = gh.api_url.clone();
    let (status, _) = json_call(&api, "GET", "/repos/o/r/releases/tags/v1.0.0", Value::Null);
    assert_eq!(status, 404);
    let (status, release) = json_call(
        &api,
        "POST",
        "/repos/o/r/releases",
        json!({"tag_name": "v1.0.0", "name": "v1.0.0", "body": "notes", "prerelease": false, "make_latest": "true"}),
    );
    assert_eq!(status, 201);
    let upload = release["upload_url"]
        .as_str()
        .expect("upload_url")
        .to_owned();
    assert!(upload.starts_with(&gh.upload_url), "{upload}");
    let (again, _) = json_call(
        &api,
        "POST",
        "/repos/o/r/releases",
        json!({"tag_name": "v1.0.0"}),
    );
    assert_eq!(again, 422, "a second release for one tag is refused");

    let path = upload
        .trim_start_matches(&gh.upload_url)
        .trim_end_matches("{?name,label}")
        .to_owned();
    let (status, asset) = call(
        &gh.upload_url,
        "POST",
        &format!("{path}?name=SHA256SUMS"),
        "application/octet-stream",
        b"abc",
    );
    assert_eq!(status, 201);
    assert_eq!(
        asset["digest"],
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let dup = call(
        &gh.upload_url,
        "POST",
        &format!("{path}?name=SHA256SUMS"),
        "application/octet-stream",
        b"x",
    );
    assert_eq!(dup.0, 422, "one asset per name");

    let (status, got) = json_call(&api, "GET", "/repos/o/r/releases/tags/v1.0.0", Value::Null);
    assert_eq!(
        (status, got["assets"][0]["name"].clone()),
        (200, json!("SHA256SUMS"))
    );
    let id = release["id"].as_u64().expect("id");
    let (status, patched) = json_call(
        &api,
        "PATCH",
        &format!("/repos/o/r/releases/{id}"),
        json!({"body": "new notes"}),
    );
    assert_eq!((status, patched["body"].clone()), (200, json!("new notes")));
    let asset_id = asset["id"].as_u64().expect("id");
    let (status, _) = json_call(
        &api,
        "DELETE",
        &format!("/repos/o/r/releases/assets/{asset_id}"),
        Value::Null,
    );
    assert_eq!(status, 204);
    let (_, list) = json_call(
        &api,
        "GET",
        &format!("/repos/o/r/releases/{id}/assets"),
        Value::Null,
    );
    assert_eq!(list, json!([]));

    gh.fail("PATCH", "/repos/{owner}/{repo}/releases/{id}", 502, 1);
    let (status, _) = json_call(
        &api,
        "PATCH",
        &format!("/repos/o/r/releases/{id}"),
        json!({"name": "x"}),
    );
    assert_eq!(status, 502);
    let (status, _) = json_call(
        &api,
        "PATCH",
        &format!("/repos/o/r/releases/{id}"),
        json!({"name": "x"}),
    );
    assert_eq!(
        status, 200,
        "an injected failure answers only as often as asked"
    );

    assert_eq!(gh.releases().len(), 1);
    assert_eq!(gh.releases()[0]["x-make_latest"], "true");
    assert_eq!(gh.writes().len(), 8);
    gh.assert_openapi_valid();
}

#[test]
fn deployments_keep_their_statuses_and_routes_can_be_replaced() {
    let gh = GithubRest::start();
    let api = gh.api_url.clone();
    let (status, d) = json_call(
        &api,
        "POST",
        "/repos/o/r/deployments",
        json!({"ref": "v1.0.0", "environment": "staging", "auto_merge": false, "required_contexts": []}),
    );
    assert_eq!((status, d["environment"].clone()), (201, json!("staging")));
    let id = d["id"].as_u64().expect("id");
    let statuses = format!("/repos/o/r/deployments/{id}/statuses");
    let (status, s) = json_call(
        &api,
        "POST",
        &statuses,
        json!({"state": "success", "environment_url": "https://example.com"}),
    );
    assert_eq!((status, s["state"].clone()), (201, json!("success")));
    let (_, list) = json_call(&api, "GET", &statuses, Value::Null);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (_, deployments) = json_call(&api, "GET", "/repos/o/r/deployments", Value::Null);
    assert_eq!(deployments[0]["id"], id);

    gh.route("GET", "/repos/{owner}/{repo}/deployments", |c| {
        (c.params["owner"] == "o").then(|| (200, json!([])))
    });
    let (_, empty) = json_call(&api, "GET", "/repos/o/r/deployments", Value::Null);
    assert_eq!(empty, json!([]));
    assert_eq!(gh.state().statuses[&id].len(), 1);
    gh.assert_openapi_valid();
}
