//! rpm packages from the SQLite rpm database (`rpmdb.sqlite`, rpm 4.16 and later: Fedora 33+,
//! RHEL/Rocky/Alma 9+, openSUSE), under `var/lib/rpm/` or `usr/lib/sysimage/rpm/`. The
//! database is opened in memory through `rusqlite` (bundled SQLite, read-only, never written
//! to disk) and each `Packages` row's header blob read with [`super::rpm_header`]. Purls
//! `pkg:rpm/DISTRO/NAME@VERSION-RELEASE?arch=…&epoch=…&distro=…`; `Requires` become edges to
//! packages of that name. The legacy BerkeleyDB `Packages` and the `Packages.db` ndb formats
//! are not read: their presence is reported as a warning.

use rusqlite::{Connection, OpenFlags};

use super::rpm_header::{self as h, Header};
use super::{Cataloger, Env, Found, file_name};
use crate::sbom::package::{Distro, Package, license, purl};
use crate::sbom::tree::Tree;

pub struct Rpm;

const DIRS: [&str; 2] = ["var/lib/rpm", "usr/lib/sysimage/rpm"];
/// Rows read from one database.
const MAX_ROWS: usize = 200_000;

/// Packages one header blob records, or `None` when it is not a package header.
pub fn package(blob: &[u8], distro: Option<&Distro>) -> Option<Package> {
    let hdr = Header::parse(blob)?;
    let name = hdr.string(h::NAME)?;
    // Imported signing keys are stored as pseudo-packages.
    if name == "gpg-pubkey" {
        return None;
    }
    let version = hdr.string(h::VERSION)?;
    let release = hdr.string(h::RELEASE).unwrap_or_default();
    let full = if release.is_empty() {
        version
    } else {
        format!("{version}-{release}")
    };
    let arch = hdr.string(h::ARCH).unwrap_or_default();
    let epoch = hdr
        .int32(h::EPOCH)
        .map(|e| e.to_string())
        .unwrap_or_default();
    let dq = distro.map(Distro::qualifier).unwrap_or_default();
    let p = purl(
        "rpm",
        distro.map(|d| d.id.as_str()),
        &name,
        &full,
        &[("arch", &arch), ("epoch", &epoch), ("distro", &dq)],
    )?;
    let mut pkg = Package::new("rpm", &name, &full, p);
    pkg.licenses
        .extend(hdr.string(h::LICENSE).and_then(|l| license(&l)));
    pkg.description = hdr.string(h::SUMMARY);
    pkg.depends = hdr
        .strings(h::REQUIRENAME)
        .into_iter()
        // `rpmlib(...)` capabilities and file paths name no package.
        .filter(|r| !r.starts_with("rpmlib(") && !r.starts_with('/'))
        .collect();
    Some(pkg)
}

/// Header blobs of an `rpmdb.sqlite` image, read in memory.
pub fn blobs(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut bytes = db.to_vec();
    // rpm leaves its database in WAL mode; a deserialized copy has no WAL file, so mark it as
    // a rollback-journal database (header bytes 18–19) to let SQLite read it.
    if bytes.len() > 19 && bytes.starts_with(b"SQLite format 3\0") {
        bytes[18] = 1;
        bytes[19] = 1;
    }
    let mut conn = Connection::open_with_flags(
        ":memory:",
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    conn.deserialize_read_exact("main", bytes.as_slice(), bytes.len(), true)
        .map_err(|e| e.to_string())?;
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .map_err(|e| e.to_string())?;
    rows.take(MAX_ROWS)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

impl Cataloger for Rpm {
    fn id(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, path: &str) -> bool {
        file_name(path) == "rpmdb.sqlite" && DIRS.iter().any(|d| super::dir_of(path) == *d)
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        let mut read_one = false;
        for (path, entry, bytes) in tree.kept_files() {
            if !self.wants(path) {
                continue;
            }
            read_one = true;
            let blobs = match blobs(bytes) {
                Ok(b) => b,
                Err(e) => {
                    found
                        .warnings
                        .push(format!("/{path}: not read as an rpm database: {e}"));
                    continue;
                }
            };
            let mut skipped = 0usize;
            for blob in &blobs {
                match package(blob, env.distro) {
                    Some(mut p) => {
                        p.seen.push(env.seen(path, entry));
                        found.packages.push(p);
                    }
                    None => skipped += 1,
                }
            }
            if skipped > 0 {
                found.warnings.push(format!(
                    "/{path}: {skipped} header(s) not read as packages (signing keys or malformed)"
                ));
            }
        }
        if !read_one {
            for dir in DIRS {
                for legacy in ["Packages", "Packages.db"] {
                    let p = format!("{dir}/{legacy}");
                    if tree.get(&p).is_some() {
                        found.warnings.push(format!(
                            "/{p}: legacy rpm database (BerkeleyDB or ndb) not read; only rpmdb.sqlite is supported"
                        ));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_databases_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"SQLite format 3\0",
            b"not a database at all, just some bytes that go on for a while....",
        ] {
            assert!(blobs(bad).is_err());
        }
        // A real SQLite file without a Packages table.
        let conn = Connection::open_in_memory().expect("db");
        conn.execute_batch("CREATE TABLE t(x)").expect("schema");
        let data = conn.serialize("main").expect("serialize");
        assert!(blobs(&data).is_err());
        assert!(package(b"\0\0\0\x01\0\0\0\0", None).is_none());
    }
}
