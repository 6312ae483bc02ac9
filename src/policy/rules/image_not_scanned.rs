//! `image-not-scanned`: a workflow pushes a container image and none of its jobs scans one.

use super::support::{action_name, is_image_scan_step, is_true, jobs, locate, run_lines, steps};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ImageNotScanned;

static META: RuleMeta = RuleMeta {
    id: "image-not-scanned",
    summary: "workflow pushes an image that nothing scans",
    help: "An image pushed without a vulnerability scan in the same workflow ships whatever \
           its base and packages carry, and \"Trivy is mentioned in the README\" is not a \
           scan. Scan what you push in the same workflow (Trivy, Grype, Docker Scout) and gate \
           on the report: `trivy image --format json -o report.json IMAGE@DIGEST` then \
           `cicd check trivy report.json --fail-on CRITICAL,HIGH`. A job that calls a \
           reusable workflow whose path names a scan (`scan`, `trivy`, `grype`, `security`, \
           `vuln`) counts as scanning.",
    help_url: "https://trivy.dev/latest/docs/target/container_image/",
    default_severity: Severity::Low,
    online: false,
};

/// Words in a shell line that push an image.
const PUSH_COMMANDS: &[&[&str]] = &[
    &["docker", "push"],
    &["podman", "push"],
    &["buildah", "push"],
    &["docker", "image", "push"],
    &["cicd", "build"],
    &["cicd", "release"],
];

impl Rule for ImageNotScanned {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        let jobs = jobs(doc);
        let scanned = jobs.iter().any(|(_, job, base)| {
            steps(job, base).iter().any(|(s, _)| is_image_scan_step(s))
                || job.get("uses").and_then(Node::as_str).is_some_and(|u| {
                    let u = u.to_ascii_lowercase();
                    ["scan", "trivy", "grype", "security", "vuln"]
                        .iter()
                        .any(|w| u.contains(w))
                })
        });
        if scanned {
            return;
        }
        for (job_id, job, base) in &jobs {
            for (step, path) in steps(job, base) {
                let Some((node, subject, symbolic)) = push_of(step, &path) else {
                    continue;
                };
                let location = if node.as_str().is_some_and(|s| s.contains('\n')) {
                    locate(doc, node, &subject, symbolic)
                } else {
                    doc.location(node, symbolic)
                };
                cx.report(
                    Severity::Low,
                    &location,
                    &subject,
                    format!("job `{job_id}` pushes an image (`{subject}`) and no job of this workflow scans it"),
                    "scan what is pushed in this workflow and gate on it: `trivy image --format json -o report.json IMAGE@DIGEST` then `cicd check trivy report.json --fail-on CRITICAL,HIGH`".into(),
                );
            }
        }
    }
}

/// The node that makes a step push, what to call it, and its symbolic path.
fn push_of<'a>(step: &'a Node, path: &str) -> Option<(&'a Node, String, String)> {
    if action_name(step).is_some_and(|n| n == "docker/build-push-action") {
        let push = step.get("with")?.get("push")?;
        return is_true(push).then(|| (push, "push: true".to_owned(), format!("{path}.with.push")));
    }
    let run = step.get("run")?;
    let line = run_lines(step).find(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        PUSH_COMMANDS.iter().any(|cmd| {
            words
                .windows(cmd.len())
                .any(|w| w.iter().zip(cmd.iter()).all(|(a, b)| a == b))
        }) || (words.contains(&"buildx") && words.contains(&"--push"))
    })?;
    Some((run, line.trim().to_owned(), format!("{path}.run")))
}
