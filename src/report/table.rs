//! `--format plain` for gates: findings as a table grouped by severity (highest first), whose
//! columns are chosen fields of the findings (`id`, `package`, `installed`, `fixed` …), then
//! notes, the total and the gate's verdict.

use std::io::{self, Write};

use super::{Finding, Report, Severity};

/// Widest a cell gets before it is cut with `…`.
const MAX_CELL: usize = 48;

/// A column: its header and the finding field it shows.
pub type Column = (&'static str, &'static str);

fn cell(f: &Finding, field: &str) -> String {
    let value = f.field(field).unwrap_or("");
    let value = value.replace(['\n', '\r', '\t'], " ");
    if value.chars().count() > MAX_CELL {
        let cut: String = value.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        value
    }
}

fn paint(s: &str, sev: Severity, color: bool) -> String {
    if !color {
        return s.to_owned();
    }
    let code = match sev {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Unknown => "2",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

pub fn render(
    report: &Report,
    columns: &[Column],
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    for sev in Severity::ALL {
        let rows: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let title = format!("{} ({})", sev.as_str().to_uppercase(), rows.len());
        writeln!(out, "{}", paint(&title, sev, color))?;
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|f| columns.iter().map(|(_, field)| cell(f, field)).collect())
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(i, (header, _))| {
                cells
                    .iter()
                    .map(|row| row[i].chars().count())
                    .chain(std::iter::once(header.len()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |row: &[String]| {
            let mut s = String::from(" ");
            for (i, value) in row.iter().enumerate() {
                let pad = widths[i].saturating_sub(value.chars().count());
                s.push(' ');
                s.push_str(value);
                if i + 1 < row.len() {
                    s.push_str(&" ".repeat(pad + 1));
                }
            }
            s
        };
        let headers: Vec<String> = columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        writeln!(out, "{}", line(&headers))?;
        for row in &cells {
            writeln!(out, "{}", line(row))?;
        }
        writeln!(out)?;
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "{}", report.headline())?;
    if let Some(gate) = &report.gate {
        if gate.failed {
            writeln!(out, "gate: FAILED")?;
            for reason in &gate.reasons {
                writeln!(out, "  - {reason}")?;
            }
        } else {
            writeln!(out, "gate: passed")?;
        }
    }
    Ok(())
}
