//! Shared test plumbing: the binary under test, fixture paths, and real external tools
//! (which fail the test with an install hint when missing, never skip it).

#![allow(dead_code)]

pub mod git_server;
pub mod github_api;
pub mod github_rest;
pub mod http;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment variables of the GitHub Actions runtime that must not leak into tests.
const ACTIONS_ENV: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_TOKEN",
    "CICD_CONFIG",
    "CICD_REGISTRY_HOST",
    "NO_COLOR",
];

/// Where GitHub is for tests that do not start a stand-in: a closed loopback port, so no
/// test can reach the internet by accident.
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// The `cicd` binary, with a clean environment for Actions variables, GitHub pointed at
/// [`NOWHERE`] and a cache directory of its own (empty: no test reuses layers another test
/// built, and none writes to the user's `~/.cache`; a test that wants reuse sets
/// `XDG_CACHE_HOME` itself).
pub fn cicd() -> assert_cmd::Command {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_cicd"));
    for var in ACTIONS_ENV {
        cmd.env_remove(var);
    }
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cache =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{}-{run}", std::process::id()));
    cmd.env("GITHUB_SERVER_URL", NOWHERE)
        .env("GITHUB_API_URL", NOWHERE)
        .env("XDG_CACHE_HOME", cache);
    cmd
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/integration/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    repo_root().join("tests/integration/data").join(rel)
}

/// A real tool from PATH; panics with how to install it when missing.
pub fn require_tool(name: &str, install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if is_executable(&candidate) {
            return candidate;
        }
    }
    panic!(
        "`{name}` is needed by this test and is not on PATH: run `scripts/test` (it installs it) or {install}"
    );
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs a tool and returns (success, stdout+stderr).
pub fn run_tool(program: &Path, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", program.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every fixture file under `data/check` that `cicd check` is expected to read, relative to
/// that directory (the malformed ones in `bad/` and files only reached via `extends` excluded).
pub fn check_fixtures() -> Vec<String> {
    let root = data("check");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.retain(|p| {
        !p.starts_with("bad/")
            && !p.starts_with("audit/")
            && !p.ends_with("README.md")
            && !p.ends_with("common-services.yml")
            && p != "cicd.yaml"
    });
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read fixture dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Runs `cicd check --format json` with `args`, in `dir`, and returns (exit code, JSON).
pub fn check_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = cicd()
        .current_dir(dir)
        .args(["check", "--offline", "--format", "json"])
        .args(args)
        .output()
        .expect("run cicd");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

pub mod images;
pub mod proxy;
pub mod registry;
pub mod token;
