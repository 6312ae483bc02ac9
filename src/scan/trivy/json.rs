//! Trivy's JSON report (SchemaVersion 2): `Results[]` with `Vulnerabilities`,
//! `Misconfigurations` (only `FAIL` counts, as in Trivy), `Secrets` and `Licenses`. Each
//! result is turned into findings as soon as it is read.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::report::Severity;
use crate::scan::{Class, Parsed, TrivyFinding, severity};

/// A severity read without allocating (reports hold one per finding).
#[derive(Default)]
struct Sev(Option<Severity>);

impl<'de> Deserialize<'de> for Sev {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Sev;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a severity")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Sev, E> {
                Ok(Sev(Some(severity(s))))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Sev, E> {
                Ok(Sev(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Metadata {
    #[serde(rename = "ImageConfig")]
    image_config: ImageConfig,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ImageConfig {
    os: Option<String>,
    architecture: Option<String>,
    variant: Option<String>,
}

/// `Results`, already flattened into findings (without artifact, set once the file is read).
#[derive(Default)]
pub struct Results(Vec<TrivyFinding>);

impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Results;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of results")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Results, A::Error> {
                let mut out = Vec::new();
                while let Some(result) = seq.next_element::<RawResult>()? {
                    result.into_findings(&mut out);
                }
                Ok(Results(out))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct RawResult {
    target: String,
    class: String,
    packages: Option<Vec<Package>>,
    vulnerabilities: Option<Vec<Vuln>>,
    misconfigurations: Option<Vec<Misconf>>,
    secrets: Option<Vec<Secret>>,
    licenses: Option<Vec<License>>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Package {
    #[serde(rename = "ID")]
    id: String,
    locations: Option<Vec<Lines>>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Lines {
    start_line: usize,
    end_line: usize,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Identifier {
    #[serde(rename = "PURL")]
    purl: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Vuln {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    #[serde(rename = "PkgID")]
    pkg_id: Option<String>,
    pkg_name: Option<String>,
    pkg_path: Option<String>,
    pkg_identifier: Identifier,
    installed_version: Option<String>,
    fixed_version: Option<String>,
    status: Option<String>,
    severity: Sev,
    title: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Misconf {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "AVDID")]
    avd_id: Option<String>,
    aliases: Vec<String>,
    title: Option<String>,
    message: Option<String>,
    severity: Sev,
    status: String,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    resolution: Option<String>,
    cause_metadata: Lines,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Secret {
    #[serde(rename = "RuleID")]
    rule_id: String,
    severity: Sev,
    title: Option<String>,
    start_line: usize,
    end_line: usize,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct License {
    name: String,
    severity: Sev,
    pkg_name: Option<String>,
    file_path: Option<String>,
    category: Option<String>,
    link: Option<String>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn lines(l: &Lines) -> Option<(usize, usize)> {
    (l.start_line > 0).then_some((l.start_line, l.end_line.max(l.start_line)))
}

impl RawResult {
    fn into_findings(self, out: &mut Vec<TrivyFinding>) {
        let base = TrivyFinding {
            target: self.target,
            target_class: self.class,
            ..TrivyFinding::default()
        };
        // Where a lockfile declares each package, for annotations.
        let located: HashMap<String, (usize, usize)> = self
            .packages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                let l = p.locations.as_ref()?.first().and_then(lines)?;
                Some((p.id, l))
            })
            .collect();
        for v in self.vulnerabilities.unwrap_or_default() {
            let lines = v.pkg_id.as_ref().and_then(|id| located.get(id)).copied();
            let pkg_id = nonempty(v.pkg_id);
            out.push(TrivyFinding {
                class: Some(Class::Vulnerability),
                id: v.vulnerability_id,
                severity: Some(v.severity.0.unwrap_or(Severity::Unknown)),
                pkg_id,
                package: nonempty(v.pkg_name),
                installed: nonempty(v.installed_version),
                fixed: nonempty(v.fixed_version),
                status: nonempty(v.status),
                path: nonempty(v.pkg_path),
                purl: nonempty(v.pkg_identifier.purl),
                title: nonempty(v.title),
                url: nonempty(v.primary_url),
                lines,
                ..base.clone()
            });
        }
        for m in self.misconfigurations.unwrap_or_default() {
            if m.status != "FAIL" {
                continue;
            }
            let mut aliases: Vec<String> = nonempty(m.avd_id).into_iter().collect();
            aliases.extend(m.aliases);
            out.push(TrivyFinding {
                class: Some(Class::Misconfiguration),
                id: m.id,
                severity: Some(m.severity.0.unwrap_or(Severity::Unknown)),
                aliases,
                title: nonempty(m.message).or(nonempty(m.title)),
                url: nonempty(m.primary_url),
                resolution: nonempty(m.resolution),
                lines: lines(&m.cause_metadata),
                ..base.clone()
            });
        }
        for s in self.secrets.unwrap_or_default() {
            out.push(TrivyFinding {
                class: Some(Class::Secret),
                id: s.rule_id,
                severity: Some(s.severity.0.unwrap_or(Severity::Unknown)),
                title: nonempty(s.title),
                lines: lines(&Lines {
                    start_line: s.start_line,
                    end_line: s.end_line,
                }),
                ..base.clone()
            });
        }
        for l in self.licenses.unwrap_or_default() {
            out.push(TrivyFinding {
                class: Some(Class::License),
                id: l.name,
                severity: Some(l.severity.0.unwrap_or(Severity::Unknown)),
                package: nonempty(l.pkg_name),
                path: nonempty(l.file_path),
                title: nonempty(l.category).map(|c| format!("license category: {c}")),
                url: nonempty(l.link),
                ..base.clone()
            });
        }
    }
}

/// The findings of a Trivy JSON report.
pub fn findings(
    artifact: String,
    metadata: Option<Metadata>,
    results: Results,
    _shown: &Path,
) -> Parsed {
    let platform = metadata.and_then(|m| {
        let c = m.image_config;
        let mut p = format!("{}/{}", c.os?, c.architecture?);
        if let Some(v) = c.variant.filter(|v| !v.is_empty()) {
            p.push('/');
            p.push_str(&v);
        }
        Some(p)
    });
    let artifact = match platform {
        Some(p) if !artifact.is_empty() => format!("{artifact} ({p})"),
        _ => artifact,
    };
    let mut findings = results.0;
    for f in &mut findings {
        f.artifact.clone_from(&artifact);
    }
    Parsed {
        format: "trivy-json",
        artifact,
        findings,
    }
}
