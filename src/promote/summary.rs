//! The step summary of a promotion or rollback: environment, digest, version, the evidence
//! and what it said, the previous digest and the rollback command, and a Mermaid diagram of
//! the digest's path (built → signed → scanned → each environment). Every value from input
//! or a registry is escaped for Markdown; diagram labels are built from validated names only.

use crate::report::escape::{markdown, markdown_code};

use super::Outcome;

/// Markdown for `$GITHUB_STEP_SUMMARY`. `chain` is the environments in `after:` order up to
/// and including this one.
pub fn render(out: &Outcome, chain: &[String]) -> String {
    let mut s = String::new();
    let verb = match (out.kind, out.promoted(), out.dry_run) {
        (_, false, _) => "refused",
        (_, true, true) => "dry run",
        ("rollback", true, false) => "rolled back",
        _ => "promoted",
    };
    s.push_str(&format!(
        "### cicd promote: {} {}\n\n",
        markdown(&out.environment),
        verb
    ));
    s.push_str("| | |\n|---|---|\n");
    let row = |s: &mut String, k: &str, v: String| s.push_str(&format!("| {k} | {v} |\n"));
    row(&mut s, "environment", markdown_code(&out.environment));
    row(&mut s, "digest", markdown_code(&out.digest));
    if let Some(v) = &out.version {
        row(&mut s, "version", markdown_code(v));
    }
    row(&mut s, "repository", markdown_code(&out.destination));
    row(
        &mut s,
        "previous digest",
        out.previous_digest
            .as_deref()
            .map_or("none".into(), markdown_code),
    );
    if let Some(t) = &out.history_tag {
        row(&mut s, "history entry", markdown_code(t));
    }
    if let Some(f) = &out.rolled_back_from {
        row(&mut s, "rolled back from", markdown_code(f));
    }
    if out.forced {
        row(&mut s, "forced", "yes: evidence was not re-verified".into());
    }
    s.push_str("\n#### Evidence\n\n| evidence | verified | detail |\n|---|---|---|\n");
    for c in out.evidence.iter().chain(&out.evidence_at_destination) {
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            markdown(&c.evidence),
            if c.verified { "✅ yes" } else { "❌ no" },
            markdown(&c.detail)
        ));
    }
    if !out.refused.is_empty() {
        s.push_str("\n#### Refused\n\n");
        for r in &out.refused {
            s.push_str(&format!("- {}\n", markdown(r)));
        }
    }
    if out.promoted() && !out.dry_run {
        s.push_str(&format!(
            "\nTo roll back: `cicd promote --rollback {}`\n",
            out.environment.replace('`', "")
        ));
    }
    s.push_str(&diagram(out, chain));
    s
}

fn diagram(out: &Outcome, chain: &[String]) -> String {
    let has = |what: &str| {
        out.evidence
            .iter()
            .any(|c| c.evidence.starts_with(what) && c.verified)
    };
    let mut nodes: Vec<(String, String, bool)> = vec![
        ("built".into(), "built".into(), !out.digest.is_empty()),
        ("signed".into(), "signed".into(), has("signature")),
        ("scanned".into(), "scanned".into(), has("scan")),
    ];
    for (i, env) in chain.iter().enumerate() {
        let done = i + 1 < chain.len() || (out.promoted() && !out.dry_run);
        nodes.push((format!("env{i}"), label(env), done));
    }
    let mut s = String::from("\n```mermaid\nflowchart LR\n");
    for (id, text, _) in &nodes {
        s.push_str(&format!("  {id}[\"{text}\"]\n"));
    }
    let ids: Vec<&str> = nodes.iter().map(|(id, _, _)| id.as_str()).collect();
    s.push_str(&format!("  {}\n", ids.join(" --> ")));
    s.push_str("  classDef done fill:#d4f8d4,stroke:#2da44e\n  classDef todo fill:#f6f8fa,stroke:#8c959f,stroke-dasharray: 4\n");
    for (id, _, done) in &nodes {
        s.push_str(&format!(
            "  class {id} {}\n",
            if *done { "done" } else { "todo" }
        ));
    }
    s.push_str("```\n");
    s
}

/// A Mermaid label: letters, digits and `-_.` only (environment names are validated to that).
fn label(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_. ".contains(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::evidence::Check;

    #[test]
    fn escapes_input_and_draws_the_path() {
        let out = Outcome {
            environment: "production".into(),
            kind: "promote",
            digest: "sha256:ab".into(),
            version: Some("1.0.0|<b>".into()),
            evidence: vec![Check {
                evidence: "signature".into(),
                verified: true,
                detail: "key `x`\n::error::boom".into(),
            }],
            ..Outcome::default()
        };
        let md = render(&out, &["staging".into(), "production\"]-->x".into()]);
        assert!(md.contains("1.0.0\\|\\<b\\>"), "{md}");
        assert!(!md.contains("\n::error"), "{md}");
        assert!(
            md.contains("built --> signed --> scanned --> env0 --> env1"),
            "{md}"
        );
        assert!(md.contains("env1[\"production--x\"]"), "{md}");
        assert!(md.contains("class signed done") && md.contains("class scanned todo"));
        assert!(md.contains("cicd promote --rollback production"));
    }
}
