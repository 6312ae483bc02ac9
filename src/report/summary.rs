//! The Markdown job summary written to `$GITHUB_STEP_SUMMARY`: counts by rule and a table
//! of findings.

use std::fmt::Write;

use super::{Report, Severity, Verdict, escape, slash_path};

/// Rows shown before the table is cut (a step summary is capped at 1 MiB).
const MAX_ROWS: usize = 200;

/// Input text in a table cell or list item.
fn cell(s: &str) -> String {
    escape::markdown(s)
}

pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## {}\n", report.title);
    if report.findings.is_empty() && report.problems.is_empty() {
        let _ = writeln!(md, ":white_check_mark: {}", report.headline());
        return md;
    }
    let _ = writeln!(md, "**{}**\n", report.headline());
    if !report.findings.is_empty() {
        let sevs: Vec<Severity> = report.by_severity().into_iter().map(|(s, _)| s).collect();
        let _ = write!(md, "| rule |");
        for s in &sevs {
            let _ = write!(md, " {s} |");
        }
        let _ = writeln!(md, " total |");
        let _ = writeln!(md, "|---|{}---:|", "---:|".repeat(sevs.len()));
        for (rule, counts) in report.by_rule() {
            let _ = write!(md, "| `{rule}` |");
            for s in &sevs {
                let _ = write!(md, " {} |", counts.get(s).copied().unwrap_or(0));
            }
            let _ = writeln!(md, " {} |", counts.values().sum::<usize>());
        }
        let _ = writeln!(
            md,
            "\n| severity | rule | location | finding |\n|---|---|---|---|"
        );
        for f in report.findings.iter().take(MAX_ROWS) {
            let loc = f
                .location
                .as_ref()
                .map(|l| {
                    escape::markdown_code(&format!(
                        "{}:{}:{}",
                        slash_path(&l.file),
                        l.start.line,
                        l.start.column
                    ))
                })
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} |",
                f.severity,
                f.rule,
                loc,
                cell(&f.message)
            );
        }
        if report.findings.len() > MAX_ROWS {
            let _ = writeln!(
                md,
                "\n…and {} more; see the annotations or the SARIF upload.",
                report.findings.len() - MAX_ROWS
            );
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(md, "\n### Inputs that could not be read\n");
        for p in &report.problems {
            let _ = writeln!(md, "- {}", cell(&p.to_string()));
        }
    }
    md
}

/// Rows of the gate summary's "top findings" table.
const TOP: usize = 20;

/// The job summary of a gate: verdict and reasons, counts by severity, new and fixed
/// against the baseline, the top findings (those failing the gate first), and notes such as
/// expiring or stale ignores.
pub fn gate_markdown(report: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## {}\n", report.title);
    let Some(gate) = &report.gate else {
        return markdown(report);
    };
    match gate.result {
        Verdict::Passed => {
            let _ = writeln!(md, ":white_check_mark: **gate passed**\n");
        }
        Verdict::Failed => {
            let _ = writeln!(md, ":x: **gate failed**\n");
        }
        Verdict::Error => {
            let _ = writeln!(
                md,
                ":x: **gate error**: an input could not be read, so there is no verdict\n"
            );
        }
    }
    for r in &gate.reasons {
        let _ = writeln!(md, "- {}", cell(r));
    }
    if !gate.reasons.is_empty() {
        let _ = writeln!(md);
    }
    if gate.result == Verdict::Error {
        problems(report, &mut md);
    }
    let c = &gate.counts;
    let _ = writeln!(md, "| critical | high | medium | low | unknown |");
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} |\n",
        c.critical, c.high, c.medium, c.low, c.unknown
    );
    if let Some(new) = gate.new {
        let fixed = gate.fixed.as_ref().map_or(0, Vec::len);
        let _ = writeln!(md, "Against the baseline: **{new} new**, {fixed} fixed.\n");
    }
    top_findings(report, &mut md);
    if !report.notes.is_empty() {
        let _ = writeln!(md, "\n### Notes\n");
        for note in &report.notes {
            let _ = writeln!(md, "- {}", cell(note));
        }
    }
    if gate.result != Verdict::Error {
        problems(report, &mut md);
    }
    md
}

fn problems(report: &Report, md: &mut String) {
    if !report.problems.is_empty() {
        let _ = writeln!(md, "\n### Reports that could not be read\n");
        for p in &report.problems {
            let _ = writeln!(md, "- {}", cell(&p.to_string()));
        }
        let _ = writeln!(md);
    }
}

/// The findings failing the gate first, then by severity; [`TOP`] of them.
fn top_findings(report: &Report, md: &mut String) {
    if report.findings.is_empty() {
        return;
    }
    let mut top: Vec<&super::Finding> = report.findings.iter().collect();
    top.sort_by_key(|f| {
        (
            !f.facts.as_ref().is_some_and(|s| s.fails_gate),
            std::cmp::Reverse(f.severity),
        )
    });
    let new = report.gate.as_ref().is_some_and(|g| g.new.is_some());
    let _ = writeln!(
        md,
        "| severity | id | package | installed | fixed | target | path |{}\n|---|---|---|---|---|---|---|{}",
        if new { " new |" } else { "" },
        if new { "---|" } else { "" },
    );
    for f in top.iter().take(TOP) {
        let Some(s) = f.facts.as_deref() else {
            continue;
        };
        let o = |v: &Option<String>| cell(v.as_deref().unwrap_or(""));
        let target = match s.line {
            Some(line) => format!("{}:{line}", s.target),
            None => s.target.clone(),
        };
        let _ = write!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            f.severity,
            cell(&s.id),
            o(&s.package),
            o(&s.installed),
            o(&s.fixed),
            cell(&target),
            o(&s.pkg_path)
        );
        if new {
            let _ = write!(md, " {} |", if s.new == Some(true) { "new" } else { "" });
        }
        let _ = writeln!(md);
    }
    if report.findings.len() > TOP {
        let _ = writeln!(
            md,
            "\n…and {} more; see the SARIF upload or `--format json`.",
            report.findings.len() - TOP
        );
    }
}
