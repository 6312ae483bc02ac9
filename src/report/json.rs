//! `--format json`: `{"findings":[…],"errors":[…],"summary":{…}}`, 1-based lines and columns.

use std::io::{self, Write};

use serde::Serialize;

use serde::ser::SerializeMap;

use super::{Gate, InputProblem, Report, slash_path};

#[derive(Serialize)]
struct Out<'a> {
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [InputProblem],
    summary: Summary<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<&'a Gate>,
}

/// A finding's extra fields, serialised as keys of the finding object.
struct Fields<'a>(&'a [(&'static str, serde_json::Value)]);

impl Serialize for Fields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'a str,
    #[serde(flatten)]
    fields: Fields<'a>,
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
                fields: Fields(&f.fields),
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
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
