//! GitHub: the Actions runtime (outputs, step summary, annotations, masking), the REST API
//! client (`api`) and Git's smart HTTP protocol (`git`). Both clients are built on the one
//! HTTP stack in [`crate::http`]; nothing here builds a client or retries on its own.

pub mod actions;
pub mod api;
pub mod deployments;
pub mod git;
pub mod releases;
