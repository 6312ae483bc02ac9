//! Rust binaries built with `cargo auditable`: the dependency list it embeds in a `.dep-v0`
//! section (zlib-compressed JSON). The section is found and decompressed by the maintained
//! `auditable-info` crate ([`super::binary`]) and read into `auditable-serde`'s model, which
//! checks the dependency indices. Purls `pkg:cargo/NAME@VERSION`; the root package is the
//! application, its runtime dependencies become edges (build-time ones are left out of the
//! graph but listed, as the binary records them).

use auditable_serde::{DependencyKind, Source, VersionInfo};

use super::binary::AUDIT_TAG;
use super::{Cataloger, Env, Found};
use crate::sbom::package::{Class, Package, purl};
use crate::sbom::tree::Tree;

pub struct RustAudit;

/// The purl of one crate; git and path crates carry no registry, so they get a plain purl
/// with the version the binary records.
fn crate_purl(name: &str, version: &str) -> Option<String> {
    purl("cargo", None, name, version, &[])
}

/// Packages one cargo-auditable JSON document records; `Err` names what is wrong with it.
pub fn parse(json: &[u8]) -> Result<Vec<Package>, String> {
    let info: VersionInfo = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let purls: Vec<Option<String>> = info
        .packages
        .iter()
        .map(|p| crate_purl(&p.name, &p.version.to_string()))
        .collect();
    let mut out = Vec::new();
    for (p, purl) in info.packages.iter().zip(&purls) {
        let Some(purl) = purl else { continue };
        let mut pkg = Package::new(
            "cargo-auditable",
            &p.name,
            &p.version.to_string(),
            purl.clone(),
        );
        if p.root {
            pkg.class = Class::Application;
        }
        if p.kind == DependencyKind::Build {
            pkg.description = Some("build-time dependency".into());
        }
        if let Source::Git = p.source {
            pkg.description = Some("from a git repository".into());
        }
        pkg.depends = p
            .dependencies
            .iter()
            .filter_map(|&i| info.packages.get(i))
            .filter(|d| d.kind == DependencyKind::Runtime)
            .filter_map(|d| crate_purl(&d.name, &d.version.to_string()))
            .collect();
        out.push(pkg);
    }
    Ok(out)
}

impl Cataloger for RustAudit {
    fn id(&self) -> &'static str {
        "cargo-auditable"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            let Some(json) = bytes.strip_prefix(AUDIT_TAG) else {
                continue;
            };
            found.file(
                env,
                path,
                entry,
                parse(json),
                "cargo-auditable data not read",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_packages_edges_and_the_root() {
        let json = br#"{"packages":[
            {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
            {"name":"itoa","version":"1.0.11","source":"crates.io"},
            {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#;
        let pkgs = parse(json).expect("parsed");
        assert_eq!(pkgs.len(), 3);
        assert_eq!(pkgs[0].class, Class::Application);
        assert_eq!(pkgs[0].purl, "pkg:cargo/app@0.1.0");
        assert_eq!(pkgs[0].depends, ["pkg:cargo/itoa@1.0.11"]);
        assert_eq!(pkgs[1].purl, "pkg:cargo/itoa@1.0.11");
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"packages\":7}",
            b"{\"packages\":[{\"name\":\"a\",\"version\":\"not-semver\",\"source\":\"crates.io\"}]}",
            b"\xff\xfe",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // A dependency index past the end is ignored, not followed.
        let dangling = br#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[9],"root":true}]}"#;
        let pkgs = parse(dangling).expect("read");
        assert!(pkgs[0].depends.is_empty());
        assert!(super::super::binary::audit_json(b"\x7fELF.dep-v0 garbage").is_none());
    }
}
