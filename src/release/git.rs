//! The git repository a release reads and tags, through the `git` command line.
//!
//! Why the CLI and not a crate: the project already runs `git` for image labels
//! (src/build/source.rs); `cicd tag` must create annotated (possibly signed, per the user's
//! `tag.gpgSign`) tags and push them with the user's credential helpers and remotes, which only
//! git itself honours; gix cannot push, and git2 would bring libgit2 (C) for a handful of reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::ReleaseError;

/// A work tree `git` is run in.
#[derive(Clone, Debug)]
pub struct Repo {
    dir: PathBuf,
}

/// One commit as `git log` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawCommit {
    pub sha: String,
    /// The whole message (subject, body, trailers).
    pub message: String,
}

impl Repo {
    /// The repository holding `dir`; an error (exit 2) when it is not in one.
    pub fn open(dir: &Path) -> Result<Self, ReleaseError> {
        let repo = Self {
            dir: dir.to_path_buf(),
        };
        repo.run(&["rev-parse", "--git-dir"])?;
        Ok(repo)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `git ARGS`, returning stdout; a failure carries git's own message.
    pub fn run(&self, args: &[&str]) -> Result<String, ReleaseError> {
        self.run_with_input(args, None)
    }

    /// Runs `git ARGS` with `input` on stdin.
    pub fn run_with_input(
        &self,
        args: &[&str],
        input: Option<&str>,
    ) -> Result<String, ReleaseError> {
        use std::io::Write;
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| ReleaseError::GitMissing(e.to_string()))?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| ReleaseError::GitMissing(e.to_string()))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| ReleaseError::GitMissing(e.to_string()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let message = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed")
                .trim()
                .to_owned();
            return Err(ReleaseError::Git {
                command: format!("git {}", args.first().copied().unwrap_or("")),
                message,
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Tags matching `prefix*`, reachable from `rev` when given, else all.
    pub fn tags(&self, prefix: &str, rev: Option<&str>) -> Result<Vec<String>, ReleaseError> {
        let pattern = format!("{}*", glob_escape(prefix));
        let mut args = vec!["tag", "--list", pattern.as_str()];
        if let Some(rev) = rev {
            args.extend(["--merged", rev]);
        }
        Ok(self
            .run(&args)?
            .lines()
            .map(str::to_owned)
            .filter(|t| !t.is_empty())
            .collect())
    }

    /// Commits in `from..to` (all of `to`'s history without `from`), newest first, merge
    /// commits left out (their branches' commits are listed themselves).
    pub fn commits(&self, from: Option<&str>, to: &str) -> Result<Vec<RawCommit>, ReleaseError> {
        let range = match from {
            Some(f) => format!("{f}..{to}"),
            None => to.to_owned(),
        };
        let out = self.run(&[
            "log",
            "-z",
            "--no-merges",
            "--no-color",
            "--topo-order",
            "--format=%H%x1f%B",
            &range,
            "--",
        ])?;
        Ok(out
            .split('\0')
            .filter(|r| !r.trim().is_empty())
            .filter_map(|record| {
                let (sha, message) = record.split_once('\u{1f}')?;
                Some(RawCommit {
                    sha: sha.trim().to_owned(),
                    message: message.trim_end().to_owned(),
                })
            })
            .collect())
    }

    /// The full SHA `rev` names, or an error naming it.
    pub fn resolve(&self, rev: &str) -> Result<String, ReleaseError> {
        let spec = format!("{rev}^{{commit}}");
        self.run(&["rev-parse", "--verify", "--quiet", &spec])
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ReleaseError::UnknownRef(rev.to_owned()))
    }

    /// The committer date of `rev` as `YYYY-MM-DD` (the changelog's date: reproducible).
    pub fn date(&self, rev: &str) -> Result<String, ReleaseError> {
        Ok(self
            .run(&["log", "-1", "--format=%cs", rev, "--"])?
            .trim()
            .to_owned())
    }

    /// Changes git would commit or that are not tracked (ignored files do not count).
    pub fn dirty(&self) -> Result<Vec<String>, ReleaseError> {
        Ok(self
            .run(&["status", "--porcelain=v1", "--untracked-files=normal"])?
            .lines()
            .map(|l| l.get(3..).unwrap_or(l).to_owned())
            .collect())
    }
}

/// `prefix` with the characters `git tag --list` treats as a pattern escaped.
fn glob_escape(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if "*?[]\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
