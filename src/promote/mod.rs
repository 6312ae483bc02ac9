//! `cicd promote`: moves one digest into an environment only when the environment's evidence
//! verifies (`evidence`, `attestations`, `scan`, with the run's `trust`), copying it with
//! every attachment when the environment lives in another repository and re-verifying there
//! (`flow`), keeps the
//! environment's append-only history in its repository (`history`, `tags`), rolls back to an
//! earlier entry (`rollback`), answers where a digest is (`status`), and renders the step
//! summary (`summary`). Knows nothing of the command line or GitHub.

pub mod attestations;
pub mod evidence;
pub mod flow;
pub mod history;
pub mod rollback;
pub mod scan;
pub mod status;
pub mod summary;
pub mod tags;
pub mod trust;

use serde::Serialize;
use thiserror::Error;

use crate::oci::error::OciError;
use crate::oci::transport::Location;

#[derive(Debug, Error)]
pub enum PromoteError {
    /// Bad input or usage (exit 2).
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Oci(#[from] OciError),
}

/// Who and when, for history records.
#[derive(Clone, Debug)]
pub struct Stamp {
    pub actor: String,
    /// Unix seconds (`CICD_NOW` in tests).
    pub now: i64,
    /// Unique per run.
    pub run: String,
}

impl Stamp {
    /// This run's: the actor from `GITHUB_ACTOR` (else `USER`), the time from `CICD_NOW` or
    /// the clock, and a run id `GITHUB_RUN_ID` (else `local`) with the process id and the
    /// clock's nanoseconds, unique even for two jobs of one workflow run.
    pub fn from_env(local: &str) -> Result<Self, String> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let now = crate::time::now()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Ok(Self {
            actor: var("GITHUB_ACTOR")
                .or_else(|| var("USER"))
                .unwrap_or_else(|| "unknown".into()),
            now,
            run: format!(
                "{}-{}-{nanos}",
                var("GITHUB_RUN_ID").unwrap_or_else(|| local.into()),
                std::process::id()
            ),
        })
    }
}

/// What a promotion or rollback did (or would do, or why it refused).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    pub environment: String,
    pub kind: &'static str,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub source: String,
    pub destination: String,
    pub tag: String,
    /// What the environment tag pointed at before (none for a first promotion).
    pub previous_digest: Option<String>,
    /// Checks at the source (or the environment's repository for a rollback).
    pub evidence: Vec<evidence::Check>,
    /// Checks repeated where the digest arrived (cross-repository promotions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence_at_destination: Vec<evidence::Check>,
    /// Why nothing was done; empty when promoted.
    pub refused: Vec<String>,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
    pub forced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copied: Option<Copied>,
    /// What `flow::verify` read ahead for the history claim (`flow::apply` uses it).
    #[serde(skip)]
    pub prepared: history::Prepared,
}

/// What the copy moved.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Copied {
    pub manifests: usize,
    pub blobs_copied: u64,
    pub blobs_mounted: u64,
    pub blobs_skipped: u64,
    pub bytes_uploaded: u64,
    pub attachments: Vec<String>,
}

impl Outcome {
    pub fn promoted(&self) -> bool {
        self.refused.is_empty()
    }
}

/// `loc` without tag or digest: the repository or layout itself.
pub fn repository_of(loc: &Location) -> Location {
    match loc {
        Location::Registry(r) => {
            let mut r = r.clone();
            r.tag = None;
            r.digest = None;
            Location::Registry(r)
        }
        Location::Layout { path, .. } => Location::Layout {
            path: path.clone(),
            tag: None,
            digest: None,
        },
    }
}

/// `repo` pinned to `digest`.
pub fn at_digest(repo: &Location, digest: &str) -> Location {
    match repository_of(repo) {
        Location::Registry(mut r) => {
            r.digest = Some(digest.to_owned());
            Location::Registry(r)
        }
        Location::Layout { path, .. } => Location::Layout {
            path,
            tag: None,
            digest: Some(digest.to_owned()),
        },
    }
}

/// Whether two locations are the same repository (or layout).
pub fn same_repository(a: &Location, b: &Location) -> bool {
    repository_of(a) == repository_of(b)
}
