//! `cicd release` with hostile or broken input (issue 14 items 5–7): no tag on HEAD, a tag
//! that is not semver, an image without platforms, an asset symlink leaving the tree, a
//! `GITHUB_REPOSITORY` holding a newline and `::`, a GitHub API that never answers (while
//! listing releases, or during the promotion that ends a release), a release URL from GitHub
//! holding a newline and `::`. Each ends with the right exit code, nothing reported as passed,
//! user-controlled text escaped, and no secret printed.

use crate::harness::github_rest::GithubRest;
use crate::harness::http::StallServer;
use crate::release::{TOKEN, git, layout_tags, project, release};

fn plain_project(dir: &std::path::Path, tag: &str) {
    project(dir, [None, None], false, tag);
}

#[test]
fn no_version_tag_on_head_is_bad_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    plain_project(tmp.path(), "not-a-version");
    let run = release(tmp.path(), &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no `vX.Y.Z` tag on HEAD"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn a_tag_that_is_not_semver_is_bad_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    plain_project(tmp.path(), "v1.2");
    let run = release(tmp.path(), &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a semantic version"),
        "{}",
        run.stderr
    );
    let run = release(
        tmp.path(),
        &[("GITHUB_REF", "refs/tags/v1.2.3\n::error::forged")],
        &["--to", "oci:./out", "--offline"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("::")),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn an_image_without_platforms_is_refused_at_its_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    std::fs::write(
        dir.join("cicd.yaml"),
        "images:\n  - name: none\n    platforms: []\n    native: {}\n",
    )
    .expect("write");
    let run = release(dir, &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cicd.yaml:") && run.stderr.contains("no platforms"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_asset_symlink_out_of_the_tree_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    let outside = tempfile::tempdir().expect("tmp");
    std::fs::write(outside.path().join("id_rsa"), "secret").expect("write");
    std::fs::create_dir_all(dir.join("pkg")).expect("mkdir");
    std::os::unix::fs::symlink(outside.path().join("id_rsa"), dir.join("pkg/app.tar.gz"))
        .expect("symlink");
    let mut yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("read");
    yaml.push_str("release:\n  assets: [\"pkg/*.tar.gz\"]\n");
    std::fs::write(dir.join("cicd.yaml"), yaml).expect("write");
    git(dir, &["add", "-A"]);
    let run = release(dir, &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("outside the repository"),
        "{}",
        run.stderr
    );
    assert!(run.output.is_empty(), "outputs: {}", run.output);
    assert!(!dir.join("out").exists() && !dir.join("dist").exists());
}

#[test]
fn a_hostile_repository_name_and_a_silent_api_fail_closed_without_printing_the_token() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    let run = release(
        dir,
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", "octo/app\n::set-output name=x::y"),
        ],
        &["--to", "oci:./out"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("::")),
        "{}",
        run.stderr
    );

    let silent = StallServer::silent();
    let api = format!("http://{}", silent.addr);
    let run = release(
        dir,
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_API_URL", &api),
        ],
        &["--to", "oci:./out"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(!run.output.contains("release-url"), "{}", run.output);
    assert!(
        !run.output.contains("version="),
        "a failed release set outputs: {}",
        run.output
    );
}

#[test]
fn a_github_that_never_answers_the_release_listing_is_exit_3_naming_the_host() {
    // See: issue 14 (make_latest reads GitHub's releases before anything is built).
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    let silent = StallServer::silent();
    let api = format!("http://{}", silent.addr);
    let env = [
        ("GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_API_URL", api.as_str()),
    ];
    let run = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(&silent.addr), "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "a failed release printed: {}",
        run.stdout
    );
    assert!(run.output.is_empty(), "outputs: {}", run.output);
    assert!(!dir.join("out").exists(), "built before GitHub answered");
}

#[test]
fn a_github_that_never_answers_during_promotion_is_exit_3_and_nothing_reads_as_promoted() {
    // See: issue 14 (promotion failure is exit 3, the record says which step failed).
    let gh = GithubRest::start();
    gh.route("POST", "/repos/{owner}/{repo}/deployments", |_| {
        // Holds the answer well past the client's timeout and retries.
        std::thread::sleep(std::time::Duration::from_secs(40));
        None
    });
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    let mut yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("yaml");
    yaml.push_str("environments:\n  staging: {}\n");
    std::fs::write(dir.join("cicd.yaml"), yaml).expect("yaml");
    git(dir, &["commit", "-q", "-am", "chore: environments"]);
    git(dir, &["tag", "-f", "-a", "v1.0.0", "-m", "v1.0.0"]);
    let env = [
        ("GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_API_URL", gh.api_url.as_str()),
    ];
    let run = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let host = gh.api_url.trim_start_matches("http://");
    assert!(run.stderr.contains(host), "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["promotion"]["result"], "failed", "{:#}", v["promotion"]);
    assert!(
        v["promotion"]["error"]
            .as_str()
            .is_some_and(|e| e.contains(host)),
        "{:#}",
        v["promotion"]
    );
    assert!(
        run.output.contains("promotion-result=failed"),
        "{}",
        run.output
    );
    assert!(!run.output.contains("environment="), "{}", run.output);
    assert!(!run.output.contains("promoted-digest"), "{}", run.output);
    assert!(run.summary.contains("**failed**"), "{}", run.summary);
    assert!(!run.summary.contains("promoted**"), "{}", run.summary);
    for image in ["bb", "motd"] {
        let tags = layout_tags(&dir.join("out").join(image));
        assert!(
            tags.iter().all(|(t, _)| !t.starts_with("staging")),
            "{image}: {tags:?}"
        );
    }
}

#[test]
fn a_release_url_with_a_newline_and_a_workflow_command_is_escaped_everywhere() {
    // See: issue 14 (GitHub's answer is text cicd did not write).
    let gh = GithubRest::start();
    let id = gh.seed_release(
        "octo",
        "app",
        serde_json::json!({"tag_name": "v1.0.0", "name": "v1.0.0\n::error::forged name", "body": "", "prerelease": false, "draft": false}),
    );
    gh.state().releases.get_mut(&id).expect("seeded")["html_url"] =
        "https://github.com/octo/app/releases/tag/v1.0.0\n::error::forged url".into();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    let env = [
        ("GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_API_URL", gh.api_url.as_str()),
    ];
    let run = release(dir, &env, &["--to", "oci:./out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.summary.contains("GitHub release:"), "{}", run.summary);
    for (what, text) in [
        ("summary", &run.summary),
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
    ] {
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("::")),
            "{what} carries a workflow command: {text}"
        );
    }
}

#[test]
fn environments_a_release_cannot_promote_to_are_refused_before_anything_is_built() {
    // See: issue 14 (one `repository:` cannot hold two images; several root environments are
    // all promoted: tests/integration/release/promote_roots.rs).
    let cases = [
        (
            "environments:\n  staging:\n    repository: 127.0.0.1:9/one\n",
            "has one `repository:` and cicd.yaml has 2 images",
        ),
        (
            // Attestations are verified with the signature policy: none is set.
            "environments:\n  staging:\n    require:\n      sbom: true\n",
            "cannot check",
        ),
    ];
    for (extra, reason) in cases {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        plain_project(dir, "v1.0.0");
        let mut yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("yaml");
        yaml.push_str(extra);
        std::fs::write(dir.join("cicd.yaml"), yaml).expect("yaml");
        let run = release(dir, &[], &["--to", "oci:./out", "--offline", "--json"]);
        assert_eq!(run.code, 2, "{extra}: {}", run.stderr);
        assert!(run.stderr.contains(reason), "{extra}: {}", run.stderr);
        assert!(
            run.stdout.is_empty() && run.output.is_empty(),
            "{}",
            run.stdout
        );
        assert!(!dir.join("out").exists(), "{extra}: built before refusing");
    }
}

#[test]
fn an_empty_or_truncated_scan_report_is_never_a_pass_and_tags_nothing() {
    // See: issue 14 (the gate reads the reports as `cicd check trivy` does: an unreadable
    // report is a gate error, exit 2, never a pass; nothing is tagged or promoted).
    let whole = serde_json::to_vec_pretty(&serde_json::json!({
        "SchemaVersion": 2,
        "CreatedAt": "2026-01-31T11:00:00Z",
        "ArtifactName": "bb",
        "ArtifactType": "container_image",
        "Results": [{"Target": "bb", "Class": "os-pkgs", "Type": "alpine", "Vulnerabilities": []}]
    }))
    .expect("json");
    for (what, bytes) in [
        ("empty", &whole[..0]),
        ("truncated", &whole[..whole.len() / 2]),
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        plain_project(dir, "v1.0.0");
        let mut yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("yaml");
        yaml.push_str("environments:\n  staging: {}\n");
        std::fs::write(dir.join("cicd.yaml"), yaml).expect("yaml");
        git(dir, &["commit", "-q", "-am", "chore: environments"]);
        git(dir, &["tag", "-f", "-a", "v1.0.0", "-m", "v1.0.0"]);
        let reports = tempfile::tempdir().expect("tmp");
        let report = reports.path().join("trivy.json");
        std::fs::write(&report, bytes).expect("report");
        let run = release(
            dir,
            &[],
            &[
                "--to",
                "oci:./out",
                "--offline",
                "--json",
                "--scan-report",
                report.to_str().expect("utf8"),
            ],
        );
        assert!(
            run.code == 2 || run.code == 1,
            "{what}: exit {} {}",
            run.code,
            run.stderr
        );
        assert!(
            run.stderr.contains("trivy.json"),
            "{what}: names the report: {}",
            run.stderr
        );
        for pass in ["result=passed", "promotion-result=promoted", "environment="] {
            assert!(!run.output.contains(pass), "{what}: {}", run.output);
        }
        assert!(
            !run.summary.contains("gate passed"),
            "{what}: {}",
            run.summary
        );
        for image in ["bb", "motd"] {
            let layout = dir.join("out").join(image);
            if !layout.join("index.json").exists() {
                continue; // Refused before anything was built.
            }
            let tags = layout_tags(&layout);
            assert!(
                tags.iter()
                    .all(|(t, _)| !t.starts_with("staging") && t != "1.0.0"),
                "{what}: {image}: {tags:?}"
            );
        }
    }
}

// An asset whose file name holds a newline and `::` would write a forged second line into
// SHA256SUMS (and a workflow command into the log): refused at plan time, exit 2, the name
// escaped, nothing built, tagged or written to `$GITHUB_OUTPUT`. An empty asset is an asset
// like any other: listed with the empty file's digest.
#[test]
fn an_asset_name_with_a_newline_and_workflow_command_is_refused_and_an_empty_asset_is_listed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    plain_project(dir, "v1.0.0");
    std::fs::create_dir_all(dir.join("pkg")).expect("mkdir");
    let forged = format!("app\n{}  other.tar.gz\n::error::forged", "0".repeat(64));
    std::fs::write(dir.join("pkg").join(&forged), b"a").expect("write");
    std::fs::write(dir.join("pkg/empty.bin"), b"").expect("write");
    let mut yaml = std::fs::read_to_string(dir.join("cicd.yaml")).expect("read");
    yaml.push_str("release:\n  assets: [\"pkg/*\"]\n");
    std::fs::write(dir.join("cicd.yaml"), yaml).expect("write");
    git(dir, &["add", "-A"]);
    let run = release(dir, &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("control character"), "{}", run.stderr);
    for text in [&run.stdout, &run.stderr, &run.output, &run.summary] {
        assert!(
            !text.lines().any(|l| l.starts_with("::error::forged")),
            "{text}"
        );
    }
    assert!(run.output.is_empty(), "{}", run.output);
    assert!(!dir.join("out").exists() && !dir.join("dist").exists());

    std::fs::remove_file(dir.join("pkg").join(&forged)).expect("rm");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "chore: drop it"]);
    git(dir, &["tag", "-a", "v1.0.1", "-m", "v1.0.1"]);
    let run = release(dir, &[], &["--to", "oci:./out", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sums = std::fs::read_to_string(dir.join("dist/SHA256SUMS")).expect("sums");
    assert!(
        sums.contains(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.bin\n"
        ),
        "{sums}"
    );
}

// Both images of a release pushed (at once) to a registry that accepts connections and never
// answers: exit 3 naming the registry, no record on stdout, nothing in `$GITHUB_OUTPUT`, no
// notes or SHA256SUMS written.
#[test]
fn a_registry_that_never_answers_while_images_are_released_at_once_is_exit_3() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let silent = StallServer::silent();
    let (bb, motd) = (
        format!("{}/acme/bb", silent.addr),
        format!("{}/acme/motd", silent.addr),
    );
    project(dir, [Some(&bb), Some(&motd)], false, "v1.0.0");
    let run = release(dir, &[], &["--json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(&silent.addr), "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "a failed release printed: {}",
        run.stdout
    );
    assert!(run.output.is_empty(), "outputs: {}", run.output);
    assert!(!dir.join("dist/SHA256SUMS").exists());
}
