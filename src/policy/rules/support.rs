//! What the hardening rules share: walking compose services and workflow jobs/steps with
//! their symbolic paths, secret-looking variable names, scanner and push recognition, and
//! locating a piece of text inside a (block) scalar.

use crate::inputs::document::{Document, Kind};
use crate::inputs::yaml::Node;
use crate::report::Location;

/// Every compose service: (name, node, `services.<name>`).
pub fn services(doc: &Document) -> Vec<(&str, &Node, String)> {
    if doc.source.kind != Kind::Compose {
        return Vec::new();
    }
    let mut out = Vec::new();
    for root in &doc.yaml {
        let Some(services) = root.get("services") else {
            continue;
        };
        for (name, service) in services.entries() {
            if service.is_map() {
                out.push((name, service, format!("services.{name}")));
            }
        }
    }
    out
}

/// A service's `environment:` as (name, value node, the node to point at, symbolic path);
/// the list form (`- KEY=value`) gives the item, whose value is the text after `=`.
pub struct EnvVar<'a> {
    pub name: String,
    /// The value as written (`None`: no value, taken from the shell).
    pub value: Option<String>,
    pub node: &'a Node,
    pub path: String,
}

pub fn environment<'a>(service: &'a Node, base: &str) -> Vec<EnvVar<'a>> {
    let Some(env) = service.get("environment") else {
        return Vec::new();
    };
    if let Some(items) = env.as_seq() {
        return items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let text = item.as_str()?;
                let (name, value) = match text.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (text, None),
                };
                Some(EnvVar {
                    name: name.trim().to_owned(),
                    value,
                    node: item,
                    path: format!("{base}.environment[{i}]"),
                })
            })
            .collect();
    }
    env.entries()
        .into_iter()
        .map(|(name, node)| EnvVar {
            name: name.to_owned(),
            value: node.as_str().map(str::to_owned),
            node,
            path: format!("{base}.environment.{name}"),
        })
        .collect()
}

/// `*PASSWORD*`, `*PASSWD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, `*_KEY`; not the `_FILE`,
/// `_PATH` and `_DIR` variables that name where a secret is read from.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if ["_FILE", "_PATH", "_DIR"]
        .iter()
        .any(|s| upper.ends_with(s))
    {
        return false;
    }
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY"]
        .iter()
        .any(|w| upper.contains(w))
        || upper.ends_with("_KEY")
}

/// A workflow's jobs: (id, job node, `jobs.<id>`).
pub fn jobs(doc: &Document) -> Vec<(&str, &Node, String)> {
    if doc.source.kind != Kind::Workflow {
        return Vec::new();
    }
    let mut out = Vec::new();
    for root in &doc.yaml {
        let Some(jobs) = root.get("jobs") else {
            continue;
        };
        for (id, job) in jobs.entries() {
            if job.is_map() {
                out.push((id, job, format!("jobs.{id}")));
            }
        }
    }
    out
}

/// A job's steps: (index, step node, `<job>.steps[i]`).
pub fn steps<'a>(job: &'a Node, base: &str) -> Vec<(&'a Node, String)> {
    job.get("steps")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_map())
        .map(|(i, s)| (s, format!("{base}.steps[{i}]")))
        .collect()
}

/// `uses:` without its `@ref`, lower-cased (`aquasecurity/trivy-action`).
pub fn action_name(step: &Node) -> Option<String> {
    let uses = step.get("uses")?.as_str()?;
    let name = uses.split('@').next().unwrap_or(uses);
    Some(name.to_ascii_lowercase())
}

/// `true` written as a YAML boolean or string; expressions are not known statically.
pub fn is_true(node: &Node) -> bool {
    node.as_str()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"))
}

/// Security-scanner actions (owner/repo prefixes).
const SCANNER_ACTIONS: &[&str] = &[
    "aquasecurity/trivy-action",
    "aquasecurity/tfsec-action",
    "github/codeql-action",
    "anchore/scan-action",
    "snyk/actions",
    "returntocorp/semgrep-action",
    "semgrep/semgrep-action",
    "pypa/gh-action-pip-audit",
    "pycqa/bandit-action",
    "securego/gosec",
    "bridgecrewio/checkov-action",
    "zizmorcore/zizmor-action",
    "rustsec/audit-check",
    "actions-rs/audit-check",
    "embarkstudios/cargo-deny-action",
    "docker/scout-action",
    "google/osv-scanner-action",
];

/// Scanner command lines: each entry is the words a line must contain in order.
const SCANNER_COMMANDS: &[&[&str]] = &[
    &["trivy"],
    &["bandit"],
    &["semgrep"],
    &["grype"],
    &["snyk"],
    &["pip-audit"],
    &["safety", "check"],
    &["safety", "scan"],
    &["gosec"],
    &["checkov"],
    &["zizmor"],
    &["osv-scanner"],
    &["npm", "audit"],
    &["yarn", "audit"],
    &["pnpm", "audit"],
    &["cargo", "audit"],
    &["cargo", "deny"],
    &["cicd", "check"],
];

/// Scanners of container images, for `image-not-scanned`.
const IMAGE_SCANNER_ACTIONS: &[&str] = &[
    "aquasecurity/trivy-action",
    "anchore/scan-action",
    "snyk/actions/docker",
    "docker/scout-action",
];
const IMAGE_SCANNER_COMMANDS: &[&[&str]] = &[
    &["trivy"],
    &["grype"],
    &["snyk", "container"],
    &["docker", "scout"],
    &["cicd", "check", "trivy"],
];

fn action_matches(name: &str, list: &[&str]) -> bool {
    list.iter()
        .any(|a| name == *a || name.starts_with(&format!("{a}/")))
}

/// The words of a shell line, split on blanks and shell punctuation.
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`'))
        .filter(|w| !w.is_empty())
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect()
}

/// Whether a shell line runs one of `commands` (its words appear consecutively).
fn line_runs(line: &str, commands: &[&[&str]]) -> bool {
    let words = words(line);
    commands.iter().any(|cmd| {
        words
            .windows(cmd.len())
            .any(|w| w.iter().zip(cmd.iter()).all(|(a, b)| a == b))
    })
}

/// Whether a step runs a security scanner (by action or by command).
pub fn is_scanner_step(step: &Node) -> bool {
    if let Some(name) = action_name(step) {
        return action_matches(&name, SCANNER_ACTIONS);
    }
    run_lines(step).any(|l| line_runs(l, SCANNER_COMMANDS))
}

/// Whether a step scans a container image.
pub fn is_image_scan_step(step: &Node) -> bool {
    if let Some(name) = action_name(step) {
        return action_matches(&name, IMAGE_SCANNER_ACTIONS);
    }
    run_lines(step).any(|l| line_runs(l, IMAGE_SCANNER_COMMANDS))
}

/// The lines of a step's `run:` that run a scanner and ignore its failure (`|| true`,
/// `|| :`, `|| exit 0`).
pub fn ignored_scanner_lines(step: &Node) -> Vec<&str> {
    run_lines(step)
        .filter(|l| line_runs(l, SCANNER_COMMANDS))
        .filter(|l| {
            let compact: String = l.split_whitespace().collect::<Vec<_>>().join(" ");
            ["|| true", "||true", "|| :", "|| exit 0"]
                .iter()
                .any(|p| compact.trim_end().ends_with(p))
        })
        .collect()
}

/// The lines of a step's `run:` script (none for an action step).
pub fn run_lines(step: &Node) -> impl Iterator<Item = &str> {
    step.get("run")
        .and_then(Node::as_str)
        .unwrap_or_default()
        .lines()
}

/// Where `needle` is written inside `node` (a scalar, possibly a block spanning lines);
/// falls back to the node itself.
pub fn locate(doc: &Document, node: &Node, needle: &str, symbolic: String) -> Location {
    let span = node.span();
    for line_no in span.start.line..=span.end.line {
        let Some(line) = doc.source.text.line(line_no) else {
            break;
        };
        if let Some(byte) = line.find(needle) {
            let column = line[..byte].chars().count() + 1;
            return doc.line_location(line_no, column, needle.chars().count(), symbolic);
        }
    }
    doc.location(node, symbolic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "POSTGRES_PASSWORD",
            "GF_SECURITY_ADMIN_PASSWORD",
            "JWT_SECRET",
            "GITHUB_TOKEN",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "OPENAI_API_KEY",
            "SECRET_KEY",
            "api_key",
            "MINIO_ROOT_PASSWD",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "POSTGRES_PASSWORD_FILE",
            "POSTGRES_USER",
            "KEYCLOAK_URL",
            "TOKEN_DIR",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn scanner_lines() {
        assert!(line_runs("trivy image app:1 || true", SCANNER_COMMANDS));
        assert!(line_runs("npm audit --audit-level=high", SCANNER_COMMANDS));
        assert!(line_runs("/usr/local/bin/bandit -r src", SCANNER_COMMANDS));
        assert!(!line_runs("echo npm run audit-docs", SCANNER_COMMANDS));
        assert!(!line_runs("cargo build", SCANNER_COMMANDS));
        assert!(line_runs("cicd check trivy r.json", IMAGE_SCANNER_COMMANDS));
        assert!(!line_runs("cicd check --offline", IMAGE_SCANNER_COMMANDS));
    }
}
