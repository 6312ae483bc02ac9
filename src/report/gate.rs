//! The result of a gate (`cicd check trivy`): passed or failed, why, and the counts a job
//! summary and `$GITHUB_OUTPUT` show. Computed by the policy, only carried here.

use serde::Serialize;
use serde_json::{Map, Value};

/// A gate's decision. Serialised as the `gate` object of `--format json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Gate {
    pub failed: bool,
    /// One sentence per reason it failed (empty when it passed).
    pub reasons: Vec<String>,
    /// Findings that count against the gate.
    pub failing: usize,
    /// With a baseline: findings not in it (`None` without a baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<usize>,
    /// Everything else the gate wants machines to see (policy, ignores, fixed findings …).
    #[serde(flatten)]
    pub details: Map<String, Value>,
}
