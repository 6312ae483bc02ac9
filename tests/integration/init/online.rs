//! `cicd init` without --offline: every action's ref resolved at GITHUB_SERVER_URL with `cicd
//! pin`'s resolver (a real `git http-backend` on loopback), the cicd action at its
//! `v<version>` tag.

use crate::harness::cicd;
use crate::harness::git_server::GitServer;

use super::{FROM, Sample};

// See: issue 16.
#[test]
fn init_resolves_every_action_through_the_pin_resolver() {
    let server = GitServer::start();
    let mut shas = Vec::new();
    for (owner, name, tags) in [
        ("actions", "checkout", &["v7", "v7.1.0"][..]),
        ("actions", "upload-artifact", &["v7", "v7.0.2"][..]),
        ("actions", "download-artifact", &["v8", "v8.0.3"][..]),
        ("github", "codeql-action", &["v4", "v4.40.0"][..]),
        ("aquasecurity", "trivy-action", &["v0.36.0"][..]),
        (
            "acme",
            "cicd",
            &[concat!("v", env!("CARGO_PKG_VERSION"))][..],
        ),
    ] {
        server.repo(owner, name, |r| {
            let sha = r.commit(&format!("{name} release"), "2026-01-01T00:00:00Z");
            for t in tags {
                r.tag(t);
            }
            shas.push((name, sha));
        });
    }
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let out = cicd()
        .current_dir(&sample.root)
        .env("GITHUB_SERVER_URL", &server.url)
        .args(["init", "--action", "acme/cicd", "--dry-run"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sha = |n: &str| {
        shas.iter()
            .find(|(name, _)| *name == n)
            .expect("known")
            .1
            .clone()
    };
    for expected in [
        format!("actions/checkout@{} # v7.1.0", sha("checkout")),
        format!(
            "actions/upload-artifact@{} # v7.0.2",
            sha("upload-artifact")
        ),
        format!(
            "actions/download-artifact@{} # v8.0.3",
            sha("download-artifact")
        ),
        format!(
            "github/codeql-action/upload-sarif@{} # v4.40.0",
            sha("codeql-action")
        ),
        format!(
            "aquasecurity/trivy-action@{} # v0.36.0",
            sha("trivy-action")
        ),
        format!("acme/cicd@{} # v{}", sha("cicd"), env!("CARGO_PKG_VERSION")),
    ] {
        assert!(
            stdout.contains(&format!("uses: {expected}\n")),
            "missing {expected}:\n{stdout}"
        );
    }
}

// See: issue 16. A ref the server does not have: exit 3, nothing written, names the repository.
#[test]
fn init_online_fails_closed_when_a_ref_is_missing() {
    let server = GitServer::start();
    server.repo("actions", "checkout", |r| {
        r.commit("c", "2026-01-01T00:00:00Z");
        r.tag("v6");
    });
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let out = cicd()
        .current_dir(&sample.root)
        .env("GITHUB_SERVER_URL", &server.url)
        .args(["init", "--action", "acme/cicd"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not resolve the actions to pin"),
        "{stderr}"
    );
    assert!(!sample.root.join("cicd.yaml").exists());
}
