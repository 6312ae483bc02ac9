//! `--format github`: one `::error file=…,line=…,col=…,title=…::message` workflow command
//! per finding, escaped as the runner expects.

use std::io::{self, Write};

pub use super::escape::{command_data as escape_data, command_property as escape_property};
use super::{Finding, InputProblem, Report, Severity, slash_path};

/// `::error` for every finding, as `cicd check` reports them.
pub fn annotation(f: &Finding) -> String {
    annotation_at(f, "error")
}

/// The workflow command whose level follows the severity (`error` for critical and high,
/// `warning` for medium, `notice` below), as the Trivy gate annotates.
pub fn leveled_annotation(f: &Finding) -> String {
    let level = match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "notice",
    };
    annotation_at(f, level)
}

fn annotation_at(f: &Finding, level: &str) -> String {
    let mut props = Vec::new();
    if let Some(loc) = &f.location {
        props.push(format!("file={}", escape_property(&slash_path(&loc.file))));
        props.push(format!("line={}", loc.start.line));
        props.push(format!("col={}", loc.start.column));
        props.push(format!("endLine={}", loc.end.line));
        if loc.end.line == loc.start.line {
            props.push(format!("endColumn={}", loc.end.column));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("{} ({})", f.rule, f.severity))
    ));
    let mut message = f.message.clone();
    if let Some(fix) = &f.fix {
        message.push_str("\nFix: ");
        message.push_str(fix);
    }
    format!("::{level} {}::{}", props.join(","), escape_data(&message))
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    render_with(report, out, annotation)
}

/// Like [`render`], each finding as `annotate` writes it.
pub fn render_with(
    report: &Report,
    out: &mut dyn Write,
    annotate: fn(&Finding) -> String,
) -> io::Result<()> {
    for f in &report.findings {
        writeln!(out, "{}", annotate(f))?;
    }
    for p in &report.problems {
        writeln!(out, "{}", problem_annotation(p))?;
    }
    Ok(())
}

/// `::error file=…` naming an input that could not be read.
pub fn problem_annotation(p: &InputProblem) -> String {
    let mut props = vec![format!("file={}", escape_property(&slash_path(&p.file)))];
    if let Some(line) = p.line {
        props.push(format!("line={line}"));
    }
    if let Some(col) = p.column {
        props.push(format!("col={col}"));
    }
    props.push("title=cicd%3A unreadable input".into());
    format!("::error {}::{}", props.join(","), escape_data(&p.message))
}
