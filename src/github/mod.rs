//! GitHub: the Actions runtime (outputs, step summary, annotations, masking), the REST API
//! client (`api`) and Git's smart HTTP protocol (`git`). Both clients are built on the one
//! HTTP stack in [`crate::http`]; nothing here builds a client or retries on its own.

/// The largest JSON answer expected from GitHub's REST API (a page of 100 releases).
pub const MAX_JSON_BYTES: usize = 16 << 20;

pub mod actions;
pub mod api;
pub mod deployments;
pub mod git;
pub mod releases;
