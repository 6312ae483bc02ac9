//! The gate: reports → de-duplicated findings → `--ignore-unfixed` → ignores → baseline →
//! pass or fail per class (severities that fail, maximum count), and the [`Report`] every
//! renderer shows. By default it fails like `trivy convert --exit-code 1` would: on any
//! vulnerability, failed misconfiguration, secret or license at the fail-on severities. A
//! report (or baseline) that cannot be read makes the verdict `error`: nothing passes unread.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::baseline::{self, Baseline};
use super::finding::{plural_class, rule_info, to_finding};
use super::ignore::{self, Applied, Ignore, State};
use super::{Class, TrivyFinding, dedup, parse, vex};
use crate::report::{
    self, Counts, Finding, Fixed, Gate, IgnoreRow, InputProblem, Report, Severity, Verdict,
};
use crate::time;

/// How one class of findings is gated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassPolicy {
    /// `false`: the class is neither gated nor shown.
    pub enabled: bool,
    /// Severities that fail the gate for this class (default: the global `fail_on`).
    pub fail_on: Option<BTreeSet<Severity>>,
    /// How many failing findings the class may have before the gate fails.
    pub max: usize,
}

impl Default for ClassPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            fail_on: None,
            max: 0,
        }
    }
}

/// The gate's policy, from `cicd.yaml` and flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub fail_on: BTreeSet<Severity>,
    /// Severities shown (findings that fail the gate are always shown).
    pub report: BTreeSet<Severity>,
    pub ignore_unfixed: bool,
    pub classes: BTreeMap<Class, ClassPolicy>,
    /// An ignore expiring within this many days is a warning.
    pub warn_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            fail_on: Severity::ALL.into_iter().collect(),
            report: Severity::ALL.into_iter().collect(),
            ignore_unfixed: false,
            classes: Class::ALL
                .into_iter()
                .map(|c| (c, ClassPolicy::default()))
                .collect(),
            warn_days: 14,
        }
    }
}

impl Policy {
    fn class(&self, c: Class) -> ClassPolicy {
        self.classes.get(&c).cloned().unwrap_or_default()
    }

    fn fails(&self, f: &TrivyFinding) -> bool {
        let cp = self.class(f.class());
        cp.fail_on
            .as_ref()
            .unwrap_or(&self.fail_on)
            .contains(&f.severity())
    }
}

/// A report to read: the path to open and the path to show.
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    pub shown: PathBuf,
}

impl Input {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            shown: path.to_path_buf(),
        }
    }
}

pub struct Request {
    pub reports: Vec<Input>,
    pub baseline: Vec<Input>,
    pub ignores: Vec<Ignore>,
    pub policy: Policy,
    /// Seconds since the epoch ([`time::now`]).
    pub now: i64,
    /// Notes gathered while reading ignore files.
    pub notes: Vec<String>,
}

pub struct Outcome {
    pub report: Report,
    /// The OpenVEX document of the ignores that applied (for `--vex-out`).
    pub vex: Option<vex::Document>,
}

/// Reads the files and drops Trivy's own duplicates; also says what each file was.
fn read_all(
    inputs: &[Input],
    problems: &mut Vec<InputProblem>,
) -> (Vec<TrivyFinding>, Vec<String>) {
    let mut per_report = Vec::with_capacity(inputs.len());
    let mut formats = Vec::new();
    for input in inputs {
        match parse::read(&input.path, &input.shown) {
            Ok(mut parsed) => {
                for f in &mut parsed.findings {
                    f.report.clone_from(&input.shown);
                }
                let artifact = if parsed.artifact.is_empty() {
                    String::new()
                } else {
                    format!(", {}", parsed.artifact)
                };
                formats.push(format!(
                    "{} ({}{artifact})",
                    input.shown.display(),
                    parsed.format
                ));
                per_report.push(parsed.findings);
            }
            Err(p) => problems.push(p),
        }
    }
    (dedup::dedup(per_report), formats)
}

fn sev_list(set: &BTreeSet<Severity>) -> Vec<String> {
    set.iter()
        .rev()
        .map(|s| s.as_str().to_uppercase())
        .collect()
}

/// `--ignore-unfixed` and disabled classes.
fn narrow(findings: &mut Vec<TrivyFinding>, policy: &Policy, notes: &mut Vec<String>) {
    if policy.ignore_unfixed {
        let before = findings.len();
        findings.retain(|f| !f.unfixed());
        let dropped = before - findings.len();
        if dropped > 0 {
            notes.push(format!(
                "--ignore-unfixed: {dropped} {} without a fixed version left out",
                plural_class(Class::Vulnerability, dropped)
            ));
        }
    }
    findings.retain(|f| policy.class(f.class()).enabled);
}

/// A note for each ignore that expired, expires soon or matched nothing, and its row.
fn ignore_report(applied: &Applied, notes: &mut Vec<String>) -> Vec<IgnoreRow> {
    let mut rows = Vec::new();
    for (ig, matched, state) in applied.iter() {
        let expires = ig.expires.map(time::date);
        let on = expires.clone().unwrap_or_default();
        match state {
            State::Expired => {
                let again = match matched.len() {
                    0 => String::new(),
                    1 => " and 1 finding counts again".to_owned(),
                    n => format!(" and {n} findings count again"),
                };
                notes.push(format!(
                    "ignore {} ({}) expired on {on}: it no longer applies{again}",
                    ig.id, ig.source
                ));
            }
            State::Expiring(days) => notes.push(format!(
                "ignore {} ({}) expires on {on} (in {days} {})",
                ig.id,
                ig.source,
                report::plural(usize::try_from(*days).unwrap_or(0), "day")
            )),
            State::Stale => notes.push(format!(
                "ignore {} ({}) matches nothing: remove it",
                ig.id, ig.source
            )),
            State::Applied => {}
        }
        rows.push(IgnoreRow {
            id: ig.id.clone(),
            source: ig.source.clone(),
            status: state.as_str(),
            matched: matched.len(),
            expires,
            reason: ig.reason.clone(),
            owner: ig.owner.clone(),
        });
    }
    rows
}

/// Per finding in force: (new against the baseline, fails the gate).
struct Decision {
    each: Vec<(bool, bool)>,
    failing_by_class: BTreeMap<Class, usize>,
    new: usize,
}

fn decide(in_force: &[TrivyFinding], baseline: Option<&Baseline>, policy: &Policy) -> Decision {
    let mut d = Decision {
        each: Vec::with_capacity(in_force.len()),
        failing_by_class: BTreeMap::new(),
        new: 0,
    };
    for f in in_force {
        let is_new = baseline.is_none_or(|b| !b.contains(f));
        d.new += usize::from(is_new);
        let fails = is_new && policy.fails(f);
        if fails {
            *d.failing_by_class.entry(f.class()).or_default() += 1;
        }
        d.each.push((is_new, fails));
    }
    d
}

/// One sentence per class over its maximum.
fn reasons(d: &Decision, policy: &Policy, with_baseline: bool) -> Vec<String> {
    d.failing_by_class
        .iter()
        .filter(|(class, n)| **n > policy.class(**class).max)
        .map(|(class, n)| {
            let cp = policy.class(*class);
            let sevs = cp.fail_on.as_ref().unwrap_or(&policy.fail_on);
            format!(
                "{n} {}{} at {} (at most {} allowed)",
                if with_baseline { "new " } else { "" },
                plural_class(*class, *n),
                sev_list(sevs).join(","),
                cp.max
            )
        })
        .collect()
}

fn counts(in_force: &[TrivyFinding]) -> Counts {
    let mut c = Counts::default();
    for f in in_force {
        *match f.severity() {
            Severity::Critical => &mut c.critical,
            Severity::High => &mut c.high,
            Severity::Medium => &mut c.medium,
            Severity::Low => &mut c.low,
            Severity::Unknown => &mut c.unknown,
        } += 1;
    }
    c
}

/// The findings shown (failing ones always), highest severity first.
fn shown(
    in_force: Vec<TrivyFinding>,
    d: &Decision,
    policy: &Policy,
    with_baseline: bool,
) -> (Vec<Finding>, BTreeSet<Class>) {
    let mut shown: Vec<(TrivyFinding, bool, bool)> = in_force
        .into_iter()
        .zip(d.each.iter().copied())
        .filter(|(f, (_, fails))| *fails || policy.report.contains(&f.severity()))
        .map(|(f, (is_new, fails))| (f, is_new, fails))
        .collect();
    shown.sort_by(|a, b| {
        b.0.severity()
            .cmp(&a.0.severity())
            .then_with(|| a.0.class().cmp(&b.0.class()))
            .then_with(|| a.0.id.cmp(&b.0.id))
            .then_with(|| a.0.target.cmp(&b.0.target))
            .then_with(|| a.0.package.cmp(&b.0.package))
            .then_with(|| a.0.path.cmp(&b.0.path))
            .then_with(|| a.0.lines.cmp(&b.0.lines))
    });
    let classes = shown.iter().map(|(f, _, _)| f.class()).collect();
    let findings = shown
        .into_iter()
        .map(|(f, is_new, fails)| to_finding(f, with_baseline.then_some(is_new), fails))
        .collect();
    (findings, classes)
}

/// Baseline findings gone from the reports, with a note when there are any.
fn fixed(
    baseline: &Baseline,
    current: &HashSet<baseline::Key>,
    notes: &mut Vec<String>,
) -> Vec<Fixed> {
    let fixed: Vec<Fixed> = baseline
        .fixed(current)
        .into_iter()
        .map(|f| Fixed {
            class: f.class().as_str(),
            id: f.id.clone(),
            severity: f.severity().as_str().to_uppercase(),
            package: f.package.clone(),
            installed: f.installed.clone(),
            target: f.target.clone(),
        })
        .collect();
    if !fixed.is_empty() {
        notes.push(format!(
            "{} {} in the baseline {} gone",
            fixed.len(),
            report::plural(fixed.len(), "finding"),
            if fixed.len() == 1 { "is" } else { "are" }
        ));
    }
    fixed
}

/// The verdict: any unreadable input is an error whatever the findings say.
fn verdict(problems: &[InputProblem], mut reasons: Vec<String>) -> (Verdict, Vec<String>) {
    if problems.is_empty() {
        let v = if reasons.is_empty() {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        return (v, reasons);
    }
    let files: BTreeSet<&PathBuf> = problems.iter().map(|p| &p.file).collect();
    reasons.insert(
        0,
        format!(
            "{} {} could not be read: no verdict without {}",
            files.len(),
            report::plural(files.len(), "report"),
            if files.len() == 1 { "it" } else { "them" }
        ),
    );
    (Verdict::Error, reasons)
}

pub fn run(req: Request) -> Outcome {
    let mut problems = Vec::new();
    let (mut findings, formats) = read_all(&req.reports, &mut problems);
    let baseline =
        (!req.baseline.is_empty()).then(|| Baseline::new(read_all(&req.baseline, &mut problems).0));
    let mut notes = req.notes;
    let policy = &req.policy;
    // Ignored and unfixed findings still exist: only what is gone from the reports is fixed.
    let current: HashSet<baseline::Key> = match &baseline {
        Some(_) => findings.iter().map(baseline::key).collect(),
        None => HashSet::new(),
    };
    narrow(&mut findings, policy, &mut notes);

    let (ignored, applied) = ignore::apply(req.ignores, &findings, req.now, policy.warn_days);
    let vex = vex::document(&applied, &findings, req.now);
    let ignores = ignore_report(&applied, &mut notes);
    let n_ignored = ignored.iter().filter(|i| **i).count();
    let in_force: Vec<TrivyFinding> = findings
        .into_iter()
        .zip(ignored)
        .filter_map(|(f, ig)| (!ig).then_some(f))
        .collect();

    let d = decide(&in_force, baseline.as_ref(), policy);
    let with_baseline = baseline.is_some();
    let (result, reasons) = verdict(&problems, reasons(&d, policy, with_baseline));
    let counts = counts(&in_force);
    let fixed = baseline.as_ref().map(|b| fixed(b, &current, &mut notes));
    let gate = Gate {
        failed: result != Verdict::Passed,
        result,
        reasons,
        failing: d.failing_by_class.values().sum(),
        new: with_baseline.then_some(d.new),
        counts,
        fail_on: sev_list(&policy.fail_on),
        failing_by_class: d
            .failing_by_class
            .iter()
            .map(|(c, n)| (c.as_str(), *n))
            .collect(),
        fixed,
        ignore_unfixed: policy.ignore_unfixed,
        ignored: n_ignored,
        ignores,
        inputs: formats,
    };
    let (findings, classes) = shown(in_force, &d, policy, with_baseline);
    let report = Report {
        title: "cicd check trivy".into(),
        rules: classes.into_iter().map(rule_info).collect(),
        findings,
        problems,
        inputs: req.reports.len(),
        notes,
        gate: Some(gate),
        ..Report::default()
    };
    Outcome { report, vex }
}
