//! `--format plain` for gates: findings as a table grouped by severity (highest first), whose
//! columns are chosen facts of the findings (id, package, installed, fixed, path …), then
//! notes, the total and the gate's verdict. Text from reports is escaped ([`escape::plain`]).

use std::io::{self, Write};

use super::{Finding, Report, ScanFacts, Severity, Verdict, escape};

/// Widest a cell gets before it is cut with `…`.
const MAX_CELL: usize = 48;

/// A column of the table: which fact of a finding it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Id,
    Package,
    Installed,
    Fixed,
    Class,
    /// The report's target, with the first line where the finding has one.
    Target,
    /// The package's path inside the target (two copies of one library differ here).
    Path,
    /// `new` when the finding is not in the baseline.
    New,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Id => "ID",
            Column::Package => "PACKAGE",
            Column::Installed => "INSTALLED",
            Column::Fixed => "FIXED",
            Column::Class => "CLASS",
            Column::Target => "TARGET",
            Column::Path => "PATH",
            Column::New => "NEW",
        }
    }

    fn value(self, f: &ScanFacts) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        match self {
            Column::Id => f.id.clone(),
            Column::Package => opt(&f.package),
            Column::Installed => opt(&f.installed),
            Column::Fixed => opt(&f.fixed),
            Column::Class => f.class.to_owned(),
            Column::Target => match f.line {
                Some(line) => format!("{}:{line}", f.target),
                None => f.target.clone(),
            },
            Column::Path => opt(&f.pkg_path),
            Column::New => match f.new {
                Some(true) => "new".into(),
                _ => String::new(),
            },
        }
    }

    /// Whether any finding has something to show in this column.
    fn used(self, findings: &[&Finding]) -> bool {
        match self {
            Column::Path => findings
                .iter()
                .any(|f| f.facts.as_ref().is_some_and(|s| s.pkg_path.is_some())),
            Column::New => findings
                .iter()
                .any(|f| f.facts.as_ref().is_some_and(|s| s.new.is_some())),
            _ => true,
        }
    }
}

fn cell(f: &Finding, column: Column) -> String {
    let value = f
        .facts
        .as_deref()
        .map(|s| column.value(s))
        .unwrap_or_default();
    let value = escape::plain(&value);
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

/// One severity's rows, columns padded to their widest cell.
fn group(rows: &[&Finding], columns: &[Column], out: &mut dyn Write) -> io::Result<()> {
    let columns: Vec<Column> = columns.iter().copied().filter(|c| c.used(rows)).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|f| columns.iter().map(|c| cell(f, *c)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain(std::iter::once(c.header().len()))
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
        s.trim_end().to_owned()
    };
    let headers: Vec<String> = columns.iter().map(|c| c.header().to_owned()).collect();
    writeln!(out, "{}", line(&headers))?;
    for row in &cells {
        writeln!(out, "{}", line(row))?;
    }
    writeln!(out)
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
        group(&rows, columns, out)?;
    }
    for note in &report.notes {
        writeln!(out, "note: {}", escape::plain(note))?;
    }
    writeln!(out, "{}", report.headline())?;
    if let Some(gate) = &report.gate {
        match gate.result {
            Verdict::Passed => writeln!(out, "gate: passed")?,
            Verdict::Failed => writeln!(out, "gate: FAILED")?,
            Verdict::Error => {
                writeln!(out, "gate: ERROR (no verdict: an input could not be read)")?
            }
        }
        for reason in &gate.reasons {
            writeln!(out, "  - {}", escape::plain(reason))?;
        }
    }
    Ok(())
}
