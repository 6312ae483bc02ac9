//! The result of a gate (`cicd check trivy`): passed, failed or error, why, and the counts a
//! job summary and `$GITHUB_OUTPUT` show. Computed by the gate, only carried here; typed so
//! that a renamed field breaks the build, not the output.

use std::collections::BTreeMap;

use serde::Serialize;

/// What the gate decided. `Error`: an input could not be read, so nothing may pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    #[default]
    Passed,
    Failed,
    Error,
}

impl Verdict {
    /// `passed`, `failed` or `error`: the `result` output and JSON field.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Error => "error",
        }
    }
}

/// Findings in force (after ignores) by severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown: usize,
}

/// One ignore and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IgnoreRow {
    pub id: String,
    pub source: String,
    /// `applied`, `expiring`, `expired` or `stale`.
    pub status: &'static str,
    pub matched: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A baseline finding gone from the current reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fixed {
    pub class: &'static str,
    pub id: String,
    pub severity: String,
    pub package: Option<String>,
    pub installed: Option<String>,
    pub target: String,
}

/// A gate's decision. Serialised as the `gate` object of `--format json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Gate {
    /// `true` unless the gate passed: a gate that read nothing never passes.
    pub failed: bool,
    pub result: Verdict,
    /// One sentence per reason it failed or could not decide (empty when it passed).
    pub reasons: Vec<String>,
    /// Findings that count against the gate.
    pub failing: usize,
    /// With a baseline: findings not in it (`None` without a baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<usize>,
    pub counts: Counts,
    /// The severities that fail, highest first (`CRITICAL`, `HIGH` …).
    pub fail_on: Vec<String>,
    pub failing_by_class: BTreeMap<&'static str, usize>,
    /// With a baseline: its findings gone from the reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Vec<Fixed>>,
    pub ignore_unfixed: bool,
    /// Findings an ignore applied to.
    pub ignored: usize,
    pub ignores: Vec<IgnoreRow>,
    /// Each report read, with its format and artifact.
    pub inputs: Vec<String>,
}
