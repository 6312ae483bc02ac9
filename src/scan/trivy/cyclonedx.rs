//! CycloneDX with `vulnerabilities` (`trivy … --format cyclonedx --scanners vuln`): each
//! vulnerability's `affects[].ref` is looked up among the components (nested ones too) for
//! package, version and purl; the fixed version comes from Trivy's `recommendation`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::report::Severity;
use crate::scan::{Class, Parsed, TrivyFinding, severity};

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Metadata {
    component: Option<Component>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct Component {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    name: String,
    version: Option<String>,
    purl: Option<String>,
    components: Vec<Component>,
}

/// Components by `bom-ref`, nested components included.
#[derive(Default)]
pub struct Components(HashMap<String, Component>);

impl<'de> Deserialize<'de> for Components {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Component>::deserialize(d)?;
        let mut map = HashMap::new();
        let mut stack = list;
        while let Some(mut c) = stack.pop() {
            stack.append(&mut c.components);
            if let Some(r) = c.bom_ref.clone() {
                map.insert(r, c);
            }
        }
        Ok(Components(map))
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Vulnerability {
    id: String,
    ratings: Vec<Rating>,
    description: Option<String>,
    recommendation: Option<String>,
    advisories: Vec<Advisory>,
    affects: Vec<Affect>,
    analysis: Option<Analysis>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Rating {
    severity: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Advisory {
    url: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Analysis {
    state: Option<String>,
}

/// `pkg:deb/…` → `os-pkgs`; other purl types are language packages.
fn target_class(purl: Option<&str>) -> &'static str {
    let kind = purl
        .and_then(|p| p.strip_prefix("pkg:"))
        .and_then(|p| p.split('/').next())
        .unwrap_or("");
    match kind {
        "deb" | "apk" | "rpm" | "alpm" => "os-pkgs",
        _ => "lang-pkgs",
    }
}

pub fn findings(
    metadata: Option<Metadata>,
    components: Components,
    vulns: Vec<Vulnerability>,
    _shown: &Path,
) -> Parsed {
    let artifact = metadata
        .and_then(|m| m.component)
        .map(|c| c.name)
        .unwrap_or_default();
    let mut out = Vec::new();
    for v in vulns {
        // VEX statements inside the BOM: these are not vulnerabilities of this artifact.
        if v.analysis
            .as_ref()
            .and_then(|a| a.state.as_deref())
            .is_some_and(|s| matches!(s, "not_affected" | "false_positive" | "resolved"))
        {
            continue;
        }
        let sev = v
            .ratings
            .iter()
            .filter_map(|r| r.severity.as_deref())
            .map(severity)
            .max()
            .unwrap_or(Severity::Unknown);
        let fixed = v
            .recommendation
            .as_deref()
            .and_then(|r| r.split_once(" to version "))
            .map(|(_, v)| v.trim().to_owned());
        for a in &v.affects {
            let component = components.0.get(&a.reference);
            let purl = component
                .and_then(|c| c.purl.clone())
                .or_else(|| a.reference.starts_with("pkg:").then(|| a.reference.clone()));
            out.push(TrivyFinding {
                class: Some(Class::Vulnerability),
                id: v.id.clone(),
                severity: Some(sev),
                package: component.map(|c| c.name.clone()),
                installed: component.and_then(|c| c.version.clone()),
                fixed: fixed.clone(),
                status: Some(if fixed.is_some() { "fixed" } else { "affected" }.to_owned()),
                target: artifact.clone(),
                target_class: target_class(purl.as_deref()).to_owned(),
                purl,
                title: v
                    .description
                    .as_deref()
                    .map(|d| d.split(". ").next().unwrap_or(d).to_owned()),
                url: v.advisories.iter().find_map(|a| a.url.clone()),
                artifact: artifact.clone(),
                ..TrivyFinding::default()
            });
        }
    }
    Parsed {
        format: "cyclonedx",
        artifact,
        findings: out,
    }
}
