//! npm packages: each installed `node_modules/[@scope/]NAME/package.json`, and the packages a
//! `package-lock.json` (lockfile v2/v3 `packages` map) records with their dependency edges.
//! Purls `pkg:npm/%40scope/NAME@VER`.

use serde_json::Value;

use super::{Cataloger, Env, Found, dir_of, file_name};
use crate::sbom::package::{Package, license, purl};
use crate::sbom::tree::Tree;

pub struct Npm;

/// `node_modules/NAME/package.json` or `node_modules/@scope/NAME/package.json`.
fn is_installed_manifest(path: &str) -> bool {
    if file_name(path) != "package.json" {
        return false;
    }
    let pkg_dir = dir_of(path);
    let parent = dir_of(pkg_dir);
    file_name(parent) == "node_modules"
        || (file_name(parent).starts_with('@') && file_name(dir_of(parent)) == "node_modules")
}

fn npm_purl(name: &str, version: &str) -> Option<String> {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => purl("npm", Some(scope), n, version, &[]),
        _ => purl("npm", None, name, version, &[]),
    }
}

fn license_of(v: &Value) -> Option<String> {
    match v.get("license") {
        Some(Value::String(s)) => license(s),
        Some(Value::Object(o)) => o.get("type").and_then(Value::as_str).and_then(license),
        _ => None,
    }
}

fn deps_of(v: &Value) -> Vec<String> {
    ["dependencies", "optionalDependencies"]
        .iter()
        .filter_map(|k| v.get(k).and_then(Value::as_object))
        .flat_map(|o| o.keys().cloned())
        .collect()
}

/// The package an installed `package.json` describes.
pub fn parse_manifest(bytes: &[u8]) -> Option<Package> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let name = v.get("name")?.as_str()?;
    let version = v.get("version")?.as_str()?;
    let mut pkg = Package::new("npm", name, version, npm_purl(name, version)?);
    pkg.licenses.extend(license_of(&v));
    pkg.description = v
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    pkg.depends = deps_of(&v);
    Some(pkg)
}

/// The packages a lockfile (v2/v3 `packages` map) records, the root project left out.
pub fn parse_lock(bytes: &[u8]) -> Option<Vec<Package>> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let packages = v.get("packages")?.as_object()?;
    let mut out = Vec::new();
    for (key, p) in packages {
        let Some(at) = key.rfind("node_modules/") else {
            continue;
        };
        if p.get("link").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&key[at + "node_modules/".len()..]);
        let Some(version) = p.get("version").and_then(Value::as_str) else {
            continue;
        };
        let Some(purl) = npm_purl(name, version) else {
            continue;
        };
        let mut pkg = Package::new("npm", name, version, purl);
        pkg.licenses.extend(license_of(p));
        pkg.depends = deps_of(p);
        out.push(pkg);
    }
    Some(out)
}

impl Cataloger for Npm {
    fn id(&self) -> &'static str {
        "npm"
    }

    fn wants(&self, path: &str) -> bool {
        file_name(path) == "package-lock.json" || is_installed_manifest(path)
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            let pkgs = if file_name(path) == "package-lock.json" {
                parse_lock(bytes)
            } else if is_installed_manifest(path) {
                parse_manifest(bytes).map(|p| vec![p])
            } else {
                continue;
            };
            match pkgs {
                Some(pkgs) => found.packages.extend(pkgs.into_iter().map(|mut p| {
                    p.seen.push(env.seen(path, entry));
                    p
                })),
                None => found.warnings.push(format!(
                    "/{path}: not an npm manifest with name and version"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_manifests_and_locks() {
        assert!(is_installed_manifest(
            "app/node_modules/@scope/x/package.json"
        ));
        assert!(is_installed_manifest("node_modules/x/package.json"));
        assert!(!is_installed_manifest("app/package.json"));
        assert!(!is_installed_manifest("node_modules/x/lib/package.json"));
        let p = parse_manifest(
            br#"{"name":"@scope/x","version":"1.0.0","license":"MIT","dependencies":{"y":"^2"}}"#,
        )
        .expect("manifest");
        assert_eq!(p.purl, "pkg:npm/%40scope/x@1.0.0");
        assert_eq!(p.depends, ["y"]);
        let lock = br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/y":{"version":"2.1.0","license":"ISC"},"node_modules/y/node_modules/z":{"version":"0.1.0"}}}"#;
        let l = parse_lock(lock).expect("lock");
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].purl, "pkg:npm/z@0.1.0");
        assert!(parse_manifest(b"{").is_none());
    }
}
