//! `--format sarif`: SARIF 2.1.0 with rule metadata, `security-severity` for code scanning's
//! ranking, logical locations (symbolic paths) and `partialFingerprints`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Finding, InputProblem, Location, Report, RuleInfo, Severity, slash_path};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// Percent-encodes what may not appear in a relative URI reference.
fn uri(path: &std::path::Path) -> String {
    let mut out = String::new();
    for b in slash_path(path).bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_json(r: &RuleInfo) -> Value {
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": { "text": r.summary },
        "fullDescription": { "text": r.summary },
        "help": { "text": r.help, "markdown": r.help },
        "helpUri": r.help_url,
        "defaultConfiguration": { "level": level(r.default_severity) },
        "properties": {
            "tags": r.tags,
            "security-severity": r.default_severity.security_score(),
        },
    })
}

fn location_json(loc: &Location) -> Value {
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&loc.file), "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": loc.start.line,
                "startColumn": loc.start.column,
                "endLine": loc.end.line,
                "endColumn": loc.end.column.max(1),
            },
        },
    });
    if !loc.symbolic.is_empty() {
        location["logicalLocations"] = json!([{ "fullyQualifiedName": loc.symbolic }]);
    }
    location
}

fn result_json(report: &Report, f: &Finding) -> Value {
    let mut result = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": f.message },
        "partialFingerprints": { "cicdFingerprint/v1": f.fingerprint() },
        "properties": {
            "severity": f.severity.as_str(),
            "security-severity": f.severity.security_score(),
        },
    });
    if let Some(Value::Object(facts)) = f.facts.as_ref().map(|s| json!(s)) {
        for (k, v) in facts {
            result["properties"][k] = v;
        }
    }
    if let Some(index) = report.rules.iter().position(|r| r.id == f.rule) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(fix) = &f.fix {
        result["message"]["text"] = json!(format!("{}\nFix: {fix}", f.message));
    }
    if let Some(loc) = &f.location {
        result["locations"] = json!([location_json(loc)]);
    }
    result
}

/// A problem as plain text: the exact file name and message (JSON escapes what it must).
fn problem_text(p: &InputProblem) -> String {
    let mut at = slash_path(&p.file);
    if let Some(line) = p.line {
        at.push_str(&format!(":{line}"));
        if let Some(column) = p.column {
            at.push_str(&format!(":{column}"));
        }
    }
    format!("{at}: {}", p.message)
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = report.rules.iter().map(rule_json).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result_json(report, f))
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cicd",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/",
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": report.problems.is_empty(),
                "toolExecutionNotifications": report.problems.iter().map(|p| json!({
                    "level": "error",
                    "message": { "text": problem_text(p) },
                })).collect::<Vec<_>>(),
            }],
        }],
    });
    let bytes = serde_json::to_vec_pretty(&doc)?;
    out.write_all(&super::escape::json(bytes))?;
    writeln!(out)
}
