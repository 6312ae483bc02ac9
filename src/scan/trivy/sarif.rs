//! Trivy's SARIF output (`trivy … --format sarif`) read back: one finding per result, with
//! the class from the rule's tags and the package, versions and severity from the result
//! message Trivy writes (`Package: …\nInstalled Version: …\nFixed Version: …`).

use std::path::Path;

use serde::Deserialize;

use crate::report::Severity;
use crate::scan::{Class, Parsed, TrivyFinding, severity};

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
    properties: RunProperties,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RunProperties {
    #[serde(rename = "imageName")]
    image_name: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Tool {
    driver: Driver,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Driver {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Rule {
    id: String,
    name: String,
    #[serde(rename = "helpUri")]
    help_uri: Option<String>,
    #[serde(rename = "shortDescription")]
    short_description: Text,
    properties: RuleProperties,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RuleProperties {
    tags: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Text {
    text: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SarifResult {
    #[serde(rename = "ruleId")]
    rule_id: String,
    #[serde(rename = "ruleIndex")]
    rule_index: Option<usize>,
    level: String,
    message: Text,
    locations: Vec<SarifLocation>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SarifLocation {
    #[serde(rename = "physicalLocation")]
    physical: Physical,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Physical {
    #[serde(rename = "artifactLocation")]
    artifact: Artifact,
    region: Region,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Artifact {
    uri: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: usize,
    #[serde(rename = "endLine")]
    end_line: usize,
}

/// `Key: value` from Trivy's result message.
fn line_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn class_of(rule: Option<&Rule>) -> Class {
    let tags = rule.map(|r| r.properties.tags.as_slice()).unwrap_or(&[]);
    let name = rule.map_or("", |r| r.name.as_str());
    let has = |t: &str| tags.iter().any(|x| x.eq_ignore_ascii_case(t));
    if has("misconfiguration") || name == "Misconfiguration" {
        Class::Misconfiguration
    } else if has("secret") || name == "Secret" {
        Class::Secret
    } else if has("license") || name == "License" {
        Class::License
    } else {
        Class::Vulnerability
    }
}

fn level_severity(level: &str) -> Severity {
    match level {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "note" => Severity::Low,
        _ => Severity::Unknown,
    }
}

pub fn findings(runs: Vec<Run>, _shown: &Path) -> Parsed {
    let mut out = Vec::new();
    let mut artifact = String::new();
    for run in runs {
        if artifact.is_empty() {
            artifact = run
                .properties
                .image_name
                .clone()
                .unwrap_or_else(|| run.tool.driver.name.clone());
        }
        let rules = &run.tool.driver.rules;
        for r in run.results {
            let rule = r
                .rule_index
                .and_then(|i| rules.get(i))
                .filter(|x| x.id == r.rule_id)
                .or_else(|| rules.iter().find(|x| x.id == r.rule_id));
            let class = class_of(rule);
            let text = &r.message.text;
            let sev = line_value(text, "Severity:")
                .map(severity)
                .or_else(|| {
                    rule.and_then(|x| x.properties.tags.iter().find_map(|t| Severity::parse(t)))
                })
                .unwrap_or_else(|| level_severity(&r.level));
            let loc = r.locations.into_iter().next().unwrap_or_default();
            let region = &loc.physical.region;
            let id = match class {
                Class::License => line_value(text, "License ")
                    .map(str::to_owned)
                    .unwrap_or_else(|| r.rule_id.clone()),
                _ => r.rule_id.clone(),
            };
            let package = line_value(text, "Package:")
                .or_else(|| line_value(text, "PkgName:"))
                .map(str::to_owned);
            // Trivy points vulnerabilities without a file at line 1, column 1.
            let lines = (class != Class::Vulnerability && region.start_line > 0)
                .then_some((region.start_line, region.end_line.max(region.start_line)));
            out.push(TrivyFinding {
                class: Some(class),
                id,
                severity: Some(sev),
                package,
                installed: line_value(text, "Installed Version:").map(str::to_owned),
                fixed: line_value(text, "Fixed Version:").map(str::to_owned),
                target: loc.physical.artifact.uri,
                target_class: match class {
                    // Trivy names vulnerability rules by the class of their target.
                    Class::Vulnerability => match rule.map(|x| x.name.as_str()) {
                        Some("OsPackageVulnerability") => "os-pkgs",
                        _ => "lang-pkgs",
                    },
                    Class::Misconfiguration => "config",
                    Class::Secret => "secret",
                    Class::License => "license",
                }
                .to_owned(),
                path: line_value(text, "Path:").map(str::to_owned),
                title: rule
                    .map(|x| x.short_description.text.clone())
                    .filter(|t| !t.is_empty())
                    .or_else(|| line_value(text, "Message:").map(str::to_owned)),
                url: rule.and_then(|x| x.help_uri.clone()),
                lines,
                ..TrivyFinding::default()
            });
        }
    }
    for f in &mut out {
        f.artifact.clone_from(&artifact);
    }
    Parsed {
        format: "sarif",
        artifact,
        findings: out,
    }
}
