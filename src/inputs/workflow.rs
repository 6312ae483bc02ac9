//! Reads workflows (`.github/workflows/*.yml`) and actions (`action.yml`): every `uses:`,
//! job container, service container and `docker://` image, with symbolic paths.

use crate::inputs::document::{Document, Image, ImageOrigin, Uses, UsesContext};
use crate::inputs::matrix::Scope;
use crate::inputs::uses::ActionRef;
use crate::inputs::yaml::Node;

/// Collects from every document of a workflow file.
pub fn read_workflow(doc: &mut Document, roots: &[Node]) {
    for root in roots {
        let workflow_env: Vec<(&Node, String)> = root
            .get("env")
            .map(|e| (e, "env".to_owned()))
            .into_iter()
            .collect();
        let Some(jobs) = root.get("jobs") else {
            continue;
        };
        for (job_id, job) in jobs.entries() {
            let base = format!("jobs.{job_id}");
            let mut envs = workflow_env.clone();
            if let Some(env) = job.get("env") {
                envs.push((env, format!("{base}.env")));
            }
            let matrix = job
                .get("strategy")
                .and_then(|s| s.get("matrix"))
                .map(|m| (m, format!("{base}.strategy.matrix")));
            let scope = Scope::new(matrix, &envs);

            if let Some(uses) = job.get("uses") {
                push_uses(
                    doc,
                    uses,
                    format!("{base}.uses"),
                    UsesContext::ReusableWorkflow,
                );
            }
            if let Some(container) = job.get("container") {
                let (node, path) = match container.get("image") {
                    Some(image) => (image, format!("{base}.container.image")),
                    None => (container, format!("{base}.container")),
                };
                push_images(doc, &scope, node, &path, ImageOrigin::JobContainer);
            }
            if let Some(services) = job.get("services") {
                for (name, service) in services.entries() {
                    let (node, path) = match service.get("image") {
                        Some(image) => (image, format!("{base}.services.{name}.image")),
                        None => (service, format!("{base}.services.{name}")),
                    };
                    push_images(doc, &scope, node, &path, ImageOrigin::Service);
                }
            }
            if let Some(steps) = job.get("steps") {
                read_steps(
                    doc,
                    &scope,
                    steps,
                    &format!("{base}.steps"),
                    UsesContext::Step,
                );
            }
        }
    }
}

/// Collects from an action's `runs:` (composite steps, or a docker action's image).
pub fn read_action(doc: &mut Document, roots: &[Node]) {
    for root in roots {
        let Some(runs) = root.get("runs") else {
            continue;
        };
        if let Some(steps) = runs.get("steps") {
            read_steps(
                doc,
                &Scope::default(),
                steps,
                "runs.steps",
                UsesContext::CompositeStep,
            );
        }
        if let Some(image) = runs.get("image")
            && let Some(text) = image.as_str()
            && let Some(reference) = text.strip_prefix("docker://")
        {
            let location = doc.location(image, "runs.image");
            doc.images.push(Image {
                value: reference.to_owned(),
                origin: ImageOrigin::ActionImage,
                location,
                via: None,
                unresolved: None,
                dynamic: None,
            });
        }
    }
}

fn read_steps(
    doc: &mut Document,
    scope: &Scope<'_>,
    steps: &Node,
    base: &str,
    context: UsesContext,
) {
    let Some(steps) = steps.as_seq() else { return };
    for (i, step) in steps.iter().enumerate() {
        let Some(uses) = step.get("uses") else {
            continue;
        };
        let path = format!("{base}[{i}].uses");
        match uses.as_str().map(ActionRef::parse) {
            Some(ActionRef::Docker(_)) => {
                push_images(doc, scope, uses, &path, ImageOrigin::StepDocker);
            }
            _ => push_uses(doc, uses, path, context),
        }
    }
}

fn push_uses(doc: &mut Document, node: &Node, path: String, context: UsesContext) {
    let Some(raw) = node.as_str() else { return };
    // GitHub evaluates no expressions in `uses:`; such a file fails before it runs.
    if raw.contains("${{") {
        return;
    }
    let location = doc.location(node, path);
    let comment = doc.trailing_comment(node);
    doc.uses.push(Uses {
        raw: raw.to_owned(),
        target: ActionRef::parse(raw),
        location,
        comment,
        context,
    });
}

/// Records the image(s) a node names, expanding static matrix and env expressions and the
/// literals of other expressions; what depends on inputs, vars or other run-time state is
/// recorded as dynamic (`unverifiable-image`).
fn push_images<'a>(
    doc: &mut Document,
    scope: &Scope<'a>,
    node: &'a Node,
    path: &str,
    origin: ImageOrigin,
) {
    let Some(expansions) = scope.expand(node, path) else {
        return;
    };
    for e in expansions {
        let value = e.value.strip_prefix("docker://").unwrap_or(&e.value).trim();
        if value.is_empty() {
            continue;
        }
        let location = doc.location(e.node, e.path);
        doc.images.push(Image {
            value: value.to_owned(),
            origin,
            location,
            via: e.via,
            unresolved: None,
            dynamic: e.dynamic,
        });
    }
}
