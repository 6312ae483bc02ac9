//! Python distributions: `*.dist-info/METADATA` (wheels, pip) and `*.egg-info/PKG-INFO` or a
//! bare `*.egg-info` file (setuptools). Purls `pkg:pypi/NAME@VER` with the name normalised
//! as PEP 503 and the purl spec say; `Requires-Dist` becomes dependency edges.

use super::{Cataloger, Env, Found, dir_of, file_name};
use crate::sbom::package::{Package, license, purl};
use crate::sbom::tree::Tree;

pub struct Python;

/// PEP 503 normalisation: lowercase, runs of `-_.` become `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The package a core-metadata file (RFC 822 headers, body after the first blank line)
/// describes.
pub fn parse(text: &str) -> Option<Package> {
    let mut name = None;
    let mut version = None;
    let mut lic_expr = None;
    let mut lic = None;
    let mut summary = None;
    let mut requires = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "version" => version = Some(v),
            "license-expression" => lic_expr = Some(v),
            "license" => lic = Some(v),
            "summary" => summary = Some(v),
            "requires-dist" if !v.contains("extra ==") && !v.contains("extra==") => {
                let dep = v
                    .split([' ', ';', '<', '>', '=', '!', '~', '[', '('])
                    .next()
                    .unwrap_or("");
                if !dep.is_empty() {
                    requires.push(normalize(dep));
                }
            }
            _ => {}
        }
    }
    let (name, version) = (name?, version?);
    let purl = purl("pypi", None, &normalize(name), version, &[])?;
    let mut pkg = Package::new("python", name, version, purl);
    // A long license text in `License:` is not a license name.
    pkg.licenses
        .extend(lic_expr.or(lic.filter(|l| l.len() < 100)).and_then(license));
    pkg.description = summary.map(str::to_owned);
    pkg.depends = requires;
    Some(pkg)
}

impl Cataloger for Python {
    fn id(&self) -> &'static str {
        "python"
    }

    fn wants(&self, path: &str) -> bool {
        let dir = file_name(dir_of(path));
        match file_name(path) {
            "METADATA" => dir.ends_with(".dist-info"),
            "PKG-INFO" => dir.ends_with(".egg-info"),
            name => name.ends_with(".egg-info"),
        }
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            if !self.wants(path) {
                continue;
            }
            match parse(&String::from_utf8_lossy(bytes)) {
                Some(mut pkg) => {
                    pkg.seen.push(env.seen(path, entry));
                    found.packages.push(pkg);
                }
                None => found.warnings.push(format!(
                    "/{path}: no Name and Version: not a Python package"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_core_metadata() {
        let m = "Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.12.2\nLicense-Expression: PSF-2.0\nRequires-Dist: six (>=1.5)\nRequires-Dist: pytest ; extra == 'test'\n\nBody: not a header\n";
        let p = parse(m).expect("package");
        assert_eq!(p.purl, "pkg:pypi/typing-extensions@4.12.2");
        assert_eq!(p.licenses, ["PSF-2.0"]);
        assert_eq!(p.depends, ["six"]);
        assert!(parse("Name: x\n").is_none());
        assert!(Python.wants("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"));
        assert!(!Python.wants("app/METADATA"));
    }
}
