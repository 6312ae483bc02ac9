//! `excessive-permissions`: jobs that run with the default `GITHUB_TOKEN` permissions (no
//! `permissions:` at the top or on the job), or with `permissions: write-all`.

use super::support::jobs;
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ExcessivePermissions;

static META: RuleMeta = RuleMeta {
    id: "excessive-permissions",
    summary: "workflow token with default or write-all permissions",
    help: "Without a `permissions:` key the `GITHUB_TOKEN` gets the repository's default, \
           which is read-write to contents, packages, pull requests and more on many \
           repositories; `write-all` grants everything. Any step (a compromised action, an \
           injected script) can then push code or publish packages. Start the workflow with \
           `permissions: {}` (or `contents: read`) and grant each job only what it needs.",
    help_url: "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token",
    default_severity: Severity::Medium,
    online: false,
};

fn is_write_all(node: &Node) -> bool {
    node.as_str().is_some_and(|s| s.trim() == "write-all")
}

impl Rule for ExcessivePermissions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        let jobs = jobs(doc);
        if jobs.is_empty() {
            return;
        }
        let top = doc.yaml.iter().find_map(|r| r.get("permissions"));
        if let Some(node) = top.filter(|n| is_write_all(n)) {
            let location = doc.location(node, "permissions");
            cx.report(
                Severity::Medium,
                &location,
                "permissions: write-all",
                "the workflow grants its token `write-all`: every job can push code, publish packages and change settings".into(),
                "replace with `permissions: {}` and grant each job what it needs (`contents: read`, `packages: write` …)".into(),
            );
        }
        for (job_id, job, base) in jobs {
            match job.get("permissions") {
                Some(node) if is_write_all(node) => {
                    let location = doc.location(node, format!("{base}.permissions"));
                    cx.report(
                        Severity::Medium,
                        &location,
                        "permissions: write-all",
                        format!("job `{job_id}` grants its token `write-all`"),
                        "list only the scopes the job needs (`contents: read`, `packages: write` …)".into(),
                    );
                }
                Some(_) => {}
                None if top.is_none() => {
                    let Some(key) = doc
                        .yaml
                        .iter()
                        .find_map(|r| r.get("jobs").and_then(|j| j.key_node(job_id)))
                    else {
                        continue;
                    };
                    let location = doc.location(key, base.clone());
                    cx.report(
                        Severity::Medium,
                        &location,
                        job_id,
                        format!("job `{job_id}` runs with the repository's default token permissions: neither it nor the workflow sets `permissions:`"),
                        "add `permissions: {}` at the top of the workflow (or `contents: read`) and grant this job only what it needs".into(),
                    );
                }
                None => {}
            }
        }
    }
}
