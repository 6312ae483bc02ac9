//! Alpine packages: `lib/apk/db/installed` (`P:` name, `V:` version, `A:` arch, `L:` license,
//! `D:` dependencies, `o:` origin), purls `pkg:apk/alpine/NAME@VER?arch=…&distro=…`.

use super::{Cataloger, Env, Found};
use crate::sbom::package::{Distro, Package, license, purl};
use crate::sbom::tree::Tree;

pub struct Apk;

const DB: &str = "lib/apk/db/installed";

/// Packages in an apk database.
pub fn parse(text: &str, distro: Option<&Distro>) -> Vec<Package> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut fields: Vec<(char, &str)> = Vec::new();
        for line in block.lines() {
            let mut chars = line.chars();
            if let (Some(k), Some(':')) = (chars.next(), chars.next()) {
                fields.push((k, &line[2..]));
            }
        }
        let get = |k: char| fields.iter().find(|(f, _)| *f == k).map(|(_, v)| *v);
        let (Some(name), Some(version)) = (get('P'), get('V')) else {
            continue;
        };
        let ns = distro.map_or("alpine", |d| d.id.as_str());
        let dq = distro.map(Distro::qualifier).unwrap_or_default();
        let arch = get('A').unwrap_or("");
        let origin = get('o').filter(|o| *o != name).unwrap_or("");
        let Some(purl) = purl(
            "apk",
            Some(ns),
            name,
            version,
            &[("arch", arch), ("distro", &dq), ("upstream", origin)],
        ) else {
            continue;
        };
        let mut pkg = Package::new("apk", name, version, purl);
        pkg.licenses.extend(get('L').and_then(license));
        pkg.description = get('T').map(str::to_owned);
        pkg.depends = get('D')
            .unwrap_or("")
            .split_whitespace()
            .filter(|d| !d.starts_with(['!', '/']) && !d.contains(':'))
            .map(|d| d.split(['=', '<', '>', '~']).next().unwrap_or(d).to_owned())
            .collect();
        out.push(pkg);
    }
    out
}

impl Cataloger for Apk {
    fn id(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, path: &str) -> bool {
        path == DB
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        let Some(entry) = tree.get(DB) else { return };
        let Some((_, bytes)) = tree.read(DB) else {
            return;
        };
        for mut pkg in parse(&String::from_utf8_lossy(bytes), env.distro) {
            pkg.seen.push(env.seen(DB, entry));
            found.packages.push(pkg);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_an_installed_db() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nD:so:libc.musl\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nD:musl>=1.2 /bin/sh\n";
        let d = crate::sbom::package::Distro {
            id: "alpine".into(),
            version_id: Some("3.18.4".into()),
            ..Default::default()
        };
        let p = super::parse(db, Some(&d));
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].purl,
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"
        );
        assert_eq!(p[0].licenses, ["MIT"]);
        assert_eq!(p[1].depends, ["musl"]);
    }
}
