//! The Trivy gate: read Trivy reports (JSON, SARIF, CycloneDX), apply ignores and a baseline,
//! and decide pass or fail. [`run`] is the whole pipeline; each step lives in its own file.

pub mod baseline;
pub mod dedup;
pub mod finding;
pub mod gate;
pub mod ignore;
pub mod parse;
pub mod purl;
pub mod trivy;
pub mod vex;

use std::fmt;
use std::path::PathBuf;

use crate::report::{InputProblem, Severity};

/// The kind of finding, as Trivy's scanners produce them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Vulnerability,
    Misconfiguration,
    Secret,
    License,
}

impl Class {
    pub const ALL: [Class; 4] = [
        Class::Vulnerability,
        Class::Misconfiguration,
        Class::Secret,
        Class::License,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Vulnerability => "vulnerability",
            Class::Misconfiguration => "misconfiguration",
            Class::Secret => "secret",
            Class::License => "license",
        }
    }

    /// The rule id findings of this class carry (`trivy-vulnerability` …).
    pub fn rule(self) -> &'static str {
        match self {
            Class::Vulnerability => "trivy-vulnerability",
            Class::Misconfiguration => "trivy-misconfiguration",
            Class::Secret => "trivy-secret",
            Class::License => "trivy-license",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Trivy severity string (`HIGH`, `high`); empty and unknown words are `UNKNOWN`, as Trivy
/// treats a vulnerability without a severity.
pub fn severity(s: &str) -> Severity {
    Severity::parse(s.trim()).unwrap_or(Severity::Unknown)
}

/// One finding from a report, whatever its format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrivyFinding {
    pub class: Option<Class>,
    /// `CVE-…`, `DS-0002`, `aws-access-key-id`, a license name.
    pub id: String,
    pub severity: Option<Severity>,
    /// Trivy's `PkgID` (`name@version`, part of its duplicate key).
    pub pkg_id: Option<String>,
    /// Package name (vulnerabilities, licenses).
    pub package: Option<String>,
    pub installed: Option<String>,
    pub fixed: Option<String>,
    /// `fixed`, `affected`, `will_not_fix` … (vulnerabilities).
    pub status: Option<String>,
    /// The report's `Target` (an image OS line, a lockfile, a Dockerfile …).
    pub target: String,
    /// The report's `Class` of the target (`os-pkgs`, `lang-pkgs`, `config`, `secret`, `license`).
    pub target_class: String,
    /// `PkgPath` of a vulnerability, `FilePath` of a license.
    pub path: Option<String>,
    pub purl: Option<String>,
    /// Other ids an ignore may name (a misconfiguration's `AVDID` and aliases).
    pub aliases: Vec<String>,
    pub title: Option<String>,
    pub url: Option<String>,
    /// How to fix a misconfiguration (Trivy's `Resolution`).
    pub resolution: Option<String>,
    /// Lines in `target` (misconfigurations, secrets, lockfile packages).
    pub lines: Option<(usize, usize)>,
    /// The report file and the artifact it describes (an image, a platform, a directory).
    pub report: PathBuf,
    pub artifact: String,
}

impl TrivyFinding {
    pub fn class(&self) -> Class {
        self.class.unwrap_or(Class::Vulnerability)
    }

    pub fn severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::Unknown)
    }

    /// A vulnerability without a fix: no fixed version, or a status other than `fixed`.
    pub fn unfixed(&self) -> bool {
        self.class() == Class::Vulnerability
            && (self.fixed.as_deref().is_none_or(str::is_empty)
                || self.status.as_deref().is_some_and(|s| s != "fixed"))
    }
}

/// What one report file held.
#[derive(Debug, Default)]
pub struct Parsed {
    pub format: &'static str,
    pub artifact: String,
    pub findings: Vec<TrivyFinding>,
}

pub use gate::{Outcome, Policy, Request, run};

/// A report that could not be read.
pub type Problem = InputProblem;
