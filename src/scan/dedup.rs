//! De-duplication as Trivy does it (`pkg/result/filter.go`, `filterVulnerabilities`): only
//! vulnerabilities are merged, on Trivy's key (id, `PkgID`, package, installed version,
//! `PkgPath`) within one target, keeping the one with the greater fixed version.
//! Misconfigurations, secrets and licenses are never merged within a report: one check
//! failing on several resources, or one secret rule matching on several lines, are several
//! findings. Across reports (the same scan given twice), an entry identical in every field,
//! place included, is shown once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{Class, TrivyFinding};

/// Trivy's duplicate key of a vulnerability, within its target and artifact.
fn vuln_key(f: &TrivyFinding) -> impl Hash + Eq + '_ {
    (
        &f.artifact,
        &f.target,
        &f.id,
        f.pkg_id.as_deref(),
        f.package.as_deref(),
        f.installed.as_deref(),
        f.path.as_deref(),
    )
}

/// Everything that tells two other findings apart, their place included.
fn exact_key(f: &TrivyFinding) -> impl Hash + Eq + '_ {
    (
        (f.class(), &f.artifact, &f.target, &f.id, f.severity()),
        (
            f.package.as_deref(),
            f.installed.as_deref(),
            f.path.as_deref(),
        ),
        (f.lines, f.title.as_deref(), f.purl.as_deref()),
    )
}

fn hash_of<K: Hash>(k: &K) -> u64 {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// Go's `old.FixedVersion < new.FixedVersion`: the same one is always picked.
fn overwrite(old: &TrivyFinding, new: &TrivyFinding) -> bool {
    old.fixed.as_deref().unwrap_or("") < new.fixed.as_deref().unwrap_or("")
}

/// The findings of each report (in order), without Trivy's duplicates.
pub fn dedup(reports: Vec<Vec<TrivyFinding>>) -> Vec<TrivyFinding> {
    let total = reports.iter().map(Vec::len).sum();
    let mut keep: Vec<TrivyFinding> = Vec::with_capacity(total);
    // Hash of the key → indexes into `keep` (compared only on a hash hit: no key is copied).
    let mut vulns: HashMap<u64, Vec<usize>> = HashMap::new();
    // Hash of the exact key → (index into `keep`, report it came from).
    let mut others: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
    for (report, findings) in reports.into_iter().enumerate() {
        for f in findings {
            if f.class() == Class::Vulnerability {
                let slot = vulns.entry(hash_of(&vuln_key(&f))).or_default();
                match slot.iter().find(|&&i| vuln_key(&keep[i]) == vuln_key(&f)) {
                    Some(&i) => {
                        if overwrite(&keep[i], &f) {
                            keep[i] = f;
                        }
                    }
                    None => {
                        slot.push(keep.len());
                        keep.push(f);
                    }
                }
                continue;
            }
            let slot = others.entry(hash_of(&exact_key(&f))).or_default();
            let elsewhere = slot
                .iter()
                .any(|&(i, r)| r != report && exact_key(&keep[i]) == exact_key(&f));
            if !elsewhere {
                slot.push((keep.len(), report));
                keep.push(f);
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(class: Class, id: &str, lines: Option<(usize, usize)>) -> TrivyFinding {
        TrivyFinding {
            class: Some(class),
            id: id.into(),
            target: "deploy.yaml".into(),
            lines,
            ..TrivyFinding::default()
        }
    }

    #[test]
    fn only_vulnerabilities_merge_within_a_report() {
        let mut v1 = finding(Class::Vulnerability, "CVE-1", None);
        v1.package = Some("p".into());
        let mut v2 = v1.clone();
        v2.fixed = Some("2.0".into());
        let m1 = finding(Class::Misconfiguration, "KSV-0046", Some((3, 9)));
        let m2 = finding(Class::Misconfiguration, "KSV-0046", Some((20, 30)));
        let same = m1.clone();
        let kept = dedup(vec![vec![v1, v2, m1.clone(), m2, same]]);
        assert_eq!(kept.len(), 4, "{kept:#?}");
        assert_eq!(
            kept[0].fixed.as_deref(),
            Some("2.0"),
            "greater fixed version"
        );
        // The same report given twice: the second copy adds nothing.
        let again = dedup(vec![vec![m1.clone()], vec![m1]]);
        assert_eq!(again.len(), 1);
    }
}
