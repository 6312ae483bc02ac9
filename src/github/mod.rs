//! GitHub: the Actions runtime (outputs, step summary, annotations, masking). The REST API
//! client joins here when a command needs it.

pub mod actions;
pub mod api;
pub mod git;
