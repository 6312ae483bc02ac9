//! The operating system, from `etc/os-release` (or `usr/lib/os-release` it usually links to).

use super::{Cataloger, Env, Found};
use crate::sbom::package::{Class, Distro, Package};
use crate::sbom::tree::Tree;

pub struct OsRelease;

const PATHS: &[&str] = &["etc/os-release", "usr/lib/os-release"];

/// The distribution the image is built on, when it says.
pub fn distro(tree: &Tree) -> Option<Distro> {
    let (_, bytes) = PATHS.iter().find_map(|p| tree.read(p))?;
    parse(&String::from_utf8_lossy(bytes))
}

/// Parses os-release's shell-like `KEY=value` lines (values optionally quoted).
pub fn parse(text: &str) -> Option<Distro> {
    let mut d = Distro::default();
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v)
            .to_owned();
        match k {
            "ID" => d.id = v.to_ascii_lowercase(),
            "VERSION_ID" => d.version_id = Some(v),
            "PRETTY_NAME" => d.pretty_name = Some(v),
            "CPE_NAME" => d.cpe = Some(v),
            _ => {}
        }
    }
    (!d.id.is_empty()).then_some(d)
}

impl Cataloger for OsRelease {
    fn id(&self) -> &'static str {
        "os-release"
    }

    fn wants(&self, path: &str) -> bool {
        PATHS.contains(&path)
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        let Some(d) = env.distro else { return };
        let Some((path, _)) = PATHS.iter().find_map(|p| tree.read(p)) else {
            return;
        };
        let version = d.version_id.clone().unwrap_or_default();
        // No purl type exists for an operating system; CycloneDX identifies it by name,
        // version and CPE.
        let mut p = Package::new("os-release", &d.id, &version, String::new());
        p.class = Class::OperatingSystem;
        p.cpe = d.cpe.clone();
        p.description = d.pretty_name.clone();
        if let Some(e) = tree.get(&path) {
            p.seen.push(env.seen(&path, e));
        }
        found.packages.push(p);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_quoted_values() {
        let d = super::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        )
        .expect("parsed");
        assert_eq!(d.qualifier(), "debian-12");
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert!(super::parse("NAME=x").is_none());
    }
}
