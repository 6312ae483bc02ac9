//! The one `Finding` model every check produces and every renderer consumes.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::text::Pos;

/// How bad a finding is. Ordered, so thresholds compare with `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The CVSS-like score GitHub code scanning ranks `security-severity` by.
    pub fn security_score(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Unknown => "0.0",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule is, for renderers (SARIF rule metadata, help links, summaries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: Cow<'static, str>,
    pub summary: Cow<'static, str>,
    pub help: Cow<'static, str>,
    pub help_url: Cow<'static, str>,
    pub default_severity: Severity,
    /// SARIF `properties.tags` (code scanning filters by them).
    pub tags: &'static [&'static str],
}

/// Where in a file a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The path as shown to users (relative to the working directory when possible).
    pub file: PathBuf,
    pub start: Pos,
    pub end: Pos,
    /// Symbolic path inside the document, e.g. `jobs.build.steps[2].uses`.
    pub symbolic: String,
}

/// One problem, independent of how it is rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: Cow<'static, str>,
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// How to fix it, in one sentence.
    pub fix: Option<String>,
    /// The offending value as written (a `uses:` ref, an image reference …).
    pub subject: Option<String>,
    /// What the vulnerability gate knows of the finding (`None` for `cicd check`). The JSON
    /// renderer adds its fields as keys of the finding, SARIF as result properties.
    pub facts: Option<Box<ScanFacts>>,
}

/// A gate finding's facts, typed so that renderers read them by field, not by name.
/// Serialised (in this order) into the finding objects of `--format json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanFacts {
    /// `CVE-…`, `DS-0002`, `aws-access-key-id`, a license name.
    pub id: String,
    /// `vulnerability`, `misconfiguration`, `secret` or `license`.
    pub class: &'static str,
    pub package: Option<String>,
    pub installed: Option<String>,
    pub fixed: Option<String>,
    /// The report's target (an image OS line, a lockfile, a Dockerfile …).
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// The report file it came from.
    pub report: String,
    /// Where in the target: a package's path (`PkgPath`, a license's file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkg_path: Option<String>,
    /// First line in the target (misconfigurations, secrets, lockfile packages); JSON has
    /// it as the finding's `line` where the target is a file of the repository.
    #[serde(skip)]
    pub line: Option<usize>,
    /// With a baseline: not in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
    pub fails_gate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Finding {
    /// A stable identity that survives the finding moving to another line, for SARIF
    /// `partialFingerprints` and de-duplication.
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv::default();
        h.write(self.rule.as_bytes());
        if let Some(loc) = &self.location {
            h.write(loc.file.to_string_lossy().as_bytes());
            h.write(loc.symbolic.as_bytes());
        }
        if let Some(subject) = &self.subject {
            h.write(subject.as_bytes());
        }
        format!("{:016x}", h.0)
    }
}

/// FNV-1a: tiny, stable across releases and platforms, good enough for fingerprints.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes.iter().chain(std::iter::once(&0xff)) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
