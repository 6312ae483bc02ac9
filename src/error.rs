//! The errors a command can end with, and the exit code each maps to.

use std::path::PathBuf;

use thiserror::Error;

use crate::config::ConfigError;

/// Process exit codes, as documented in `--help` and the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    Violation = 1,
    BadInput = 2,
    External = 3,
}

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error("{}{}", .0, flag_hint(.0))]
    Image(#[from] crate::oci::error::OciError),

    #[error(transparent)]
    Build(#[from] crate::build::BuildError),

    #[error(transparent)]
    Release(#[from] crate::release::ReleaseError),

    #[error("`cicd {0}` needs the network; run it without --offline")]
    NeedsNetwork(&'static str),

    #[error("could not start: {0}")]
    Runtime(String),

    #[error("{path}: {reason}")]
    BadInput { path: PathBuf, reason: String },

    /// A flag or environment value that makes no sense.
    #[error("{0}")]
    Usage(String),

    #[error(transparent)]
    Keyless(#[from] crate::sign::keyless::KeylessError),
    /// A service failed after retries (GitHub's API, a registry reached by a pipeline step).
    #[error("{0}")]
    External(String),

    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The command-line side of a registry's advice (`oci` names no flags).
fn flag_hint(e: &crate::oci::error::OciError) -> &'static str {
    match e.network_failure() {
        Some(crate::http::Failure::Tls) => " (pass --ca-cert FILE, or set SSL_CERT_FILE)",
        _ => "",
    }
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Config(_)
            | Error::NeedsNetwork(_)
            | Error::BadInput { .. }
            | Error::Usage(_) => Exit::BadInput,
            Error::Write { .. } | Error::Runtime(_) | Error::External(_) => Exit::External,
            Error::Image(e) if e.is_bad_input() => Exit::BadInput,
            Error::Image(_) => Exit::External,
            Error::Build(e) => e.exit(),
            Error::Release(e) => e.exit(),
            Error::Keyless(e) => e.exit(),
        }
    }
}
