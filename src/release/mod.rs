//! Releases: the next version from conventional commits, the changelog, the git tag, and the
//! image tag scheme. `cicd release`'s pipeline (GitHub release, assets, plan) builds on these.

pub mod tags;

pub mod assets;
pub mod evidence;
pub mod existing;
pub mod github;
pub mod notes;
pub mod pipeline;
pub mod plan;

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
            PipelineError::Publish(github::PublishError::Changed { .. }) => Exit::BadInput,
            PipelineError::Oci(e) if e.is_bad_input() => Exit::BadInput,
            PipelineError::Build(e) => e.exit(),
            PipelineError::Oci(_)
            | PipelineError::Sbom(_)
            | PipelineError::Publish(_)
            | PipelineError::Write(..) => Exit::External,
        }
    }
}
