//! The composite action (action.yml + action/*.sh) run for real under a simulated runner:
//! download from a loopback release server, SHA-256 check against the committed table,
//! tool cache, run; hostile inputs; and the validators every workflow file must pass.

mod hostile;
mod image;
mod install;
mod lint;
pub mod release_server;
pub mod runner;
mod self_release;
pub mod validate;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::Digest;

use crate::harness::repo_root;

pub const REPOSITORY: &str = "acme/cicd";
pub const VERSION: &str = "1.2.3";
pub const TARGET: &str = "x86_64-unknown-linux-musl";

pub fn asset_name() -> String {
    format!("cicd-{VERSION}-{TARGET}.tar.gz")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The release archive of the `cicd` binary under test, built once per test process.
pub fn real_archive() -> &'static [u8] {
    static ARCHIVE: OnceLock<Vec<u8>> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let binary = std::fs::read(env!("CARGO_BIN_EXE_cicd")).expect("read the cicd binary");
        archive_of(&binary)
    })
}

/// A release archive (`cicd-VERSION-TARGET/cicd`, mode 0755) holding `binary`.
pub fn archive_of(binary: &[u8]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(binary.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    tar.append_data(&mut header, format!("cicd-{VERSION}-{TARGET}/cicd"), binary)
        .expect("append");
    let mut gz = tar.into_inner().expect("tar");
    gz.flush().expect("flush");
    gz.finish().expect("gzip")
}

/// A copy of this repository's action (action.yml and action/*.sh as committed) whose
/// checksum table is `table`.
pub fn action_copy(dir: &Path, table: &str) -> PathBuf {
    let action = dir.join("action-src");
    std::fs::create_dir_all(action.join("action")).expect("mkdir");
    std::fs::copy(repo_root().join("action.yml"), action.join("action.yml")).expect("copy");
    for script in ["install.sh", "run.sh"] {
        std::fs::copy(
            repo_root().join("action").join(script),
            action.join("action").join(script),
        )
        .expect("copy script");
    }
    std::fs::write(action.join("action/checksums.txt"), table).expect("write table");
    action
}

/// A checksum table as the release flow writes it (action/update-checksums.sh).
pub fn table_for(archive: &[u8]) -> String {
    format!(
        "# cicd release table\n# repository: {REPOSITORY}\n# version: {VERSION}\n{}  {}\n{}  cicd-{VERSION}-aarch64-unknown-linux-musl.tar.gz\n",
        sha256_hex(archive),
        asset_name(),
        "0".repeat(64)
    )
}

/// The runner's environment for a Linux X64 job: tool cache, temp, output file, server.
pub struct Runner {
    pub root: tempfile::TempDir,
    pub server_url: String,
    pub os: &'static str,
    pub arch: &'static str,
}

impl Runner {
    pub fn new(server_url: &str) -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        for d in ["toolcache", "temp", "workspace"] {
            std::fs::create_dir(root.path().join(d)).expect("mkdir");
        }
        Self {
            root,
            server_url: server_url.to_owned(),
            os: "Linux",
            arch: "X64",
        }
    }
    pub fn tool_cache(&self) -> PathBuf {
        self.root.path().join("toolcache")
    }
    pub fn workspace(&self) -> PathBuf {
        self.root.path().join("workspace")
    }
    pub fn env(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        [
            ("PATH", path.as_str()),
            ("HOME", self.root.path().to_str().expect("utf-8")),
            ("RUNNER_OS", self.os),
            ("RUNNER_ARCH", self.arch),
            (
                "RUNNER_TOOL_CACHE",
                self.tool_cache().to_str().expect("utf-8"),
            ),
            (
                "RUNNER_TEMP",
                self.root.path().join("temp").to_str().expect("utf-8"),
            ),
            ("GITHUB_SERVER_URL", self.server_url.as_str()),
            ("GITHUB_API_URL", crate::harness::NOWHERE),
            ("GITHUB_ACTIONS", "true"),
            (
                "GITHUB_WORKSPACE",
                self.workspace().to_str().expect("utf-8"),
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }
}

/// Serves `archive` as the release asset for Linux X64.
pub fn serve(archive: &[u8]) -> release_server::ReleaseServer {
    let mut assets = BTreeMap::new();
    assets.insert(asset_name(), archive.to_vec());
    release_server::ReleaseServer::start(REPOSITORY, &format!("v{VERSION}"), assets)
}
