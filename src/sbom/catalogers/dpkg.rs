//! Debian packages: `var/lib/dpkg/status` and the one-file-per-package `status.d/*` that
//! distroless images use. Purls carry `arch` and `distro`; `Depends`/`Pre-Depends` become
//! dependency edges.

use super::{Cataloger, Env, Found, dir_of, file_name};
use crate::sbom::package::{Package, purl};
use crate::sbom::tree::Tree;

pub struct Dpkg;

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";

/// One stanza of a control file: fields in order, continuation lines joined with `\n`.
pub fn paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn field<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Package names a `Depends` value lists (alternatives all count; versions and arch dropped).
pub fn depends(value: &str) -> Vec<String> {
    value
        .split([',', '|'])
        .filter_map(|d| {
            let name = d.trim().split([' ', '(', ':', '[']).next()?.trim();
            (!name.is_empty()).then(|| name.to_owned())
        })
        .collect()
}

/// Packages recorded in one status file.
pub fn parse(text: &str, distro: Option<&crate::sbom::package::Distro>) -> Vec<Package> {
    let mut out = Vec::new();
    for p in paragraphs(text) {
        let (Some(name), Some(version)) = (field(&p, "Package"), field(&p, "Version")) else {
            continue;
        };
        // Distroless status.d files have no Status line: they list installed packages only.
        if field(&p, "Status").is_some_and(|s| !s.ends_with(" installed")) {
            continue;
        }
        let arch = field(&p, "Architecture").unwrap_or("");
        let ns = distro.map_or("debian", |d| d.id.as_str());
        let dq = distro.map(|d| d.qualifier()).unwrap_or_default();
        let Some(purl) = purl(
            "deb",
            Some(ns),
            name,
            version,
            &[("arch", arch), ("distro", &dq)],
        ) else {
            continue;
        };
        let mut pkg = Package::new("dpkg", name, version, purl);
        for f in ["Depends", "Pre-Depends"] {
            pkg.depends
                .extend(field(&p, f).map(depends).unwrap_or_default());
        }
        pkg.description = field(&p, "Description")
            .and_then(|d| d.lines().next())
            .map(str::to_owned);
        out.push(pkg);
    }
    out
}

impl Cataloger for Dpkg {
    fn id(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, path: &str) -> bool {
        path == STATUS || (dir_of(path) == STATUS_D && !file_name(path).ends_with(".md5sums"))
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            if !self.wants(path) {
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            for mut pkg in parse(&text, env.distro) {
                pkg.seen.push(env.seen(path, entry));
                found.packages.push(pkg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_installed_stanzas() {
        let text = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\nDepends: libgcc-s1, foo (>= 1) | bar:any\nDescription: GNU C\n more\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: nover\n";
        let pkgs = parse(text, None);
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].purl, "pkg:deb/debian/libc6@2.36-9?arch=amd64");
        assert_eq!(pkgs[0].depends, ["libgcc-s1", "foo", "bar"]);
    }
}
