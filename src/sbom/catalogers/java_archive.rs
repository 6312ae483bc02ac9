//! Reads Java archives (`.jar`, `.war`, `.ear`, `.par`, `.sar`) as they stream past: the zip
//! central directory sits at the end, so an archive up to [`MAX_ARCHIVE`] is buffered once and
//! opened with the `zip` crate; what the Java cataloger needs (every
//! `META-INF/maven/**/pom.properties`, `META-INF/MANIFEST.MF`, and the same from nested
//! archives) is kept as a small JSON record. Bounded: nesting depth, entry counts, sizes and
//! the declared compression ratio (zip bombs are refused, not inflated).

use std::io::{self, Cursor, Read};

use serde::{Deserialize, Serialize};

/// Outer archives larger than this are not opened (noted in the record).
pub const MAX_ARCHIVE: u64 = 64 << 20;
/// A nested archive is buffered in memory: at most this large once inflated.
const MAX_NESTED: u64 = 16 << 20;
/// `pom.properties` and `MANIFEST.MF` larger than this are not read.
const MAX_META: u64 = 256 << 10;
/// Archives inside archives inside archives, and no deeper.
const MAX_DEPTH: usize = 3;
/// Entries looked at per archive.
const MAX_ENTRIES: usize = 100_000;
/// An entry claiming to inflate more than this many times its compressed size is a bomb.
const MAX_RATIO: u64 = 200;
/// Bytes inflated for one outer archive, nested ones included.
const BUDGET: u64 = 128 << 20;
/// Kept parts holding Java records start with this.
pub const TAG: &[u8] = b"\0cicd:java\0";

/// What one archive (outer or nested) holds.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// Where inside the outer archive: empty for the outer one, `lib/a.jar!/b.jar` below.
    pub inner: String,
    /// Contents of each `pom.properties`, in archive order.
    pub poms: Vec<String>,
    pub manifest: Option<String>,
    /// What could not be read, for warnings.
    pub problems: Vec<String>,
}

/// Whether `path` names a Java archive.
pub fn is_archive(path: &str) -> bool {
    let lower = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    [".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// The walker's hook for archives: records of `r` (`size` bytes), tagged.
pub fn extract(size: u64, r: &mut dyn Read) -> io::Result<Option<Vec<u8>>> {
    let records = if size > MAX_ARCHIVE {
        io::copy(r, &mut io::sink())?;
        vec![Record {
            problems: vec![format!(
                "{size} bytes: larger than the {MAX_ARCHIVE}-byte limit for archives; not opened"
            )],
            ..Record::default()
        }]
    } else {
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        r.take(MAX_ARCHIVE).read_to_end(&mut buf)?;
        io::copy(r, &mut io::sink())?;
        read(&buf)
    };
    let json = serde_json::to_vec(&records).map_err(io::Error::other)?;
    Ok(Some([TAG, &json].concat()))
}

/// Every record of one archive's bytes, nested archives included.
pub fn read(bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut budget = BUDGET;
    walk(bytes, String::new(), 0, &mut budget, &mut out);
    out
}

fn walk(bytes: &[u8], inner: String, depth: usize, budget: &mut u64, out: &mut Vec<Record>) {
    let mut rec = Record {
        inner,
        ..Record::default()
    };
    let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            rec.problems.push(format!("not a zip archive: {e}"));
            out.push(rec);
            return;
        }
    };
    if zip.len() > MAX_ENTRIES {
        rec.problems.push(format!(
            "{} entries: only the first {MAX_ENTRIES} read",
            zip.len()
        ));
    }
    let mut nested = Vec::new();
    for i in 0..zip.len().min(MAX_ENTRIES) {
        let Ok(mut f) = zip.by_index(i) else {
            rec.problems.push(format!("entry {i} unreadable"));
            continue;
        };
        let Ok(name) = f.name().map(|n| n.into_owned()) else {
            rec.problems.push(format!("entry {i}: name unreadable"));
            continue;
        };
        let wanted_meta = is_pom(&name) || name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        let wanted_nested = is_archive(&name) && !f.is_dir();
        if !wanted_meta && !wanted_nested {
            continue;
        }
        let limit = if wanted_meta { MAX_META } else { MAX_NESTED };
        let (size, packed) = (f.size(), f.compressed_size().max(1));
        if size > limit || size / packed > MAX_RATIO || size > *budget {
            rec.problems.push(format!(
                "{name}: {size} bytes from {packed} compressed is past cicd's limits; not read"
            ));
            continue;
        }
        let mut data = Vec::new();
        // `take` bounds what a lying header can make us inflate.
        if let Err(e) = (&mut f).take(size).read_to_end(&mut data) {
            rec.problems.push(format!("{name}: {e}"));
            continue;
        }
        *budget = budget.saturating_sub(data.len() as u64);
        if wanted_nested {
            nested.push((name, data));
        } else {
            let text = String::from_utf8_lossy(&data).into_owned();
            if is_pom(&name) {
                rec.poms.push(text);
            } else {
                rec.manifest = Some(text);
            }
        }
    }
    let base = rec.inner.clone();
    out.push(rec);
    for (name, data) in nested {
        let path = if base.is_empty() {
            name
        } else {
            format!("{base}!/{name}")
        };
        if depth + 1 >= MAX_DEPTH {
            out.push(Record {
                inner: path,
                problems: vec![format!(
                    "nested deeper than {MAX_DEPTH} archives; not opened"
                )],
                ..Record::default()
            });
            continue;
        }
        walk(&data, path, depth + 1, budget, out);
    }
}

fn is_pom(name: &str) -> bool {
    name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(*name, opts).expect("entry");
            z.write_all(data).expect("write");
        }
        z.finish().expect("zip").into_inner()
    }

    #[test]
    fn reads_poms_manifests_and_nested_archives() {
        let pom = b"groupId=org.example\nartifactId=inner\nversion=1.0\n";
        let inner = zip(&[("META-INF/maven/org.example/inner/pom.properties", pom)]);
        let outer = zip(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("BOOT-INF/lib/inner.jar", &inner),
            ("README", b"ignored"),
        ]);
        let recs = read(&outer);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].manifest.as_deref(), Some("Manifest-Version: 1.0\n"));
        assert_eq!(recs[1].inner, "BOOT-INF/lib/inner.jar");
        assert_eq!(recs[1].poms.len(), 1);
        assert!(is_archive("usr/share/java/A.JAR") && !is_archive("a.jar.txt"));
    }

    #[test]
    fn malformed_deep_and_bomb_archives_are_problems_not_panics() {
        assert!(read(b"")[0].problems[0].starts_with("not a zip archive"));
        assert!(read(b"PK\x03\x04\xff\xff")[0].problems[0].starts_with("not a zip archive"));
        // Deflated zeros: far past the ratio limit, so never inflated.
        let bomb = zip(&[("META-INF/maven/g/a/pom.properties", &vec![0u8; 200_000])]);
        let recs = read(&bomb);
        assert!(recs[0].poms.is_empty());
        assert!(
            recs[0].problems[0].contains("past cicd's limits"),
            "{recs:?}"
        );
        // Four archives deep: the fourth is not opened.
        let mut z = zip(&[("META-INF/MANIFEST.MF", b"A: b\n")]);
        for _ in 0..3 {
            z = zip(&[("x.jar", &z)]);
        }
        let recs = read(&z);
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[3].inner, "x.jar!/x.jar!/x.jar");
        assert!(recs[3].problems[0].contains("nested deeper"), "{recs:?}");
        assert!(recs[3].manifest.is_none());
        // Every truncation of a valid archive reads without panicking.
        let ok = zip(&[("META-INF/MANIFEST.MF", b"A: b\n"), ("y.jar", &bomb)]);
        for cut in 0..ok.len() {
            let _ = read(&ok[..cut]);
        }
    }
}
