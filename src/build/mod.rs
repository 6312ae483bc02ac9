//! `cicd build`: multi-platform images from `images:` in `cicd.yaml`. Backends: `native`
//! layer assembly without a daemon or QEMU, written straight into the destination through
//! `oci::Store`; `buildah`, whose staging layout [`publish`] sends on; `buildx`, which pushes
//! itself. By digest; a tag only when asked. Fan-out records, `merge` and `plan matrix` too.

pub mod buildah;
pub mod buildx;
pub mod config;
pub mod job;
pub mod layer;
pub mod merge;
pub mod native;
pub mod plan;
pub mod platform;
pub mod publish;
pub mod record;
pub mod reuse;
pub mod source;
pub mod split;
pub mod stream;
pub mod tool;

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::error::Exit;
use crate::oci::error::OciError;

#[derive(Debug, Error)]
pub enum BuildError {
    /// A source file, record or flag the user can fix (exit 2).
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },

    #[error("{0}")]
    Usage(String),

    #[error("`{tool}` is not installed or not on PATH: {hint}")]
    MissingTool { tool: String, hint: String },

    /// The build tool ran and failed (exit 3); its own words follow.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Tool {
        command: String,
        status: String,
        stderr: String,
    },

    #[error(transparent)]
    Oci(#[from] OciError),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BuildError {
    pub fn exit(&self) -> Exit {
        match self {
            BuildError::Input { .. } | BuildError::Usage(_) | BuildError::MissingTool { .. } => {
                Exit::BadInput
            }
            BuildError::Oci(e) if e.is_bad_input() => Exit::BadInput,
            BuildError::Tool { .. } | BuildError::Oci(_) | BuildError::Io { .. } => Exit::External,
        }
    }

    pub fn io(path: &Path) -> impl Fn(std::io::Error) -> BuildError + use<> {
        let path = path.to_path_buf();
        move |source| BuildError::Io {
            path: path.clone(),
            source,
        }
    }
}

/// One platform of a finished build.
#[derive(Clone, Debug, Serialize)]
pub struct PlatformResult {
    pub platform: String,
    pub digest: String,
    pub size: u64,
}

/// What a build (or merge) produced at its destination.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub image: String,
    pub destination: String,
    /// The index, or the single platform's manifest when `--platform` built one.
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub platforms: Vec<PlatformResult>,
    /// Tags written (only with `--tag`).
    pub tags: Vec<String>,
    /// Layers written once and shared by several platforms.
    pub shared_layers: usize,
    /// Per platform (in the order of `platforms`), the layers this run made from local files
    /// (native builds; empty for the other backends and for merges).
    #[serde(skip)]
    pub local_layers: Vec<Vec<layer::Local>>,
}
