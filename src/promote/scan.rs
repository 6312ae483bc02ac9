//! The scan requirement's judgement of one verified vuln attestation: its signed
//! `metadata.scanFinishedOn` no older than `max-age`, and its Trivy report(s) passing the
//! same gate `cicd check trivy` runs (`scan::run`: `policy.trivy` fail-on, classes,
//! `ignore-unfixed`, ignores from `cicd.yaml` and `.trivyignore[.yaml]`, VEX statements in
//! CycloneDX reports). A report the gate cannot read is a failure, never a pass.

use std::path::PathBuf;

use serde_json::Value;

use crate::report::{Severity, Verdict, plural};
use crate::scan::gate::Input;
use crate::scan::ignore::Ignore;
use crate::scan::{self, Policy, Request};
use crate::sign::attest_verify::Verified;

/// A scan finished this far in the future is refused (clock skew allowance).
const SKEW: i64 = 300;

/// How many failing findings a refusal names.
const NAMED: usize = 5;

/// The gate a scan attestation's report must pass: `cicd check trivy`'s, from `policy.trivy`.
#[derive(Clone, Debug)]
pub struct ScanGate {
    pub policy: Policy,
    pub ignores: Vec<Ignore>,
    /// Notes from reading the ignore files.
    pub notes: Vec<String>,
}

impl Default for ScanGate {
    /// Fails on every severity, ignores nothing: `cicd check trivy` with no `policy.trivy`.
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            ignores: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// (scan time, Ok(what passed) | Err(why not)) for one verified vuln attestation.
pub fn judge(
    a: &Verified,
    max_age: i64,
    now: i64,
    gate: &ScanGate,
) -> (i64, Result<String, String>) {
    let finished = a.predicate["metadata"]["scanFinishedOn"]
        .as_str()
        .and_then(crate::time::parse);
    let Some(t) = finished else {
        return (
            i64::MIN,
            Err(format!(
                "{}: no readable metadata.scanFinishedOn in the signed predicate",
                a.location
            )),
        );
    };
    let when = crate::time::rfc3339(t);
    if t > now + SKEW {
        return (t, Err(format!("scan finished {when}, in the future")));
    }
    if now - t > max_age {
        return (
            t,
            Err(format!(
                "scan finished {when} is older than max-age ({}s old, {max_age}s allowed)",
                now - t
            )),
        );
    }
    let shown = format!("scan attestation {}", a.location);
    (
        t,
        run_gate(&a.predicate["scanner"]["result"], &shown, now, gate)
            .map(|ok| format!("scan finished {when}: {ok}"))
            .map_err(|e| format!("scan finished {when}: {e}")),
    )
}

/// Runs the gate over a predicate's `scanner.result` (one report, or an array of them).
fn run_gate(result: &Value, shown: &str, now: i64, gate: &ScanGate) -> Result<String, String> {
    let reports: Vec<&Value> = match result {
        Value::Array(many) if !many.is_empty() => many.iter().collect(),
        Value::Object(_) => vec![result],
        _ => {
            return Err(
                "the signed scan result is not a Trivy report: cannot tell whether it passed"
                    .into(),
            );
        }
    };
    let dir = tempfile::tempdir().map_err(|e| format!("a scratch directory for the gate: {e}"))?;
    let mut inputs = Vec::new();
    for (i, report) in reports.iter().enumerate() {
        let path = dir.path().join(format!("report-{i}.json"));
        let bytes = serde_json::to_vec(report).map_err(|e| e.to_string())?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let shown = if reports.len() == 1 {
            PathBuf::from(shown)
        } else {
            PathBuf::from(format!("{shown} report {}", i + 1))
        };
        inputs.push(Input { path, shown });
    }
    let outcome = scan::run(Request {
        reports: inputs,
        baseline: Vec::new(),
        ignores: gate.ignores.clone(),
        policy: gate.policy.clone(),
        now,
        notes: gate.notes.clone(),
    });
    let report = &outcome.report;
    if let Some(p) = report.problems.first() {
        return Err(format!("the gate could not read its report: {p}"));
    }
    let Some(g) = &report.gate else {
        return Err("the gate gave no verdict".into());
    };
    let c = &g.counts;
    let total = c.critical + c.high + c.medium + c.low + c.unknown + g.ignored;
    let ignored = match g.ignored {
        0 => String::new(),
        n => format!(", {n} ignored by policy"),
    };
    if g.result == Verdict::Passed && !g.failed {
        return Ok(format!(
            "{total} {}, none failing{ignored}",
            plural(total, "finding")
        ));
    }
    let named: Vec<String> = report
        .findings
        .iter()
        .filter_map(|f| f.facts.as_deref().map(|x| (f, x)))
        .filter(|(_, x)| x.fails_gate)
        .take(NAMED)
        .map(|(f, x)| match &x.package {
            Some(p) => format!("{} {} in {p}", x.id, sev(f.severity)),
            None => format!("{} {}", x.id, sev(f.severity)),
        })
        .collect();
    let more = g.failing.saturating_sub(named.len());
    // Why an ignore did not apply (expired), so the refusal explains itself.
    let expired: Vec<&str> = report
        .notes
        .iter()
        .filter(|n| n.starts_with("ignore ") && n.contains(" expired on "))
        .map(String::as_str)
        .collect();
    let reasons: Vec<&str> = g
        .reasons
        .iter()
        .map(String::as_str)
        .chain(expired)
        .collect();
    Err(format!(
        "{} failing of {total} {}{ignored} ({}{}; {})",
        g.failing,
        plural(total, "finding"),
        named.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
        reasons.join("; ")
    ))
}

fn sev(s: Severity) -> String {
    s.as_str().to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ignore::Origin;
    use serde_json::json;

    fn trivy(vulns: Value) -> Value {
        json!({"SchemaVersion": 2, "Results": [{"Target": "x", "Class": "os-pkgs",
            "Vulnerabilities": vulns}]})
    }

    #[test]
    fn the_gate_counts_names_and_ignores() {
        let r = trivy(json!([
            {"VulnerabilityID": "CVE-1", "PkgName": "openssl", "Severity": "CRITICAL"},
            {"VulnerabilityID": "CVE-2", "PkgName": "zlib", "Severity": "LOW"}]));
        let all = ScanGate::default();
        let e = run_gate(&r, "s", 0, &all).expect_err("fails");
        assert!(
            e.starts_with("2 failing of 2 findings (CVE-1 CRITICAL in openssl"),
            "{e}"
        );
        let mut critical = ScanGate::default();
        critical.policy.fail_on = [Severity::Critical].into_iter().collect();
        let e = run_gate(&r, "s", 0, &critical).expect_err("fails");
        assert!(
            e.starts_with("1 failing of 2 findings (CVE-1 CRITICAL"),
            "{e}"
        );
        critical.ignores = vec![Ignore::bare("CVE-1", None, "t".into(), Origin::Cicd)];
        assert_eq!(
            run_gate(&r, "s", 0, &critical),
            Ok("2 findings, none failing, 1 ignored by policy".into())
        );
        // An expired ignore no longer applies, and the refusal says so.
        critical.ignores = vec![Ignore::bare("CVE-1", Some(0), "t".into(), Origin::Cicd)];
        let e = run_gate(&r, "s", 86_400 * 2, &critical).expect_err("expired");
        assert!(e.contains("ignore CVE-1 (t) expired on 1970-01-01"), "{e}");
        assert_eq!(
            run_gate(&json!({"SchemaVersion": 2}), "s", 0, &all),
            Ok("0 findings, none failing".into())
        );
    }

    #[test]
    fn unreadable_results_fail() {
        let all = ScanGate::default();
        for bad in [json!("text"), json!([]), json!({"Results": "x"}), json!({})] {
            assert!(run_gate(&bad, "s", 0, &all).is_err(), "{bad}");
        }
    }
}
