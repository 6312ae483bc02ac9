//! `scan-continue-on-error`: a security scanner whose failure cannot fail the workflow
//! (`continue-on-error: true` on it or its job, or `|| true` after the command).

use super::support::{ignored_scanner_lines, is_scanner_step, is_true, jobs, locate, steps};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ScanContinueOnError;

static META: RuleMeta = RuleMeta {
    id: "scan-continue-on-error",
    summary: "security scan cannot fail the workflow",
    help: "A scanner step with `continue-on-error: true` (on the step or its job), or a \
           scanner command followed by `|| true`, reports a green check whatever it finds: \
           the scan is decoration. Let it fail, and tune what fails it (a severity \
           threshold, an ignore file with expiry dates, a baseline) instead of ignoring \
           every result.",
    help_url: "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepscontinue-on-error",
    default_severity: Severity::Medium,
    online: false,
};

impl Rule for ScanContinueOnError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (job_id, job, base) in jobs(doc) {
            let scanners: Vec<(&Node, String)> = steps(job, &base)
                .into_iter()
                .filter(|(s, _)| is_scanner_step(s))
                .collect();
            if scanners.is_empty() {
                continue;
            }
            if let Some(node) = job.get("continue-on-error").filter(|n| is_true(n)) {
                let location = doc.location(node, format!("{base}.continue-on-error"));
                cx.report(
                    Severity::Medium,
                    &location,
                    "continue-on-error: true",
                    format!("job `{job_id}` runs a security scan with `continue-on-error: true`: its findings never fail the workflow"),
                    "remove `continue-on-error`; set the scanner's own threshold (severity, ignore file) instead".into(),
                );
            }
            for (step, path) in scanners {
                let name = step_name(step);
                if let Some(node) = step.get("continue-on-error").filter(|n| is_true(n)) {
                    let location = doc.location(node, format!("{path}.continue-on-error"));
                    cx.report(
                        Severity::Medium,
                        &location,
                        "continue-on-error: true",
                        format!("security scan {name} has `continue-on-error: true`: its findings never fail the workflow"),
                        "remove `continue-on-error`; set the scanner's own threshold (severity, ignore file) instead".into(),
                    );
                }
                let Some(run) = step.get("run") else { continue };
                for line in ignored_scanner_lines(step) {
                    let line = line.trim();
                    let location = locate(doc, run, line, format!("{path}.run"));
                    cx.report(
                        Severity::Medium,
                        &location,
                        line,
                        format!("security scan {name} ends in an `||` that swallows its exit status: `{line}`"),
                        "drop the `|| true`; set the scanner's own threshold (severity, ignore file) instead".into(),
                    );
                }
            }
        }
    }
}

/// How a step is named in messages: its `name:`, else its `uses:`, else `run`.
pub fn step_name(step: &Node) -> String {
    step.get("name")
        .or_else(|| step.get("uses"))
        .and_then(Node::as_str)
        .map_or_else(|| "(a `run` step)".to_owned(), |n| format!("`{n}`"))
}
