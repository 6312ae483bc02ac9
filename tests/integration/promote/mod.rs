//! `cicd promote` on a real docker-registry: images pushed with `cicd image copy`, signed with
//! `cicd sign`, promoted between repositories (and registries, through the fault proxy);
//! skopeo confirms the environment and history tags and the signatures that arrived.
//! See: issue 15.

pub mod attested;
mod deployments;
mod faults;
mod flow;
mod keyless;
mod negative;
mod rollback;
mod scan_policy;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::harness::{cicd, images, require_tool, run_tool};

pub const PASSWORD: &str = "Pw-promote-77ab-never-print-me";
pub const NOW: &str = "2026-01-31T12:00:00Z";

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// A test's world: a temp dir with a key pair and a cicd.yaml whose environments live in
/// `promote/<name>/…` repositories of `addr`.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub addr: String,
    pub name: String,
    pub key: PathBuf,
    pub public: PathBuf,
}

impl World {
    pub fn new(addr: &str, name: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tmp");
        let w = Self {
            key: tmp.path().join("cosign.key"),
            public: tmp.path().join("cosign.pub"),
            tmp,
            addr: addr.to_owned(),
            name: name.to_owned(),
        };
        w.ok(
            &["keygen", "--prefix", s(&w.tmp.path().join("cosign"))],
            NOW,
        );
        w
    }

    pub fn repo(&self, part: &str) -> String {
        format!("{}/promote/{}/{part}", self.addr, self.name)
    }

    /// Writes cicd.yaml: `staging` in repo `staging`, `production` after it in `prod`, both
    /// requiring a signature by cosign.pub (no transparency log in these tests).
    pub fn config(&self, extra: &str) {
        let text = format!(
            "environments:\n  staging:\n    repository: {}\n    url: https://staging.example.com\n    require:\n      signature: {{ key: cosign.pub, insecure-ignore-tlog: true }}\n  production:\n    after: staging\n    repository: {}\n    require:\n      signature: {{ key: cosign.pub, insecure-ignore-tlog: true }}\n{extra}",
            self.repo("staging"),
            self.repo("prod"),
        );
        std::fs::write(self.tmp.path().join("cicd.yaml"), text).expect("config");
    }

    /// Pushes a two-platform image to `repo:tag` with `cicd image copy`; returns its digest.
    pub fn push(&self, repo: &str, tag: &str, seed: u64) -> String {
        let lay = self.tmp.path().join(format!("src-{seed}"));
        let img = images::multi(&lay, tag, seed);
        self.ok(
            &[
                "image",
                "copy",
                &format!("oci:{}:{tag}", s(&lay)),
                &format!("docker://{repo}:{tag}"),
            ],
            NOW,
        );
        img.digest
    }

    pub fn sign(&self, reference: &str, key: &Path) {
        self.ok(
            &["sign", "--key", s(key), "--tlog-upload=false", reference],
            NOW,
        );
    }

    pub fn run(&self, args: &[&str], now: &str) -> Output {
        let out = cicd()
            .current_dir(self.tmp.path())
            .env("CICD_KEY_PASSWORD", PASSWORD)
            .env("CICD_NOW", now)
            .env("GITHUB_ACTOR", "octocat")
            .args(args)
            .output()
            .expect("run cicd");
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(PASSWORD),
                "password leaked"
            );
        }
        out
    }

    pub fn ok(&self, args: &[&str], now: &str) -> String {
        let out = self.run(args, now);
        assert!(
            out.status.success(),
            "cicd {args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str], now: &str) -> Value {
        serde_json::from_str(&self.ok(args, now)).expect("JSON")
    }

    pub fn history(&self, env: &str) -> Vec<Value> {
        let v = self.json(&["promote", "history", env, "--json"], NOW);
        v["entries"].as_array().cloned().unwrap_or_default()
    }
}

/// `skopeo inspect --raw` of `docker://REF`, as its sha256 digest (`None` when absent).
pub fn skopeo_digest(reference: &str) -> Option<String> {
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let out = std::process::Command::new(bin)
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    out.status
        .success()
        .then(|| cicd::oci::digest::sha256(&out.stdout))
}

/// Every tag of a repository, sorted, by `skopeo list-tags` (empty when it has none).
pub fn skopeo_tags(repo: &str) -> Vec<String> {
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let os: Vec<std::ffi::OsString> = ["list-tags", "--tls-verify=false"]
        .iter()
        .map(Into::into)
        .chain(std::iter::once(format!("docker://{repo}").into()))
        .collect();
    let refs: Vec<&std::ffi::OsStr> = os.iter().map(|o| o.as_os_str()).collect();
    let (ok, text) = run_tool(&bin, &refs);
    if !ok {
        return Vec::new();
    }
    let v: Value = serde_json::from_str(&text).expect("list-tags JSON");
    let mut tags: Vec<String> = v["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    tags.sort();
    tags
}

/// The `sha256-<hex>` referrers fallback tag of a digest.
pub fn fallback(digest: &str) -> String {
    format!("sha256-{}", &digest[7..])
}
