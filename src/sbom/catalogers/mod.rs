//! Catalogers: one file per package ecosystem, each saying which paths it needs read and
//! turning their contents into packages. Registered in [`LIST`]; adding one touches only that
//! list. Parsers never fail the SBOM: a record they cannot read is skipped with a warning.

pub mod apk;
pub mod binary;
pub mod cargo;
pub mod dpkg;
pub mod golang;
pub mod java;
pub mod java_archive;
pub mod npm;
pub mod os_release;
pub mod python;
pub mod rpm;
pub mod rpm_header;
pub mod rust_audit;

use super::package::{Distro, Package, Seen};
use super::tree::{Entry, Tree};

/// What every cataloger sees besides the tree.
pub struct Env<'a> {
    pub distro: Option<&'a Distro>,
    /// Layer digests by index, for evidence.
    pub layers: &'a [String],
}

impl Env<'_> {
    pub fn seen(&self, path: &str, entry: &Entry) -> Seen {
        Seen {
            path: format!("/{path}"),
            layer: entry.layer.and_then(|i| self.layers.get(i).cloned()),
        }
    }
}

pub trait Cataloger: Sync {
    /// Short name, also the ecosystem packages are grouped under (`dpkg`, `npm`…).
    fn id(&self) -> &'static str;
    /// Whether the contents of `path` (relative to the root, no leading `/`) are needed.
    fn wants(&self, path: &str) -> bool;
    /// The packages the kept files record; problems go to `warnings`.
    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found);
}

/// Packages and warnings gathered by one cataloger run.
#[derive(Default)]
pub struct Found {
    pub packages: Vec<Package>,
    pub warnings: Vec<String>,
}

impl Found {
    /// Records what one file gave: its packages, each seen at `path`, or a warning
    /// `/{path}: {what}: {error}` when it could not be read.
    pub fn file<E: std::fmt::Display>(
        &mut self,
        env: &Env<'_>,
        path: &str,
        entry: &Entry,
        read: Result<Vec<Package>, E>,
        what: &str,
    ) {
        match read {
            Ok(pkgs) => {
                for mut p in pkgs {
                    p.seen.push(env.seen(path, entry));
                    self.packages.push(p);
                }
            }
            Err(e) => self.warnings.push(format!("/{path}: {what}: {e}")),
        }
    }
}

/// Every cataloger, in the order they run.
pub static LIST: &[&dyn Cataloger] = &[
    &os_release::OsRelease,
    &dpkg::Dpkg,
    &apk::Apk,
    &rpm::Rpm,
    &python::Python,
    &npm::Npm,
    &golang::Golang,
    &rust_audit::RustAudit,
    &cargo::Cargo,
    &java::Java,
];

/// Whether any cataloger wants `path`.
pub fn wanted(path: &str) -> bool {
    LIST.iter().any(|c| c.wants(path))
}

/// What the walker keeps for the catalogers: wanted files whole; build information out of
/// executables and metadata out of archives ([`binary`]).
pub const WANTS: super::walk::Wants = super::walk::Wants {
    whole: wanted,
    scanned: binary::scanned,
    extract: binary::extract,
};

/// Runs every cataloger over `tree`.
pub fn run(tree: &Tree, layers: &[String]) -> (Option<Distro>, Found) {
    let distro = os_release::distro(tree);
    let env = Env {
        distro: distro.as_ref(),
        layers,
    };
    let mut found = Found::default();
    for c in LIST {
        c.catalog(tree, &env, &mut found);
    }
    (distro, found)
}

/// The last path component.
pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, n)| n)
}

/// The directory holding `path`.
pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}
