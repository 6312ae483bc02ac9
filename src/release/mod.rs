//! Releases: the next version from conventional commits, the changelog, the git tag, and the
//! image tag scheme. `cicd release`'s pipeline (GitHub release, assets, plan) builds on these.

pub mod changelog;
pub mod commits;
pub mod git;
pub mod gittag;
pub mod tags;
pub mod version;

pub mod assets;
pub mod evidence;
pub mod existing;
pub mod github;
pub mod notes;
pub mod pipeline;
pub mod plan;
pub mod promote;
pub mod sums_bundle;

use thiserror::Error;

use crate::error::Exit;

/// What stops `cicd release` after it started; [`PipelineError::exit`] maps each to its code.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Input the user fixes: version, config, assets (exit 2).
    #[error("{0}")]
    Plan(String),
    #[error(transparent)]
    Asset(#[from] assets::AssetError),
    #[error(transparent)]
    Oci(#[from] crate::oci::error::OciError),
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),
    #[error(transparent)]
    Publish(#[from] github::PublishError),
    #[error(transparent)]
    Keyless(#[from] crate::sign::keyless::KeylessError),
    #[error("could not write {0}: {1}")]
    Write(std::path::PathBuf, std::io::Error),
}

impl From<plan::PlanError> for PipelineError {
    fn from(e: plan::PlanError) -> Self {
        PipelineError::Plan(e.0)
    }
}

impl PipelineError {
    pub fn exit(&self) -> Exit {
        match self {
            PipelineError::Plan(_) | PipelineError::Asset(_) => Exit::BadInput,
            PipelineError::Publish(
                github::PublishError::Changed { .. } | github::PublishError::Moved { .. },
            ) => Exit::BadInput,
            PipelineError::Oci(e) if e.is_bad_input() => Exit::BadInput,
            PipelineError::Build(e) => e.exit(),
            PipelineError::Keyless(e) => e.exit(),
            PipelineError::Oci(_)
            | PipelineError::Sbom(_)
            | PipelineError::Publish(_)
            | PipelineError::Write(..) => Exit::External,
        }
    }
}

/// What can stop `version`, `changelog` or `tag`; each names what to do.
#[derive(Debug, Error)]
pub enum ReleaseError {
    #[error("could not run git: {0} (install git, or put it on PATH)")]
    GitMissing(String),
    #[error("{command}: {message}")]
    Git { command: String, message: String },
    #[error("`{0}` names no commit in this repository")]
    UnknownRef(String),
    #[error("{0}")]
    ReleaseAs(String),
    #[error("the working tree has uncommitted changes ({0}); commit or stash them first")]
    Dirty(String),
    #[error("tag {0} already exists; nothing to tag (run `cicd version next` to see what is next)")]
    TagExists(String),
    #[error(
        "HEAD is not on the default branch {branch}: a release tag belongs there (pass --allow-branch to tag anyway)"
    )]
    NotOnDefaultBranch { branch: String },
    #[error(
        "this is a shallow clone: tags and history are missing, so the version cannot be computed (fetch everything: `git fetch --unshallow --tags`, or actions/checkout with `fetch-depth: 0`)"
    )]
    Shallow,
    #[error("{path}: {reason}")]
    Changelog { path: String, reason: String },
    #[error("could not push {tag} to {remote}: {message}")]
    Push {
        tag: String,
        remote: String,
        message: String,
    },
}

impl ReleaseError {
    pub fn exit(&self) -> Exit {
        match self {
            ReleaseError::GitMissing(_) | ReleaseError::Push { .. } => Exit::External,
            _ => Exit::BadInput,
        }
    }
}
