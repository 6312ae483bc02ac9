//! `scan-not-gating`: a trivy-action step whose inputs cannot fail the job.

use super::support::{action_name, jobs, steps};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ScanNotGating;

static META: RuleMeta = RuleMeta {
    id: "scan-not-gating",
    summary: "Trivy scan that cannot fail the job",
    help: "trivy-action exits 0 unless `exit-code` says otherwise, and with `format: sarif` it \
           reports every severity and still exits 0 (SARIF output ignores `severity` unless \
           `limit-severities-for-sarif` is set). Such a step uploads results nobody is made \
           to read. Set `exit-code: '1'` with a `severity:` threshold, or gate on the report \
           afterwards with `cicd check trivy REPORT --fail-on CRITICAL,HIGH`.",
    help_url: "https://github.com/aquasecurity/trivy-action#inputs",
    default_severity: Severity::Medium,
    online: false,
};

impl Rule for ScanNotGating {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (_, job, base) in jobs(doc) {
            for (step, path) in steps(job, &base) {
                if action_name(step).as_deref() != Some("aquasecurity/trivy-action") {
                    continue;
                }
                let with = step.get("with");
                let input = |k: &str| with.and_then(|w| w.get(k));
                let exit_code = input("exit-code");
                let fix = "set `exit-code: '1'` and a `severity:` threshold, or gate afterwards with `cicd check trivy REPORT --fail-on CRITICAL,HIGH`";
                if let Some(node) = exit_code
                    && node.as_str().map(str::trim) == Some("0")
                {
                    let location = doc.location(node, format!("{path}.with.exit-code"));
                    cx.report(
                        Severity::Medium,
                        &location,
                        "exit-code: 0",
                        "trivy-action runs with `exit-code: 0`: whatever it finds, the job passes"
                            .into(),
                        fix.into(),
                    );
                    continue;
                }
                let sarif = input("format")
                    .and_then(Node::as_str)
                    .is_some_and(|f| f.trim().eq_ignore_ascii_case("sarif"));
                if sarif && exit_code.is_none() {
                    let node = input("format").unwrap_or(step);
                    let location = doc.location(node, format!("{path}.with.format"));
                    cx.report(
                        Severity::Medium,
                        &location,
                        "format: sarif",
                        "trivy-action writes SARIF without `exit-code`: it exits 0 whatever it finds (SARIF output also ignores `severity`)".into(),
                        fix.into(),
                    );
                }
            }
        }
    }
}
