//! The GitHub release against the REST stand-in: created with its assets on the upload host,
//! left alone on a re-run, updated when it differs, a changed asset refused without
//! `--replace`; prerelease and make_latest flags; `--dry-run` sends no write; every request
//! valid by GitHub's OpenAPI description; the token never printed.

use super::{TOKEN, project, release, tag_next};
use crate::harness::github_rest::GithubRest;

fn env(gh: &GithubRest) -> Vec<(&str, &str)> {
    vec![
        ("GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_API_URL", gh.api_url.as_str()),
        ("GITHUB_SERVER_URL", "https://github.com"),
    ]
}

#[test]
fn create_then_rerun_then_update_then_changed_asset_and_every_request_is_valid() {
    let gh = GithubRest::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], false, "v1.0.0");
    let env = env(&gh);

    let plan = release(dir, &env, &["--to", "oci:./out", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("GitHub release: octo/app"),
        "{}",
        plan.stdout
    );
    assert!(
        gh.writes().is_empty(),
        "a dry run wrote to GitHub: {:?}",
        gh.writes()
    );

    let first = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let releases = gh.releases();
    assert_eq!(releases.len(), 1);
    let r = &releases[0];
    assert_eq!(
        (r["tag_name"].as_str(), r["prerelease"].as_bool()),
        (Some("v1.0.0"), Some(false))
    );
    assert_eq!(r["x-make_latest"], "true");
    assert!(r["body"].as_str().expect("body").contains("## Images"));
    let mut names: Vec<String> = gh
        .assets_of("v1.0.0")
        .iter()
        .map(|a| a.json["name"].as_str().unwrap_or("").to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "bb.linux-amd64.cdx.json",
            "bb.linux-arm64.cdx.json",
            "motd.linux-amd64.cdx.json",
            "motd.linux-arm64.cdx.json"
        ]
    );
    let sums = gh
        .assets_of("v1.0.0")
        .into_iter()
        .find(|a| a.json["name"] == "SHA256SUMS")
        .expect("sums");
    assert_eq!(
        sums.bytes,
        std::fs::read(dir.join("dist/SHA256SUMS")).expect("sums file")
    );
    assert!(first.output.contains("release-url="), "{}", first.output);
    let uploads = gh
        .exchanges()
        .iter()
        .filter(|e| e.on == crate::harness::github_rest::Host::Uploads)
        .count();
    assert_eq!(uploads, 5, "uploads go to the upload host");

    let writes = gh.writes().len();
    let again = release(dir, &env, &["--to", "oci:./out"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        gh.writes().len(),
        writes,
        "a re-run wrote: {:?}",
        &gh.writes()[writes..]
    );
    assert_eq!(gh.releases().len(), 1);
    assert_eq!(gh.assets_of("v1.0.0").len(), 5);

    // Someone edited the release on GitHub: the re-run brings it back (one PATCH).
    gh.state()
        .releases
        .values_mut()
        .for_each(|r| r["body"] = "edited by hand".into());
    let update = release(dir, &env, &["--to", "oci:./out"]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    let new: Vec<_> = gh.writes()[writes..]
        .iter()
        .map(|e| e.method.clone())
        .collect();
    assert_eq!(new, ["PATCH"]);

    // A changed asset under a published name: refused, then replaced with --replace.
    let count = gh.writes().len();
    {
        let mut state = gh.state();
        for list in state.assets.values_mut() {
            for a in list
                .iter_mut()
                .filter(|a| a.json["name"] == "bb.linux-amd64.cdx.json")
            {
                a.json["digest"] = format!("sha256:{}", "0".repeat(64)).into();
            }
        }
    }
    let refused = release(dir, &env, &["--to", "oci:./out"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--replace"), "{}", refused.stderr);
    assert_eq!(gh.writes().len(), count, "a refused re-run wrote");
    let replaced = release(dir, &env, &["--to", "oci:./out", "--replace"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let new: Vec<_> = gh.writes()[count..]
        .iter()
        .map(|e| e.method.clone())
        .collect();
    assert_eq!(new, ["DELETE", "POST"]);
    assert_eq!(gh.assets_of("v1.0.0").len(), 5);

    for e in gh.exchanges() {
        let auth = e
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(auth, Some(format!("Bearer {TOKEN}").as_str()));
    }
    gh.assert_openapi_valid();
}

#[test]
fn a_prerelease_and_a_backport_are_never_githubs_latest() {
    let gh = GithubRest::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], false, "v2.0.0");
    tag_next(dir, "v2.1.0-rc.1");
    let env = env(&gh);
    let rc = release(dir, &env, &["--to", "oci:./out"]);
    assert_eq!(rc.code, 0, "{}", rc.stderr);
    let backport = release(dir, &env, &["--to", "oci:./out", "--version", "1.4.3"]);
    assert_eq!(backport.code, 0, "{}", backport.stderr);
    let flags: Vec<(String, bool, String)> = gh
        .releases()
        .iter()
        .map(|r| {
            (
                r["tag_name"].as_str().unwrap_or("").to_owned(),
                r["prerelease"].as_bool().unwrap_or(true),
                r["x-make_latest"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("v2.1.0-rc.1".into(), true, "false".into()),
            ("v1.4.3".into(), false, "false".into())
        ]
    );
    gh.assert_openapi_valid();
}

/// An asset that changes after `SHA256SUMS` listed it (here: while the GitHub release is
/// being created) was uploaded as it then was, so the release published bytes its checksums
/// (and their signature) do not vouch for. Now the bytes read for the upload are checked
/// against the listed digest first: exit 2 naming the file, and that asset never reaches the
/// release.
#[test]
fn an_asset_changed_after_sha256sums_listed_it_is_never_uploaded() {
    let gh = GithubRest::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], false, "v1.0.0");
    let env = env(&gh);
    let victim = dir.join("dist/sbom/bb.linux-amd64.cdx.json");
    let swapped = victim.clone();
    gh.route("POST", "/repos/{owner}/{repo}/releases", move |_| {
        std::fs::write(&swapped, br#"{"swapped":true}"#).expect("swap the asset");
        None
    });
    let out = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("changed after SHA256SUMS listed it")
            && out.stderr.contains("bb.linux-amd64.cdx.json"),
        "{}",
        out.stderr
    );
    let uploaded: Vec<String> = gh
        .assets_of("v1.0.0")
        .iter()
        .map(|a| a.json["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        !uploaded.iter().any(|n| n == "bb.linux-amd64.cdx.json"),
        "{uploaded:?}"
    );
    assert!(!out.output.contains("release-url="), "{}", out.output);
    gh.assert_openapi_valid();
}
