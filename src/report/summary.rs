//! The Markdown job summary written to `$GITHUB_STEP_SUMMARY`: counts by rule and a table
//! of findings.

use std::fmt::Write;

use super::{Report, Severity, slash_path};

/// Rows shown before the table is cut (a step summary is capped at 1 MiB).
const MAX_ROWS: usize = 200;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
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
                    format!(
                        "`{}:{}:{}`",
                        slash_path(&l.file),
                        l.start.line,
                        l.start.column
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} |",
                f.severity,
                f.rule,
                cell(&loc),
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
            let _ = writeln!(md, "- `{}`", cell(&p.to_string()));
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
    if gate.failed {
        let _ = writeln!(md, ":x: **gate failed**\n");
        for r in &gate.reasons {
            let _ = writeln!(md, "- {}", cell(r));
        }
        let _ = writeln!(md);
    } else {
        let _ = writeln!(md, ":white_check_mark: **gate passed**\n");
    }
    let counts = gate.details.get("counts");
    let _ = writeln!(md, "| critical | high | medium | low | unknown |");
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    let n = |s: &str| {
        counts
            .and_then(|c| c.get(s))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} |\n",
        n("critical"),
        n("high"),
        n("medium"),
        n("low"),
        n("unknown")
    );
    if let Some(new) = gate.new {
        let fixed = gate
            .details
            .get("fixed")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        let _ = writeln!(md, "Against the baseline: **{new} new**, {fixed} fixed.\n");
    }
    if !report.findings.is_empty() {
        let mut top: Vec<&super::Finding> = report.findings.iter().collect();
        top.sort_by_key(|f| {
            (
                f.fields
                    .iter()
                    .all(|(k, v)| *k != "fails_gate" || v != &serde_json::json!(true)),
                std::cmp::Reverse(f.severity),
            )
        });
        let _ = writeln!(
            md,
            "| severity | id | package | installed | fixed | target |\n|---|---|---|---|---|---|"
        );
        for f in top.iter().take(TOP) {
            let c = |k: &str| cell(f.field(k).unwrap_or(""));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                f.severity,
                c("id"),
                c("package"),
                c("installed"),
                c("fixed"),
                c("target")
            );
        }
        if report.findings.len() > TOP {
            let _ = writeln!(
                md,
                "\n…and {} more; see the SARIF upload or `--format json`.",
                report.findings.len() - TOP
            );
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(md, "\n### Notes\n");
        for note in &report.notes {
            let _ = writeln!(md, "- {}", cell(note));
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(md, "\n### Reports that could not be read\n");
        for p in &report.problems {
            let _ = writeln!(md, "- `{}`", cell(&p.to_string()));
        }
    }
    md
}
