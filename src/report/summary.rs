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
