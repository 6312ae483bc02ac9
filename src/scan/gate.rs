//! The gate: reports → de-duplicated findings → `--ignore-unfixed` → ignores → baseline →
//! pass or fail per class (severities that fail, maximum count), and the [`Report`] every
//! renderer shows. By default it fails like `trivy convert --exit-code 1` would: on any
//! vulnerability, failed misconfiguration, secret or license at the fail-on severities.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::baseline::{self, Baseline};
use super::finding::{plural_class, rule_info, to_finding};
use super::ignore::{self, Ignore, State};
use super::{Class, TrivyFinding, clock, parse, vex};
use crate::report::{Finding, Gate, InputProblem, Report, Severity};

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
    /// Seconds since the epoch ([`clock::now`]).
    pub now: i64,
    /// Notes gathered while reading ignore files.
    pub notes: Vec<String>,
}

pub struct Outcome {
    pub report: Report,
    /// The OpenVEX document of the ignores that applied (for `--vex-out`).
    pub vex: Option<Value>,
    /// Counts by severity of the findings in force (after ignores), for `$GITHUB_OUTPUT`.
    pub counts: BTreeMap<Severity, usize>,
}

/// Reads the files, drops Trivy's own duplicates (same target, id, package, version, path).
fn read_all(
    inputs: &[Input],
    problems: &mut Vec<InputProblem>,
) -> (Vec<TrivyFinding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut formats = Vec::new();
    for input in inputs {
        match parse::read(&input.path, &input.shown) {
            Ok(mut parsed) => {
                for f in &mut parsed.findings {
                    f.report.clone_from(&input.shown);
                }
                formats.push(format!(
                    "{} ({}{})",
                    input.shown.display(),
                    parsed.format,
                    if parsed.artifact.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", parsed.artifact)
                    }
                ));
                findings.append(&mut parsed.findings);
            }
            Err(p) => problems.push(p),
        }
    }
    // Hash the key and compare only on a hash hit: no key is copied.
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::with_capacity(findings.len());
    let mut keep: Vec<TrivyFinding> = Vec::with_capacity(findings.len());
    for f in findings {
        let key = f.dedup_key();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let slot = seen.entry(h.finish()).or_default();
        if slot.iter().any(|&i| keep[i].dedup_key() == key) {
            continue;
        }
        slot.push(keep.len());
        keep.push(f);
    }
    (keep, formats)
}

fn sev_list(set: &BTreeSet<Severity>) -> String {
    set.iter()
        .rev()
        .map(|s| s.as_str().to_uppercase())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn run(req: Request) -> Outcome {
    let mut problems = Vec::new();
    let (mut findings, formats) = read_all(&req.reports, &mut problems);
    let baseline = if req.baseline.is_empty() {
        None
    } else {
        let (base, _) = read_all(&req.baseline, &mut problems);
        Some(Baseline::new(base))
    };
    let mut notes = req.notes;
    let policy = &req.policy;
    // Ignored and unfixed findings still exist: only what is gone from the reports is fixed.
    let current_keys: HashSet<baseline::Key> = if baseline.is_some() {
        findings.iter().map(baseline::key).collect()
    } else {
        HashSet::new()
    };

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

    let (ignored, applied) = ignore::apply(req.ignores, &findings, req.now, policy.warn_days);
    let vex = vex::document(&applied, &findings, req.now);
    let mut ignore_rows = Vec::new();
    for ((ig, matched), state) in applied
        .ignores
        .iter()
        .zip(&applied.matched)
        .zip(&applied.states)
    {
        match state {
            State::Expired => notes.push(format!(
                "ignore {} ({}) expired on {}: it no longer applies{}",
                ig.id,
                ig.source,
                ig.expires.map(clock::date).unwrap_or_default(),
                if matched.is_empty() {
                    String::new()
                } else {
                    format!(
                        " and {} {} again",
                        matched.len(),
                        if matched.len() == 1 {
                            "finding counts"
                        } else {
                            "findings count"
                        }
                    )
                }
            )),
            State::Expiring(days) => notes.push(format!(
                "ignore {} ({}) expires on {} (in {days} {})",
                ig.id,
                ig.source,
                ig.expires.map(clock::date).unwrap_or_default(),
                crate::report::plural(usize::try_from(*days).unwrap_or(0), "day")
            )),
            State::Stale => notes.push(format!(
                "ignore {} ({}) matches nothing: remove it",
                ig.id, ig.source
            )),
            State::Applied => {}
        }
        let mut row = json!({
            "id": ig.id,
            "source": ig.source,
            "status": state.as_str(),
            "matched": matched.len(),
        });
        if let Some(t) = ig.expires {
            row["expires"] = json!(clock::date(t));
        }
        if let Some(r) = &ig.reason {
            row["reason"] = json!(r);
        }
        if let Some(o) = &ig.owner {
            row["owner"] = json!(o);
        }
        ignore_rows.push(row);
    }
    let n_ignored = ignored.iter().filter(|i| **i).count();
    let in_force: Vec<TrivyFinding> = findings
        .into_iter()
        .zip(ignored)
        .filter(|(_, ig)| !*ig)
        .map(|(f, _)| f)
        .collect();

    // The gate.
    let mut failing_by_class: BTreeMap<Class, usize> = BTreeMap::new();
    let mut decisions = Vec::with_capacity(in_force.len());
    let mut new_count = 0;
    for f in &in_force {
        let is_new = baseline.as_ref().is_none_or(|b| !b.contains(f));
        new_count += usize::from(is_new);
        let cp = policy.class(f.class());
        let fails = is_new
            && cp
                .fail_on
                .as_ref()
                .unwrap_or(&policy.fail_on)
                .contains(&f.severity());
        if fails {
            *failing_by_class.entry(f.class()).or_default() += 1;
        }
        decisions.push((is_new, fails));
    }
    let mut reasons = Vec::new();
    for (class, n) in &failing_by_class {
        let cp = policy.class(*class);
        if *n > cp.max {
            let sevs = cp.fail_on.as_ref().unwrap_or(&policy.fail_on);
            reasons.push(format!(
                "{n} {}{} at {} (at most {} allowed)",
                if baseline.is_some() { "new " } else { "" },
                plural_class(*class, *n),
                sev_list(sevs),
                cp.max
            ));
        }
    }
    let failing: usize = failing_by_class.values().sum();

    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &in_force {
        *counts.entry(f.severity()).or_default() += 1;
    }

    // What is shown.
    let mut shown: Vec<(TrivyFinding, bool, bool)> = in_force
        .into_iter()
        .zip(decisions)
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
    });
    let classes: BTreeSet<Class> = shown.iter().map(|(f, _, _)| f.class()).collect();
    let with_baseline = baseline.is_some();
    let findings: Vec<Finding> = shown
        .into_iter()
        .map(|(f, is_new, fails)| to_finding(f, with_baseline.then_some(is_new), fails))
        .collect();

    let mut details = Map::new();
    details.insert(
        "fail_on".into(),
        json!(
            policy
                .fail_on
                .iter()
                .rev()
                .map(|s| s.as_str().to_uppercase())
                .collect::<Vec<_>>()
        ),
    );
    details.insert(
        "counts".into(),
        Value::Object(
            Severity::ALL
                .iter()
                .map(|s| {
                    (
                        s.as_str().to_owned(),
                        json!(counts.get(s).copied().unwrap_or(0)),
                    )
                })
                .collect(),
        ),
    );
    details.insert(
        "failing_by_class".into(),
        Value::Object(
            failing_by_class
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), json!(n)))
                .collect(),
        ),
    );
    details.insert("ignored".into(), json!(n_ignored));
    details.insert("ignores".into(), Value::Array(ignore_rows));
    details.insert("ignore_unfixed".into(), json!(policy.ignore_unfixed));
    if let Some(b) = &baseline {
        let fixed: Vec<Value> = b
            .fixed(&current_keys)
            .into_iter()
            .map(|f| {
                json!({
                    "class": f.class().as_str(),
                    "id": f.id,
                    "severity": f.severity().as_str().to_uppercase(),
                    "package": f.package,
                    "installed": f.installed,
                    "target": f.target,
                })
            })
            .collect();
        if !fixed.is_empty() {
            notes.push(format!(
                "{} {} in the baseline {} gone",
                fixed.len(),
                crate::report::plural(fixed.len(), "finding"),
                if fixed.len() == 1 { "is" } else { "are" }
            ));
        }
        details.insert("fixed".into(), Value::Array(fixed));
    }
    details.insert("inputs".into(), json!(formats));

    let report = Report {
        title: "cicd check trivy".into(),
        rules: classes.into_iter().map(rule_info).collect(),
        findings,
        problems,
        inputs: req.reports.len(),
        notes,
        gate: Some(Gate {
            failed: !reasons.is_empty(),
            reasons,
            failing,
            new: with_baseline.then_some(new_count),
            details,
        }),
        ..Report::default()
    };
    Outcome {
        report,
        vex,
        counts,
    }
}
