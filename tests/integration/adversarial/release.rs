//! `cicd release` with hostile or broken input (issue 14 items 5–7): no tag on HEAD, a tag
//! that is not semver, an image without platforms, an asset symlink leaving the tree, a
//! `GITHUB_REPOSITORY` holding a newline and `::`, a GitHub API that never answers. Each is
//! refused with the right exit code before anything is written, and no secret prints.

use crate::harness::http::StallServer;
use crate::release::{TOKEN, git, project, release};

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
