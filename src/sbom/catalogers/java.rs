//! Java archives: Maven coordinates from each `META-INF/maven/GROUP/ARTIFACT/pom.properties`
//! (shaded archives list several), else from `META-INF/MANIFEST.MF` (`Implementation-*`,
//! `Bundle-*`), for every archive and the archives nested in it ([`super::java_archive`] reads
//! them as they stream past). Purls `pkg:maven/GROUP/ARTIFACT@VERSION`; an archive whose
//! group cannot be read from its metadata is listed by name and version without a purl.

use super::java_archive::{Record, TAG};
use super::{Cataloger, Env, Found};
use crate::sbom::package::{Package, Seen, is_spdx_expression, purl};
use crate::sbom::tree::Tree;

pub struct Java;

/// `key=value` pairs of a Java properties file (comments, `:` separators and escaped line
/// ends handled; unicode escapes left as written).
pub fn properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        if let Some(at) = entry.find(['=', ':']) {
            let (k, v) = entry.split_at(at);
            out.push((k.trim().to_owned(), v[1..].trim().to_owned()));
        }
    }
    out
}

/// Main attributes of a `MANIFEST.MF` (72-byte lines continued with a leading space).
pub fn manifest(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break; // Per-entry sections follow the main one.
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(cont);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

fn get<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn maven(group: Option<&str>, artifact: &str, version: &str) -> Package {
    let p = group
        .and_then(|g| purl("maven", Some(g), artifact, version, &[]))
        .unwrap_or_default();
    let name = group.map_or(artifact.to_owned(), |g| format!("{g}:{artifact}"));
    Package::new("java", &name, version, p)
}

/// Packages one archive record declares.
pub fn packages(rec: &Record) -> Vec<Package> {
    let mut out = Vec::new();
    let attrs = rec.manifest.as_deref().map(manifest).unwrap_or_default();
    for pom in &rec.poms {
        let f = properties(pom);
        let (Some(g), Some(a), Some(v)) = (
            get(&f, "groupId"),
            get(&f, "artifactId"),
            get(&f, "version"),
        ) else {
            continue;
        };
        out.push(maven(Some(g), a, v));
    }
    if out.is_empty() {
        let title = get(&attrs, "Implementation-Title").or(get(&attrs, "Bundle-Name"));
        let artifact = get(&attrs, "Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or(s).trim())
            .or(title);
        let version = get(&attrs, "Implementation-Version").or(get(&attrs, "Bundle-Version"));
        if let (Some(a), Some(v)) = (artifact, version) {
            // Maven writes the groupId as Implementation-Vendor-Id; nothing else names it.
            out.push(maven(get(&attrs, "Implementation-Vendor-Id"), a, v));
        }
    }
    if let Some(l) = get(&attrs, "Bundle-License").filter(|l| is_spdx_expression(l))
        && out.len() == 1
    {
        out[0].licenses.push(l.to_owned());
    }
    out
}

impl Cataloger for Java {
    fn id(&self) -> &'static str {
        "java"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            let Some(json) = bytes.strip_prefix(TAG) else {
                continue;
            };
            let Ok(records) = serde_json::from_slice::<Vec<Record>>(json) else {
                continue;
            };
            let outer = env.seen(path, entry);
            for rec in &records {
                let seen = Seen {
                    path: if rec.inner.is_empty() {
                        outer.path.clone()
                    } else {
                        format!("{}!/{}", outer.path, rec.inner)
                    },
                    layer: outer.layer.clone(),
                };
                for problem in &rec.problems {
                    found.warnings.push(format!("{}: {problem}", seen.path));
                }
                for mut p in packages(rec) {
                    p.seen.push(seen.clone());
                    found.packages.push(p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pom_properties_win_and_manifests_fill_in() {
        let rec = Record {
            poms: vec![
                "#Generated by Maven\ngroupId = org.apache.commons\nartifactId=commons-lang3\nversion=3.12.0\n".into(),
                "groupId=only-group\n".into(),
            ],
            manifest: Some("Bundle-License: Apache-2.0\n".into()),
            ..Record::default()
        };
        let p = packages(&rec);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].purl,
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
        );
        assert_eq!(p[0].licenses, ["Apache-2.0"]);
        let rec = Record {
            manifest: Some("Implementation-Title: app\nImplementation-Version: 2\nImplementation-Vendor-Id: org.ex\n\nName: x\nImplementation-Version: 9\n".into()),
            ..Record::default()
        };
        assert_eq!(packages(&rec)[0].purl, "pkg:maven/org.ex/app@2");
        let rec = Record {
            manifest: Some("Bundle-SymbolicName: a.b;singleton:=true\nBundle-Version: 1\n".into()),
            ..Record::default()
        };
        let p = packages(&rec);
        assert_eq!((p[0].name.as_str(), p[0].purl.as_str()), ("a.b", ""));
    }

    #[test]
    fn malformed_metadata_gives_nothing_not_panics() {
        for text in [
            "",
            "=",
            ":\n \n",
            "\\",
            "a=b\\",
            "\u{0}=\u{0}",
            "key\n continued: x",
        ] {
            let _ = (properties(text), manifest(text));
            let rec = Record {
                poms: vec![text.into()],
                manifest: Some(text.into()),
                ..Record::default()
            };
            assert!(packages(&rec).is_empty(), "{text:?}");
        }
        assert_eq!(
            properties("a=b\\\n  c\n"),
            [("a".to_owned(), "bc".to_owned())]
        );
    }
}
