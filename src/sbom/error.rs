//! What can go wrong making an SBOM, each message naming the layer digest or path it is about.

use std::path::PathBuf;

use thiserror::Error;

use crate::oci::error::OciError;

#[derive(Debug, Error)]
pub enum SbomError {
    /// Reading the image from its store (registry or layout) failed.
    #[error(transparent)]
    Oci(#[from] OciError),

    /// A layer blob could not be read as a (compressed) tar stream.
    #[error("layer {digest} of {image}: {message}")]
    Layer {
        image: String,
        digest: String,
        message: String,
        /// The bytes stopped coming from a registry (exit 3), rather than being corrupt.
        external: bool,
    },

    /// A `dir:` root or a file under it could not be read.
    #[error("{path}: {message}")]
    Dir { path: PathBuf, message: String },

    /// What was asked for makes no sense for this image.
    #[error("{0}")]
    Usage(String),

    /// Writing the document failed (a bug: every model value is checked first).
    #[error("could not render the SBOM: {0}")]
    Render(String),
}

impl SbomError {
    /// The user can fix this by changing what they typed or the image they gave (exit 2),
    /// rather than an outside failure (exit 3). `local` is true for `oci:` and `dir:` inputs,
    /// where a missing or corrupt blob is the input's fault, not a registry's.
    pub fn is_bad_input(&self, local: bool) -> bool {
        match self {
            SbomError::Oci(e) => e.is_bad_input() || local,
            SbomError::Layer { external, .. } => !external,
            SbomError::Dir { .. } | SbomError::Usage(_) => true,
            SbomError::Render(_) => false,
        }
    }
}
