//! The vulnerability gate of `cicd release`: `--scan-report` files read with exactly the
//! semantics of `cicd check trivy` (cicd.yaml `policy.trivy`, ignore files, expiry), reduced
//! to the verdict the pipeline attests and stops on. No reports → `not-gated`, said once.

use std::path::PathBuf;

use crate::cli::{CheckCommand, Cli, Command};
use crate::config::Loaded;
use crate::error::Error;
use crate::release::pipeline::Gate;
use crate::report::Verdict;
use crate::scan::gate::{Input, Request};

pub fn evaluate(cli: &Cli, reports: &[PathBuf], notes: &mut Vec<String>) -> Result<Gate, Error> {
    if reports.is_empty() {
        notes.push(
            "no --scan-report given: the images are released without a vulnerability gate".into(),
        );
        return Ok(Gate {
            result: "not-gated".into(),
            reports: Vec::new(),
            failing: 0,
            reasons: Vec::new(),
            predicate: None,
        });
    }
    // The same flags `cicd check trivy REPORT…` would get, so the two can never disagree.
    let mut argv: Vec<std::ffi::OsString> = vec!["cicd".into(), "check".into(), "trivy".into()];
    argv.extend(reports.iter().map(|r| r.clone().into_os_string()));
    let parsed = Cli::try_parse_from(argv).map_err(|e| Error::Usage(e.to_string()))?;
    let Command::Check(check) = &parsed.command else {
        return Err(Error::Usage("internal: check trivy did not parse".into()));
    };
    let Some(CheckCommand::Trivy(args)) = &check.sub else {
        return Err(Error::Usage("internal: check trivy did not parse".into()));
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    let policy = super::check_trivy::policy(&loaded, args)?;
    let mut scan_notes = Vec::new();
    let ignores = super::check_trivy::ignores(&loaded, args, &mut scan_notes)?;
    let now = crate::time::now().map_err(Error::Usage)?;
    let outcome = crate::scan::run(Request {
        reports: reports.iter().map(|p| Input::new(p)).collect(),
        baseline: Vec::new(),
        ignores,
        policy,
        now,
        notes: scan_notes,
    });
    if let Some(problem) = outcome.report.problems.first() {
        return Err(Error::BadInput {
            path: problem.file.clone(),
            reason: problem.to_string(),
        });
    }
    let gate = outcome
        .report
        .gate
        .ok_or_else(|| Error::Usage("the scan reports gave no gate verdict".into()))?;
    let result = match gate.result {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        // Fail closed: a gate that could not decide is not a pass.
        Verdict::Error => {
            return Err(Error::Usage(format!(
                "the vulnerability gate could not decide: {}",
                gate.reasons.join("; ")
            )));
        }
    };
    let predicate = predicate(reports, &gate, now)?;
    Ok(Gate {
        result: result.into(),
        reports: reports.iter().map(|p| p.display().to_string()).collect(),
        failing: gate.failing,
        reasons: gate.reasons,
        predicate: Some(predicate),
    })
}

/// The vuln attestation's predicate, made exactly as `cicd check trivy --attest` makes it:
/// scanner version and scan times from the reports themselves.
fn predicate(
    reports: &[PathBuf],
    gate: &crate::report::Gate,
    now: i64,
) -> Result<serde_json::Value, Error> {
    let read = reports
        .iter()
        .map(|p| super::check_trivy_attest::read_report(p))
        .collect::<Result<Vec<_>, _>>()?;
    let gate = serde_json::to_value(gate).map_err(|e| Error::Runtime(e.to_string()))?;
    Ok(crate::sign::attest_vuln::predicate(
        &crate::sign::attest_vuln::Scan {
            reports: &read,
            gate,
            now: &crate::time::rfc3339(now),
            parameters: std::env::args().skip(1).collect(),
            builder: crate::sign::attest_vuln::RELEASE,
        },
    ))
}
