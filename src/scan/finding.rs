//! A gate finding as the report shows it: the one [`Finding`] model with the Trivy facts
//! ([`ScanFacts`]: id, package, versions, target, path …), a message, a fix, a file and
//! line where the finding has one, and one SARIF rule per class.

use std::path::PathBuf;

use super::{Class, TrivyFinding};
use crate::report::{Finding, Location, RuleInfo, ScanFacts, Severity};
use crate::text::Pos;

pub fn plural_class(c: Class, n: usize) -> String {
    match (c, n) {
        (Class::Vulnerability, 1) => "vulnerability".into(),
        (Class::Vulnerability, _) => "vulnerabilities".into(),
        (Class::Misconfiguration, 1) => "failed misconfiguration".into(),
        (Class::Misconfiguration, _) => "failed misconfigurations".into(),
        (c, 1) => c.as_str().into(),
        (c, _) => format!("{}s", c.as_str()),
    }
}

pub fn rule_info(c: Class) -> RuleInfo {
    let (summary, help, url) = match c {
        Class::Vulnerability => (
            "Known vulnerability in a package of the image",
            "A package in the scanned artifact has a known vulnerability. Upgrade it to the fixed version Trivy reports, or, if the vulnerable code cannot be reached, add an ignore with a reason and an expiry date to `policy.trivy.ignores` in cicd.yaml.",
            "https://trivy.dev/latest/docs/scanner/vulnerability/",
        ),
        Class::Misconfiguration => (
            "Failed misconfiguration check",
            "A configuration file (Dockerfile, Kubernetes manifest, Terraform …) fails one of Trivy's checks. Follow the check's resolution, or ignore it with a reason and an expiry date.",
            "https://trivy.dev/latest/docs/scanner/misconfiguration/",
        ),
        Class::Secret => (
            "Secret in the scanned files",
            "Trivy found a credential. Revoke it, remove it from the files and the image history, and load it at run time instead.",
            "https://trivy.dev/latest/docs/scanner/secret/",
        ),
        Class::License => (
            "License that policy restricts",
            "A package is under a license Trivy classifies as restricted. Replace the package or record the approval as an ignore with a reason.",
            "https://trivy.dev/latest/docs/scanner/license/",
        ),
    };
    RuleInfo {
        id: c.rule().into(),
        summary: summary.into(),
        help: help.into(),
        help_url: url.into(),
        default_severity: Severity::High,
        tags: &["security", "vulnerability"],
    }
}

/// A relative path in the repository (not an image name or an absolute in-image path).
fn repo_path(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('/') && !s.contains([' ', ':', '@']) && !s.contains("..")
}

/// `CVE-… in pkg 1.2: title`, `DS-0002 in Dockerfile: title` …
fn message(f: &TrivyFinding) -> String {
    let mut message = match f.class() {
        Class::Vulnerability => {
            let mut m = format!("{} in {}", f.id, f.package.as_deref().unwrap_or("?"));
            if let Some(v) = &f.installed {
                m.push(' ');
                m.push_str(v);
            }
            m
        }
        Class::Misconfiguration => format!("{} in {}", f.id, f.target),
        Class::Secret => format!("secret {} in {}", f.id, f.target),
        Class::License => format!(
            "license {} of {}",
            f.id,
            f.package.as_deref().unwrap_or(&f.target)
        ),
    };
    if let Some(t) = &f.title {
        message.push_str(": ");
        message.push_str(t);
    }
    message
}

/// The file of the repository and lines the finding points at, when it has both.
fn location(f: &TrivyFinding) -> Option<Location> {
    let file = match f.class() {
        Class::License => f.path.as_deref().filter(|p| repo_path(p)),
        _ => Some(f.target.as_str()).filter(|p| repo_path(p)),
    };
    let (file, (start, end)) = (file?, f.lines?);
    let at = |line| Pos { line, column: 1 };
    Some(Location {
        file: PathBuf::from(file),
        start: at(start),
        end: at(end),
        symbolic: String::new(),
    })
}

pub fn to_finding(f: TrivyFinding, is_new: Option<bool>, fails: bool) -> Finding {
    let class = f.class();
    let sev = f.severity();
    let message = message(&f);
    let fix = match (&f.fixed, &f.package) {
        (Some(v), Some(p)) => Some(format!("upgrade {p} to {v}")),
        _ => f.resolution.clone(),
    };
    let location = location(&f);
    let subject = format!(
        "{} {}@{} {} {}",
        f.id,
        f.package.as_deref().unwrap_or(""),
        f.installed.as_deref().unwrap_or(""),
        f.target,
        f.artifact
    );
    let facts = ScanFacts {
        class: class.as_str(),
        status: f.status,
        artifact: Some(f.artifact).filter(|a| !a.is_empty()),
        report: crate::report::slash_path(&f.report),
        pkg_path: f.path,
        line: f.lines.map(|(start, _)| start),
        new: is_new,
        fails_gate: fails,
        purl: f.purl,
        url: f.url,
        id: f.id,
        package: f.package,
        installed: f.installed,
        fixed: f.fixed,
        target: f.target,
    };
    Finding {
        rule: class.rule().into(),
        severity: sev,
        message,
        location,
        fix,
        subject: Some(subject),
        facts: Some(Box::new(facts)),
    }
}
