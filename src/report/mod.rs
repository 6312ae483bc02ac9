//! Renders one [`Report`] of findings as terminal snippets, JSON, SARIF 2.1.0, GitHub
//! workflow-command annotations or a Markdown step summary. Renderers never decide policy.

pub mod escape;
mod finding;
mod gate;
pub mod github;
pub mod json;
pub mod sarif;
pub mod summary;
pub mod table;
pub mod terminal;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

pub use finding::{Finding, Location, RuleInfo, ScanFacts, Severity};
pub use gate::{Counts, Fixed, Gate, IgnoreRow, Verdict};

use crate::text::Pos;
use crate::text::Text;

/// An input that could not be read, reported next to the findings (and making the run exit 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
}

impl InputProblem {
    pub fn new(file: PathBuf, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Self {
            file,
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            message: message.into(),
        }
    }
}

/// Shown on one line with input text escaped ([`escape::plain`]): file names and parser
/// messages come from the input.
impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", escape::plain(&self.file.to_string_lossy()))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(
            f,
            ": {}",
            escape::command_data(&self.message).replace("##[", "##%5B")
        )
    }
}

/// Everything one run found, with what renderers need to show it.
#[derive(Debug, Default)]
pub struct Report {
    /// The command, for titles (`cicd check`).
    pub title: String,
    /// Metadata of every rule that ran.
    pub rules: Vec<RuleInfo>,
    pub findings: Vec<Finding>,
    pub problems: Vec<InputProblem>,
    /// How many inputs were read.
    pub inputs: usize,
    /// Notes for the user that are not findings (e.g. rules skipped by `--offline`).
    pub notes: Vec<String>,
    /// Source text by shown path, for snippets.
    pub sources: HashMap<PathBuf, Arc<Text>>,
    /// The pass/fail decision of a gate (`cicd check trivy`); `None` for plain checks.
    pub gate: Option<Gate>,
}

/// The output formats every findings-producing command offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets for people.
    Plain,
    /// `{"findings":[…]}` for programs.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub workflow commands (`::error file=…::`).
    Github,
}

impl Report {
    /// Sorts findings by file and position and drops exact duplicates (the same rule at the
    /// same place, as YAML aliases produce).
    pub fn normalize(&mut self) {
        self.findings.sort_by(|a, b| {
            let key = |f: &Finding| {
                f.location
                    .as_ref()
                    .map(|l| (l.file.clone(), l.start, l.end))
            };
            key(a).cmp(&key(b)).then_with(|| a.rule.cmp(&b.rule))
        });
        self.findings.dedup_by(|a, b| {
            a.rule == b.rule
                && a.message == b.message
                && a.location.as_ref().map(|l| (&l.file, l.start))
                    == b.location.as_ref().map(|l| (&l.file, l.start))
        });
        self.problems
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    }

    /// Count of findings by severity, highest first, zero counts left out.
    pub fn by_severity(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .into_iter()
            .map(|s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Count of findings per rule and severity.
    pub fn by_rule(&self) -> BTreeMap<&str, BTreeMap<Severity, usize>> {
        let mut out: BTreeMap<&str, BTreeMap<Severity, usize>> = BTreeMap::new();
        for f in &self.findings {
            *out.entry(&f.rule)
                .or_default()
                .entry(f.severity)
                .or_default() += 1;
        }
        out
    }

    /// How many different files had a problem.
    pub fn unreadable(&self) -> usize {
        let files: std::collections::BTreeSet<&PathBuf> =
            self.problems.iter().map(|p| &p.file).collect();
        files.len()
    }

    /// `3 findings (2 high, 1 medium) in 2 files`. When inputs could not be read it says
    /// so, and never reads as a clean result.
    pub fn headline(&self) -> String {
        let n = self.findings.len();
        let found = if n == 0 {
            "no findings".to_owned()
        } else {
            let parts: Vec<String> = self
                .by_severity()
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect();
            format!("{n} {} ({})", plural(n, "finding"), parts.join(", "))
        };
        let bad = self.unreadable();
        if bad == 0 {
            return format!("{found} in {} {}", self.inputs, plural(self.inputs, "file"));
        }
        let unread = format!("{bad} {} could not be read", plural(bad, "file"));
        let read = self.inputs.saturating_sub(bad);
        match (n, read) {
            (0, 0) => format!("{unread}: nothing was checked"),
            (_, 0) => format!("{found}; {unread}"),
            _ => format!(
                "{found} in the {read} {} read; {unread}",
                plural(read, "file")
            ),
        }
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// A path with forward slashes, as SARIF, JSON and annotations want it.
pub fn slash_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}
