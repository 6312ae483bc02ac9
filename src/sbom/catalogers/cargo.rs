//! Rust projects shipped with their `Cargo.lock`: every locked crate, read with RustSec's
//! maintained `cargo-lock` crate (lock format v1 to v4). Purls `pkg:cargo/NAME@VERSION`;
//! crates without a source (the workspace's own members) are applications; each crate's
//! locked dependencies become edges to that exact name and version.

use std::str::FromStr;

use cargo_lock::Lockfile;

use super::{Cataloger, Env, Found, file_name};
use crate::sbom::package::{Class, Package, purl};
use crate::sbom::tree::Tree;

pub struct Cargo;

fn crate_purl(name: &str, version: &str) -> Option<String> {
    purl("cargo", None, name, version, &[])
}

/// Packages one `Cargo.lock` records; `Err` says why it could not be read.
pub fn parse(text: &str) -> Result<Vec<Package>, String> {
    let lock = Lockfile::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for p in &lock.packages {
        let version = p.version.to_string();
        let Some(purl) = crate_purl(p.name.as_str(), &version) else {
            continue;
        };
        let mut pkg = Package::new("cargo", p.name.as_str(), &version, purl);
        match &p.source {
            None => pkg.class = Class::Application,
            Some(s) if s.is_git() => pkg.description = Some(format!("git: {}", s.url())),
            Some(_) => {}
        }
        pkg.depends = p
            .dependencies
            .iter()
            .filter_map(|d| crate_purl(d.name.as_str(), &d.version.to_string()))
            .collect();
        out.push(pkg);
    }
    Ok(out)
}

impl Cataloger for Cargo {
    fn id(&self) -> &'static str {
        "cargo"
    }

    fn wants(&self, path: &str) -> bool {
        file_name(path) == "Cargo.lock"
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            if !self.wants(path) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                found
                    .warnings
                    .push(format!("/{path}: not UTF-8; not catalogued"));
                continue;
            };
            found.file(env, path, entry, parse(text), "not read as a Cargo.lock");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa", "syn 2.0.1"]

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn reads_crates_and_exact_edges() {
        let pkgs = parse(LOCK).expect("parsed");
        assert_eq!(pkgs.len(), 4);
        assert_eq!(pkgs[0].class, Class::Application);
        assert_eq!(
            pkgs[0].depends,
            ["pkg:cargo/itoa@1.0.11", "pkg:cargo/syn@2.0.1"]
        );
        assert_eq!(pkgs[3].purl, "pkg:cargo/syn@2.0.1");
    }

    #[test]
    fn malformed_locks_are_errors_not_panics() {
        for bad in [
            "[[package]]\nname = 3\n",
            "[[package]]\nname = \"a\"\nversion = \"x.y\"\n",
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"missing\"]\n",
            "[[package",
            "\u{0}",
        ] {
            // An error or a best-effort read; never a panic.
            let _ = parse(bad);
        }
        assert!(parse("[[package]]\nname = 3\n").is_err());
        assert!(parse("[[package").is_err());
    }
}
