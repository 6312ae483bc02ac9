//! `cicd init` on sample repositories (one Dockerfile, two, compose only, none): golden
//! output, the written files passing every validator, refusing a second run, `--force`, and
//! pinning online through `cicd pin`'s resolver against a real Git server.

mod completions;
mod online;
mod samples;

use std::path::{Path, PathBuf};

use crate::harness::cicd;

/// The commit `--action` names in the offline tests.
pub const ACTION_SHA: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

pub fn action_arg() -> String {
    format!("acme/cicd@{ACTION_SHA}")
}

/// A sample repository named `shop` (its directory name is the single image's name).
pub struct Sample {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Sample {
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("shop");
        for (path, text) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        std::fs::create_dir_all(&root).expect("mkdir");
        Self { _dir: dir, root }
    }
}

/// `cicd init --offline --action … ARGS` in `dir`: (exit code, stdout, stderr).
pub fn init(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = cicd()
        .current_dir(dir)
        .args(["init", "--offline", "--action", &action_arg()])
        .args(args)
        .output()
        .expect("run cicd init");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub const FROM: &str =
    "FROM busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111\n";
