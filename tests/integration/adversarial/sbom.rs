//! `cicd sbom` on hostile layers: paths climbing out with `../`, absolute paths, symlink
//! loops, hard links to nothing, a gzip bomb whose one file is a 1 GiB "package database",
//! truncated gzip. Each must end in a clear error or a bounded skip, never a panic, with peak
//! memory measured under 256 MB.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::harness::{cicd, require_tool};
use crate::sbom::support::{self, Blob};

/// A tar header with `name`/`link` written raw (the tar crate refuses `..` when it builds one).
fn header(name: &str, ty: tar::EntryType, size: u64, link: &str) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    if let Some(g) = h.as_gnu_mut() {
        g.name[..name.len()].copy_from_slice(name.as_bytes());
        g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(ty);
    h.set_cksum();
    h
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn layout_with(dir: &Path, layer: &[u8]) -> String {
    let blob = support::put_blob(dir, layer);
    support::single(dir, "x", &[blob]);
    format!("oci:{}:x", dir.display())
}

/// Runs `cicd sbom` under GNU time: (exit code, stderr, peak RSS in KiB, document).
fn measured(reference: &str, dir: &Path) -> (i32, String, u64, Option<Value>) {
    let time = require_tool("time", "apt-get install time");
    let out = dir.join("sbom.json");
    let rss = dir.join("rss");
    let output = std::process::Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_cicd"))
        .args(["sbom", reference, "--output"])
        .arg(&out)
        .output()
        .expect("run cicd under time");
    let peak = fs::read_to_string(&rss)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
        .expect("GNU time wrote the peak RSS");
    let doc = fs::read(&out)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code().unwrap_or(-1), stderr, peak, doc)
}

fn names(doc: &Value) -> Vec<String> {
    doc["components"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// See: issue 13 (hostile layers: `../` and absolute paths, symlink loops, hard links)
#[test]
fn sbom_hostile_paths_links_and_loops_are_skipped_not_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stanza = |name: &str| format!("Package: {name}\nVersion: 1\nArchitecture: amd64\n");
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, ty, data: &[u8], link: &str| {
        b.append(&header(name, ty, data.len() as u64, link), data)
            .expect("append");
    };
    use tar::EntryType::{Link, Regular, Symlink};
    // Climbs out of the root: skipped, so this "package" must not appear.
    add(
        "a/../../var/lib/dpkg/status.d/escaped",
        Regular,
        stanza("escaped").as_bytes(),
        "",
    );
    // Absolute: relative to the image root, as every layer tool treats it.
    add(
        "/var/lib/dpkg/status.d/absolute",
        Regular,
        stanza("absolute").as_bytes(),
        "",
    );
    add("etc/os-release", Symlink, b"", "os-release.2");
    add("etc/os-release.2", Symlink, b"", "/etc/os-release");
    add("app/node_modules/x", Symlink, b"", "../node_modules/x");
    add(
        "usr/lib/python3/dist-packages/a-1.dist-info/METADATA",
        Link,
        b"",
        "missing/file",
    );
    add(
        "var/lib/dpkg/status.d/outside",
        Symlink,
        b"",
        "../../../../../../etc/shadow",
    );
    let tar = b.into_inner().expect("tar");
    let reference = layout_with(&dir.path().join("l"), &gz(&tar));
    let (code, stderr, peak, doc) = measured(&reference, dir.path());
    assert_eq!(code, 0, "{stderr}");
    let doc = doc.expect("an SBOM");
    assert_eq!(names(&doc), ["absolute"]);
    assert!(stderr.contains("climbs out of the root"), "{stderr}");
    assert!(
        stderr.contains("hard link to missing `missing/file`"),
        "{stderr}"
    );
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}

/// A gzip layer whose tar holds one `var/lib/dpkg/status` of `size` zero bytes, built from
/// concatenated gzip members so the test compresses only 64 MiB.
fn bomb(size: u64) -> Vec<u8> {
    const CHUNK: usize = 64 << 20;
    assert_eq!(size % CHUNK as u64, 0);
    let head = header("var/lib/dpkg/status", tar::EntryType::Regular, size, "");
    let mut out = gz(head.as_bytes());
    let zeros = gz(&vec![0u8; CHUNK]);
    for _ in 0..size / CHUNK as u64 {
        out.extend_from_slice(&zeros);
    }
    out.extend_from_slice(&gz(&[0u8; 1024]));
    out
}

// See: issue 13 (hostile layers: gzip bomb, huge single file, peak memory < 256 MB)
#[test]
fn sbom_gzip_bomb_with_a_1_gib_database_is_skipped_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layer = bomb(1 << 30);
    assert!(
        layer.len() < 8 << 20,
        "the bomb is small: {} bytes",
        layer.len()
    );
    let reference = layout_with(&dir.path().join("l"), &layer);
    let (code, stderr, peak, doc) = measured(&reference, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("var/lib/dpkg/status: 1073741824 bytes is more than cicd keeps in memory"),
        "{stderr}"
    );
    assert!(names(&doc.expect("an SBOM")).is_empty());
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}

// See: issue 13 (hostile layers: truncated gzip)
#[test]
fn sbom_truncated_gzip_layer_is_a_clear_error_naming_the_layer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = tar::Builder::new(Vec::new());
    let body = vec![b'x'; 200_000];
    b.append(
        &header("big", tar::EntryType::Regular, body.len() as u64, ""),
        &body[..],
    )
    .expect("append");
    let mut layer = gz(&b.into_inner().expect("tar"));
    layer.truncate(layer.len() / 2);
    let blob: Blob = support::put_blob(&dir.path().join("l"), &layer);
    support::single(&dir.path().join("l"), "x", std::slice::from_ref(&blob));
    let run = cicd()
        .args(["sbom", &format!("oci:{}:x", dir.path().join("l").display())])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains(&blob.digest), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A jar whose nested archive inflates 256 MiB of zeros and whose pom.properties is 64 MiB:
/// both past the archive reader's ratio and size limits.
fn zip_bomb() -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let zeros = vec![0u8; 1 << 20];
    for (name, mib) in [
        ("lib/inner.jar", 256),
        ("META-INF/maven/g/a/pom.properties", 64),
    ] {
        z.start_file(name, opts).expect("zip entry");
        for _ in 0..mib {
            z.write_all(&zeros).expect("zip write");
        }
    }
    z.finish().expect("zip").into_inner()
}

// See: issue 13 (hostile layers: zip bombs in jars, huge executables, corrupt package databases)
#[test]
fn sbom_zip_bomb_jar_huge_executable_and_corrupt_databases_are_bounded_skips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, mode: u32, data: &[u8]| {
        let mut h = header(name, tar::EntryType::Regular, data.len() as u64, "");
        h.set_mode(mode);
        h.set_cksum();
        b.append(&h, data).expect("append");
    };
    add("srv/bomb.jar", 0o644, &zip_bomb());
    add("srv/not-a.jar", 0o644, b"PK\x03\x04 truncated");
    add(
        "var/lib/rpm/rpmdb.sqlite",
        0o644,
        b"SQLite format 3\0 and then garbage",
    );
    add("srv/Cargo.lock", 0o644, b"[[package]]\nname = 3\n");
    // An executable that looks like an ELF with a .dep-v0 name but no real section.
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 4096));
    elf.extend(b".dep-v0");
    add("usr/bin/fake", 0o755, &elf);
    let mut small = b.into_inner().expect("tar");
    small.truncate(small.len() - 1024); // the end-of-archive blocks come after the big file
    // A 1 GiB executable, streamed as gzip members of zeros (past the buffering limit).
    let big = 1u64 << 30;
    let head = header("usr/bin/huge", tar::EntryType::Regular, big, "");
    let mut head = head;
    head.set_mode(0o755);
    head.set_cksum();
    let mut layer = gz(&small);
    layer.extend(gz(head.as_bytes()));
    let zeros = gz(&vec![0u8; 64 << 20]);
    for _ in 0..big / (64 << 20) {
        layer.extend_from_slice(&zeros);
    }
    layer.extend(gz(&[0u8; 1024]));
    let reference = layout_with(&dir.path().join("l"), &layer);
    let (code, stderr, peak, doc) = measured(&reference, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(names(&doc.expect("an SBOM")).is_empty());
    for said in [
        "/srv/bomb.jar: lib/inner.jar: 268435456 bytes",
        "META-INF/maven/g/a/pom.properties: 67108864 bytes",
        "/srv/not-a.jar: not a zip archive",
        "/var/lib/rpm/rpmdb.sqlite: not read as an rpm database",
        "/srv/Cargo.lock: not read as a Cargo.lock",
    ] {
        assert!(stderr.contains(said), "{said}\n{stderr}");
    }
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}
