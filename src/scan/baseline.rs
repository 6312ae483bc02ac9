//! The baseline diff: a finding is new when the base branch's report has no finding with the
//! same class, id, package, installed version and target class (`os-pkgs`, `lang-pkgs` …,
//! which survive an image being renamed); misconfigurations, secrets and licenses also match
//! on their file. Baseline findings missing from the current reports are listed as fixed.

use std::collections::HashSet;

use super::{Class, TrivyFinding};

/// What identifies a finding across two scans.
pub type Key = (Class, String, String, String, String);

pub fn key(f: &TrivyFinding) -> Key {
    let place = match f.class() {
        Class::Vulnerability => f.target_class.clone(),
        Class::License => f.path.clone().unwrap_or_else(|| f.target.clone()),
        Class::Misconfiguration | Class::Secret => f.target.clone(),
    };
    (
        f.class(),
        f.id.clone(),
        f.package.clone().unwrap_or_default(),
        f.installed.clone().unwrap_or_default(),
        place,
    )
}

/// The keys of a baseline.
pub struct Baseline {
    keys: HashSet<Key>,
    findings: Vec<TrivyFinding>,
}

impl Baseline {
    pub fn new(findings: Vec<TrivyFinding>) -> Self {
        Self {
            keys: findings.iter().map(key).collect(),
            findings,
        }
    }

    pub fn contains(&self, f: &TrivyFinding) -> bool {
        self.keys.contains(&key(f))
    }

    /// Baseline findings none of `current` matches, one per key.
    pub fn fixed<'a>(&'a self, now: &HashSet<Key>) -> Vec<&'a TrivyFinding> {
        let mut seen = HashSet::new();
        self.findings
            .iter()
            .filter(|f| {
                let k = key(f);
                !now.contains(&k) && seen.insert(k)
            })
            .collect()
    }
}
