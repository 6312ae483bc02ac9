//! What is already on GitHub, read over every page (`Link: rel="next"`): a release v2.0.0
//! that exists only on GitHub keeps a later backport from being marked latest, and an existing
//! release with more than 100 assets is read whole, so a re-run uploads nothing twice.

use serde_json::json;

use super::stand_in::call;
use super::{TOKEN, project, release};
use crate::harness::github_rest::GithubRest;

fn env(gh: &GithubRest) -> Vec<(&str, &str)> {
    vec![
        ("GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_API_URL", gh.api_url.as_str()),
        ("GITHUB_SERVER_URL", "https://github.com"),
    ]
}

/// Seeds a published release for `tag`.
fn seed(gh: &GithubRest, tag: &str, prerelease: bool) -> u64 {
    gh.seed_release(
        "octo",
        "app",
        json!({"tag_name": tag, "name": tag, "body": "", "prerelease": prerelease, "draft": false}),
    )
}

/// The `GET` requests to `path` and the `page` each asked for.
fn pages(gh: &GithubRest, path: &str) -> Vec<String> {
    gh.exchanges()
        .iter()
        .filter(|e| e.method == "GET" && e.path == path)
        .map(|e| e.query.clone())
        .collect()
}

#[test]
fn a_release_on_github_only_keeps_a_backport_from_being_latest_across_pages() {
    // See: issue 14 (make_latest from GitHub's releases, not only git tags).
    let gh = GithubRest::start();
    // v2.0.0 first: listed newest first, it lands on the second page of 100.
    seed(&gh, "v2.0.0", false);
    for n in 0..100 {
        seed(&gh, &format!("v0.{n}.0"), false);
    }
    seed(&gh, "v9.0.0-rc.1", true);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    // The repository's own tags know nothing above 1.4.3.
    project(dir, [None, None], false, "v1.4.3");
    let env = env(&gh);
    let plan = release(dir, &env, &["--to", "oci:./out", "--dry-run", "--json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(plan.json()["make_latest"], false);
    assert!(gh.writes().is_empty(), "a dry run wrote");

    let run = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["make_latest"], false);
    let made = gh
        .releases()
        .into_iter()
        .find(|r| r["tag_name"] == "v1.4.3")
        .expect("release v1.4.3");
    assert_eq!(made["x-make_latest"], "false");
    let listed = pages(&gh, "/repos/octo/app/releases");
    assert!(
        listed.contains(&"per_page=100".to_owned())
            && listed.contains(&"per_page=100&page=2".to_owned()),
        "{listed:?}"
    );
    gh.assert_openapi_valid();

    // Without the release on GitHub, the same backport is the highest stable: latest.
    let alone = GithubRest::start();
    seed(&alone, "v1.0.0", false);
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path(), [None, None], false, "v1.4.3");
    let run = release(tmp.path(), &self::env(&alone), &["--to", "oci:./out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let made = alone
        .releases()
        .into_iter()
        .find(|r| r["tag_name"] == "v1.4.3")
        .expect("release v1.4.3");
    assert_eq!(made["x-make_latest"], "true");
}

#[test]
fn an_existing_release_with_more_than_100_assets_is_read_over_pages() {
    // See: issue 14 (assets paging; 100 or more used to be refused).
    let gh = GithubRest::start();
    let id = seed(&gh, "v1.0.0", false);
    let upload = gh
        .releases()
        .into_iter()
        .find(|r| r["id"] == id)
        .and_then(|r| r["upload_url"].as_str().map(str::to_owned))
        .expect("upload_url");
    let path = upload
        .trim_start_matches(&gh.upload_url)
        .trim_end_matches("{?name,label}")
        .to_owned();
    for n in 0..120 {
        let (status, _) = call(
            &gh.upload_url,
            "POST",
            &format!("{path}?name=old-{n}.txt"),
            "application/octet-stream",
            format!("asset {n}").as_bytes(),
        );
        assert_eq!(status, 201);
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], false, "v1.0.0");
    let env = env(&gh);
    let first = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.json()["release"]["uploaded"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(gh.assets_of("v1.0.0").len(), 125);

    // The five land on the second page: a re-run finds them there and uploads nothing.
    let writes = gh.writes().len();
    let again = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.json()["release"]["unchanged"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    assert_eq!(gh.writes().len(), writes, "{:?}", &gh.writes()[writes..]);
    let listed = pages(&gh, &format!("/repos/octo/app/releases/{id}/assets"));
    assert!(
        listed.iter().filter(|q| q.ends_with("page=2")).count() == 2,
        "{listed:?}"
    );
    gh.assert_openapi_valid();
}
