//! The git repository a release reads and tags, through the `git` command line.
//!
//! Why the CLI and not a crate: the project already runs `git` for image labels
//! (src/build/source.rs); `cicd tag` must create annotated (possibly signed, per the user's
//! `tag.gpgSign`) tags and push them with the user's credential helpers and remotes, which only
//! git itself honours; gix cannot push, and git2 would bring libgit2 (C) for a handful of reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

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
        self.exec(args, input, None)
    }

    /// Runs a `git ARGS` that talks to a remote (`push`), with the waits `CICD_HTTP_TIMEOUT`
    /// sets for Git: over HTTP, git itself gives up when the remote sends less than a byte a
    /// second for the pause time; whatever the transport, the process is killed at a deadline
    /// (connect + first byte + six pauses: 100 s by default), so a remote that accepts and
    /// never answers is an error, never a hang.
    pub fn run_remote(&self, args: &[&str]) -> Result<String, ReleaseError> {
        let t = crate::http::Purpose::Git.timeouts();
        let low_speed = format!("http.lowSpeedTime={}", t.pause.as_secs().max(1));
        let mut full = vec!["-c", "http.lowSpeedLimit=1", "-c", low_speed.as_str()];
        full.extend_from_slice(args);
        self.exec(&full, None, Some(t.connect + t.first_byte + t.pause * 6))
    }

    fn exec(
        &self,
        args: &[&str],
        input: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<String, ReleaseError> {
        use std::io::{Read, Write};
        let command = format!(
            "git {}",
            args.iter()
                .find(|a| !a.starts_with('-') && !a.contains('='))
                .copied()
                .unwrap_or("")
        );
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
        // Both pipes drain on their own threads, so a chatty git never blocks on a full pipe.
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let status = match deadline {
            None => child.wait().map(Some),
            Some(d) => child.wait_timeout(d),
        }
        .map_err(|e| ReleaseError::GitMissing(e.to_string()))?;
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ReleaseError::Git {
                command,
                message: format!(
                    "no answer from the remote in {} s; give it longer with {}=SECONDS",
                    deadline.unwrap_or_default().as_secs(),
                    crate::http::TIMEOUT_ENV
                ),
            });
        };
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            let stderr = String::from_utf8_lossy(&stderr);
            let message = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed")
                .trim()
                .to_owned();
            return Err(ReleaseError::Git { command, message });
        }
        Ok(String::from_utf8_lossy(&stdout).into_owned())
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

    /// Refuses a shallow clone: it hides tags and commits, so versions and changelogs would
    /// be computed from a fragment.
    pub fn ensure_complete(&self) -> Result<(), ReleaseError> {
        if self.run(&["rev-parse", "--is-shallow-repository"])?.trim() == "true" {
            return Err(ReleaseError::Shallow);
        }
        Ok(())
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
