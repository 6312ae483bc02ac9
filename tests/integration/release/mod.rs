//! `cicd release` against real parts: a two-image, two-platform native project with a real
//! git history and tags, the real registry (read back with skopeo), image layouts, the
//! cosign key format, and the GitHub REST stand-in (every request OpenAPI-validated).

mod fanout;
mod github;
mod github_pages;
mod keyless;
mod layout;
mod local_sbom;
mod promote;
mod promote_roots;
mod registry;
mod rekor;
mod stand_in;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::build::busybox;
use crate::harness::cicd;

pub const PASSWORD: &str = "Pw-release-9d2e-never-print-me";
pub const TOKEN: &str = "ghs_releaseT0kenThatMustNeverPrint";

/// A project with images `bb` (busybox per arch) and `motd` (one file), each on
/// linux/amd64 and linux/arm64, destinations from `repos` (`None`: no `repository:`), a
/// cosign key when `signed`, committed as `feat: first` and tagged `tag`.
pub fn project(dir: &Path, repos: [Option<&str>; 2], signed: bool, tag: &str) {
    for arch in ["amd64", "arm64"] {
        let d = dir.join("bin").join(arch);
        std::fs::create_dir_all(&d).expect("bin");
        std::fs::copy(busybox(arch), d.join("busybox")).expect("copy busybox");
    }
    std::fs::write(dir.join("motd"), "released by cicd\n").expect("motd");
    let repo = |r: Option<&str>| {
        r.map(|r| format!("    repository: {r}\n"))
            .unwrap_or_default()
    };
    let mut yaml = format!(
        "images:\n  - name: bb\n{}    platforms: [linux/amd64, linux/arm64]\n    native:\n      files:\n        - {{ src: \"bin/{{arch}}/busybox\", dst: /bin/busybox, mode: \"0755\" }}\n  - name: motd\n{}    platforms: [linux/amd64, linux/arm64]\n    native:\n      files:\n        - {{ src: motd, dst: /etc/motd }}\n",
        repo(repos[0]),
        repo(repos[1])
    );
    if signed {
        let prefix = dir.join("cosign");
        let out = cicd()
            .env("CICD_KEY_PASSWORD", PASSWORD)
            .args(["keygen", "--prefix", prefix.to_str().expect("utf8")])
            .output()
            .expect("keygen");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Not logged: these releases run offline (`release/rekor.rs` logs one in a Rekor).
        yaml.push_str("release:\n  signing: { key: cosign.key, tlog-upload: false }\n");
    }
    std::fs::write(dir.join("cicd.yaml"), yaml).expect("cicd.yaml");
    std::fs::write(dir.join(".gitignore"), "dist/\nout/\n.gh-*\n").expect("gitignore");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "feat: first release"]);
    git(dir, &["tag", "-a", tag, "-m", tag]);
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new commit tagged `tag` (a fix, so the changelog has something).
pub fn tag_next(dir: &Path, tag: &str) {
    std::fs::write(dir.join("motd"), format!("released by cicd {tag}\n")).expect("motd");
    git(
        dir,
        &["commit", "-q", "-am", &format!("fix: motd for {tag}")],
    );
    git(dir, &["tag", "-a", tag, "-m", tag]);
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub output: String,
    pub summary: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// `cicd release ARGS` in `dir` with `env`, a `$GITHUB_OUTPUT` file, and the key password.
pub fn release(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let output: PathBuf = dir.join(".gh-output");
    let summary: PathBuf = dir.join(".gh-summary");
    let _ = std::fs::remove_file(&output);
    let _ = std::fs::remove_file(&summary);
    let mut cmd = cicd();
    cmd.current_dir(dir)
        .env_remove("GITHUB_REF")
        .env_remove("GITHUB_REPOSITORY")
        .env("CICD_KEY_PASSWORD", PASSWORD)
        .env("CICD_NOW", "2026-01-31T12:00:00Z")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("CICD_HTTP_TIMEOUT", "2");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.arg("release").args(args).output().expect("run cicd");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        output: std::fs::read_to_string(&output).unwrap_or_default(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    };
    for secret in [PASSWORD, TOKEN] {
        for (what, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("GITHUB_OUTPUT", &run.output),
            ("summary", &run.summary),
        ] {
            assert!(!text.contains(secret), "a secret leaked on {what}: {text}");
        }
    }
    run
}

/// The tags of each layout `out/NAME` and the digest each names.
pub fn layout_tags(layout: &Path) -> Vec<(String, String)> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("json");
    let mut out: Vec<(String, String)> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|m| {
            let tag = m["annotations"]["org.opencontainers.image.ref.name"].as_str()?;
            Some((tag.to_owned(), m["digest"].as_str()?.to_owned()))
        })
        .collect();
    out.sort();
    out
}
