//! `cicd init` used as a hostile repository would: a `.github` symlink out of the tree, a
//! workflow file that is a symlink, Dockerfiles in directories whose names hold quotes,
//! newlines and `::`, and a malformed `--action`. See: issue 16.

use crate::init::{Sample, init};

const FROM: &str = crate::init::FROM;

#[test]
fn init_never_writes_through_a_symlinked_directory() {
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let outside = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(outside.path(), sample.root.join(".github")).expect("symlink");
    for args in [&[][..], &["--force"][..]] {
        let (code, _, stderr) = init(&sample.root, args);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(".github: a symlink or a non-directory in the way"),
            "{stderr}"
        );
    }
    assert!(
        std::fs::read_dir(outside.path())
            .expect("read")
            .next()
            .is_none()
    );
    assert!(!sample.root.join("cicd.yaml").exists(), "a partial write");
}

#[test]
fn init_never_writes_through_a_symlinked_file_even_with_force() {
    let sample = Sample::new(&[("Dockerfile", FROM), (".github/workflows/keep", "")]);
    let outside = tempfile::tempdir().expect("tempdir");
    let target = outside.path().join("victim");
    std::fs::write(&target, "precious\n").expect("write");
    std::os::unix::fs::symlink(&target, sample.root.join(".github/workflows/ci.yml"))
        .expect("symlink");
    let (code, _, stderr) = init(&sample.root, &["--force"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&target).expect("read"),
        "precious\n"
    );
}

#[test]
fn init_quotes_hostile_directory_names() {
    let hostile = "we\"b\n::error::x";
    let sample = Sample::new(&[
        (&format!("{hostile}/Dockerfile"), FROM),
        ("api/Dockerfile", FROM),
    ]);
    let (code, _, stderr) = init(&sample.root, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
    let config = std::fs::read_to_string(sample.root.join("cicd.yaml")).expect("read");
    assert!(
        config.contains(r#"context: "we\"b\n::error::x""#),
        "{config}"
    );
    // The written cicd.yaml still loads and describes both images.
    let out = crate::harness::cicd()
        .current_dir(&sample.root)
        .args(["plan", "matrix"])
        .output()
        .expect("plan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<_> = m["include"]
        .as_array()
        .expect("include")
        .iter()
        .map(|e| e["image"].clone())
        .collect();
    assert!(names.contains(&serde_json::json!("we-b-error-x")), "{m}");
}

#[test]
fn init_refuses_a_malformed_action() {
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    for bad in [
        "acme",
        "acme/cicd@main",
        "acme/ci\ncd@0",
        "../x/y",
        "acme/cicd@::error::",
    ] {
        let out = crate::harness::cicd()
            .current_dir(&sample.root)
            .args(["init", "--offline", "--action", bad])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
    }
    assert!(!sample.root.join("cicd.yaml").exists());
}

// See: issue 16. Online `cicd init` against a Git server that accepts and never answers: the
// pin resolver's timeout ends it with exit 3, and nothing is written (no half-pinned files).
#[test]
fn init_online_against_a_server_that_never_answers_writes_nothing() {
    let silent = crate::harness::http::StallServer::silent();
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let out = crate::harness::cicd()
        .current_dir(&sample.root)
        .env("GITHUB_SERVER_URL", format!("http://{}", silent.addr))
        .env("CICD_HTTP_TIMEOUT", "1")
        .args(["init", "--action", "acme/cicd"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("could not resolve the actions to pin"),
        "{stderr}"
    );
    assert!(stderr.contains("did not answer in time"), "{stderr}");
    assert!(!sample.root.join("cicd.yaml").exists());
    assert!(!sample.root.join(".github").exists());
}
