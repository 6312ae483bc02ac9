//! `--format json`: `{"findings":[…],"errors":[…],"summary":{…}}`, 1-based lines and columns.

use std::io::{self, Write};

use serde::Serialize;

use super::{Gate, InputProblem, Report, ScanFacts, slash_path};

#[derive(Serialize)]
struct Out<'a> {
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [InputProblem],
    summary: Summary<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<&'a Gate>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    facts: Option<&'a ScanFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
    fingerprint: String,
}

#[derive(Serialize)]
struct Summary<'a> {
    files: usize,
    findings: usize,
    by_severity: std::collections::BTreeMap<&'a str, usize>,
    by_rule: std::collections::BTreeMap<&'a str, usize>,
    notes: &'a [String],
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let findings = report
        .findings
        .iter()
        .map(|f| {
            let loc = f.location.as_ref();
            JsonFinding {
                rule: &f.rule,
                severity: f.severity.as_str(),
                facts: f.facts.as_deref(),
                file: loc.map(|l| slash_path(&l.file)),
                line: loc.map(|l| l.start.line),
                column: loc.map(|l| l.start.column),
                end_line: loc.map(|l| l.end.line),
                end_column: loc.map(|l| l.end.column),
                path: loc.map(|l| l.symbolic.as_str()).filter(|s| !s.is_empty()),
                message: &f.message,
                subject: f.subject.as_deref(),
                fix: f.fix.as_deref(),
                fingerprint: f.fingerprint(),
            }
        })
        .collect();
    let doc = Out {
        findings,
        errors: &report.problems,
        summary: Summary {
            files: report.inputs,
            findings: report.findings.len(),
            by_severity: report
                .by_severity()
                .into_iter()
                .map(|(s, n)| (s.as_str(), n))
                .collect(),
            by_rule: report
                .by_rule()
                .into_iter()
                .map(|(r, m)| (r, m.values().sum()))
                .collect(),
            notes: &report.notes,
        },
        gate: report.gate.as_ref(),
    };
    let bytes = serde_json::to_vec_pretty(&doc)?;
    out.write_all(&super::escape::json(bytes))?;
    writeln!(out)
}
