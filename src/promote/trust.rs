//! The trust material one promotion run verifies with: the trusted root (`CICD_TRUST_CONFIG`,
//! else the embedded public-good snapshot) read and turned into a verifier at most once per
//! run, and only when a check needs it, then shared by every environment and every check —
//! keyless signatures, and the log entries of key-based signatures and attestations.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use sigstore_verify::Verifier;

use crate::sign::keyless::{trust, verify};

/// The run's verifiers, built on first use.
pub struct Verifiers {
    path: Option<PathBuf>,
    root: OnceLock<Result<Arc<Verifier>, String>>,
    /// How many times the trusted root was loaded (0 or 1).
    loads: AtomicUsize,
}

impl std::fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifiers")
            .field("path", &self.path)
            .field("loaded", &self.root.get().is_some())
            .finish()
    }
}

impl Default for Verifiers {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Verifiers {
    /// Trust from `path`, else the embedded public-good root.
    pub fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            root: OnceLock::new(),
            loads: AtomicUsize::new(0),
        }
    }

    /// Trust from `CICD_TRUST_CONFIG`, else the embedded public-good root.
    pub fn from_env() -> Arc<Self> {
        Arc::new(Self::new(crate::commands::keyless::trust_config_from_env()))
    }

    /// The verifier of the trusted root, or why it cannot be had (a failed check, never a
    /// pass).
    pub fn root(&self) -> Result<Arc<Verifier>, String> {
        self.root
            .get_or_init(|| {
                self.loads.fetch_add(1, Ordering::Relaxed);
                trust::load(self.path.as_deref())
                    .and_then(|t| verify::verifier(&t))
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// The log check for a key-based policy: none with `ignore_tlog`; without a loadable
    /// root, none either, so a log entry then fails to verify.
    pub fn log(&self, ignore_tlog: bool) -> Option<Arc<Verifier>> {
        if ignore_tlog { None } else { self.root().ok() }
    }

    /// How many times the trusted root was loaded so far.
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_loaded_once_and_only_when_asked() {
        let v = Verifiers::new(Some(PathBuf::from("/nonexistent/trust.json")));
        assert_eq!(v.loads(), 0);
        assert!(v.log(true).is_none());
        assert_eq!(v.loads(), 0, "ignoring the log loads nothing");
        let first = v.root();
        let second = v.root();
        assert!(first.is_err() && second.is_err());
        assert!(v.log(false).is_none());
        assert_eq!(v.loads(), 1);
    }
}
