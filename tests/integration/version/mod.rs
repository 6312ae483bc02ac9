//! `cicd version next`, `cicd version changelog` and `cicd tag` (issue 14 items 1–3) on real
//! git repositories made here, with real conventional-commit histories.

mod changelog;
mod next;
mod tag;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::{cicd, require_tool};

/// A throwaway repository on `main` whose commits have fixed authors and dates, so the same
/// history always has the same SHAs.
pub struct Repo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    clock: u32,
}

impl Repo {
    pub fn new() -> Self {
        require_tool("git", "apt-get install -y git");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).expect("mkdir");
        let repo = Self {
            _dir: dir,
            path,
            clock: 0,
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// Runs git in the repository; panics with its output on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn git_output(&self, args: &[&str]) -> Output {
        let date = format!("2026-01-{:02}T12:00:00Z", 1 + self.clock % 28);
        Command::new("git")
            .current_dir(&self.path)
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.test")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.test")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git")
    }

    /// An empty commit with `message`; returns its SHA.
    pub fn commit(&mut self, message: &str) -> String {
        self.clock += 1;
        // From a file: a message may be larger than one argument can be.
        let file = self.path.with_file_name("message");
        std::fs::write(&file, message).expect("write message");
        let file = file.to_str().expect("utf-8 path").to_owned();
        self.git(&["commit", "-q", "--allow-empty", "-F", &file]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits a file change (for the tree to hold something).
    pub fn commit_file(&mut self, name: &str, text: &str, message: &str) -> String {
        std::fs::write(self.path.join(name), text).expect("write");
        self.git(&["add", name]);
        self.commit(message)
    }

    pub fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    /// `cicd ARGS` run in the repository, with no GitHub repository known and git's
    /// identity fixed (tags need one).
    pub fn cicd(&self, args: &[&str]) -> Output {
        self.cicd_cmd().args(args).output().expect("run cicd")
    }

    pub fn cicd_cmd(&self) -> assert_cmd::Command {
        let mut cmd = cicd();
        cmd.current_dir(&self.path)
            .env_remove("GITHUB_REPOSITORY")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.test")
            .env("GIT_COMMITTER_DATE", "2026-02-01T12:00:00Z")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        cmd
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path.join(name), text).expect("write");
    }

    pub fn root(&self) -> &Path {
        &self.path
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Insta filters for SHAs (fixed dates make them stable, but the snapshot need not say).
pub fn sha_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\b[0-9a-f]{40}\b", "[SHA]"),
        (r"\b[0-9a-f]{7}\b", "[short]"),
    ]
}
