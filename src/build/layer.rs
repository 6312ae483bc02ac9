//! Reproducible layers: files from the build tree written as one tar stream with sorted
//! entries, fixed mtime/uid/gid/modes, parent directories created 0755 and no host names,
//! gzip-compressed as it is written, hashing the tar (`diff_id`) and counting the gzip bytes.
//! The gzip's digest is not computed here: the store the bytes stream into hashes them (once)
//! and names the blob by what they hashed to.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

use super::BuildError;
use crate::oci::digest::Digest;

pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// One file to place in a layer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Where it is read (already confined to the build tree).
    pub src: PathBuf,
    /// Absolute path in the image (`/usr/local/bin/hello`).
    pub dst: String,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

/// A layer as stored: what the image config and manifest need of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub digest: Digest,
    pub diff_id: String,
    pub size: u64,
}

/// A layer this run made from files on this machine: enough to write its tar again, byte
/// for byte, with [`write_tar`] (`cicd release` reads its SBOM from that instead of fetching
/// the layer back; whoever reads it checks what it hashes to against `diff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    pub entries: Vec<Entry>,
    pub mtime: u64,
    /// `sha256:<hex>` of the tar, as in the image config's `rootfs.diff_ids`.
    pub diff_id: String,
}

/// A layer as compressed: its `diff_id` and how many gzip bytes were written (the digest
/// comes from whoever stored them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub diff_id: String,
    pub size: u64,
}

/// Passes writes on, hashing and counting them.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hashing<W>(inner: W) -> Hashing<W> {
    Hashing {
        inner,
        hasher: Sha256::new(),
        len: 0,
    }
}

/// Passes writes on, counting them.
struct Counting<W> {
    inner: W,
    len: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex_digest(h: Sha256) -> String {
    let bytes = h.finalize();
    let mut s = String::from("sha256:");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Refuses `entries` that could not go in one layer: a path given twice, or both as a file
/// and as a directory (checked on all of a kind's files before they are cut into layers).
pub fn check(entries: &[Entry]) -> Result<(), BuildError> {
    tree(entries).map(|_| ())
}

/// The tar paths of `entries` and of every parent directory, sorted; a path given twice,
/// or both as a file and as a directory, is refused.
fn tree(entries: &[Entry]) -> Result<BTreeMap<String, Option<&Entry>>, BuildError> {
    let mut tree: BTreeMap<String, Option<&Entry>> = BTreeMap::new();
    for e in entries {
        let rel = e.dst.trim_start_matches('/');
        let mut acc = String::new();
        let parts: Vec<&str> = rel.split('/').collect();
        for dir in &parts[..parts.len() - 1] {
            acc.push_str(dir);
            acc.push('/');
            if let Some(Some(other)) = tree.get(acc.trim_end_matches('/')) {
                return Err(conflict(&other.dst, &e.dst));
            }
            tree.insert(acc.clone(), None);
        }
        if tree.contains_key(rel) || tree.contains_key(&format!("{rel}/")) {
            return Err(conflict(rel, &e.dst));
        }
        tree.insert(rel.to_owned(), Some(e));
    }
    Ok(tree)
}

fn conflict(a: &str, b: &str) -> BuildError {
    BuildError::Usage(format!(
        "the image would hold `{a}` and `{b}` at the same or an overlapping path"
    ))
}

/// Writes the layer for `entries` (gzip-compressed tar) into `out`, which `name` names in
/// errors, and gives `out` back with what was written.
pub fn build<W: Write>(
    entries: &[Entry],
    mtime: u64,
    level: u32,
    out: W,
    name: &Path,
) -> Result<(Compressed, W), BuildError> {
    let gz = GzEncoder::new(Counting { inner: out, len: 0 }, Compression::new(level));
    let inner = write_tar(entries, mtime, hashing(gz), name)?;
    let diff_id = hex_digest(inner.hasher);
    let mut out = inner.inner.finish().map_err(BuildError::io(name))?;
    out.flush().map_err(BuildError::io(name))?;
    let built = Compressed {
        diff_id,
        size: out.len,
    };
    Ok((built, out.inner))
}

/// The `diff_id` the layer for `entries` would have: the tar hashed, nothing compressed.
pub fn diff_id(entries: &[Entry], mtime: u64, name: &Path) -> Result<String, BuildError> {
    let inner = write_tar(entries, mtime, hashing(io::sink()), name)?;
    Ok(hex_digest(inner.hasher))
}

/// The tar stream for `entries` written into `out` (the same writes, in the same pieces,
/// whatever `out` is: the gzip bytes depend on how its input is cut).
pub fn write_tar<W: Write>(
    entries: &[Entry],
    mtime: u64,
    out: W,
    name: &Path,
) -> Result<W, BuildError> {
    let tree = tree(entries)?;
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, entry) in &tree {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(mtime);
        match entry {
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_uid(0);
                h.set_gid(0);
                h.set_size(0);
                tar.append_data(&mut h, path, io::empty())
                    .map_err(BuildError::io(name))?;
            }
            Some(e) => {
                let file = open_regular(&e.src)?;
                let len = file.metadata().map_err(BuildError::io(&e.src))?.len();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(e.mode);
                h.set_uid(e.uid);
                h.set_gid(e.gid);
                h.set_size(len);
                // A file that changes size while read would corrupt the stream: read exactly len.
                let reader = io::Read::take(file, len);
                tar.append_data(&mut h, path, reader)
                    .map_err(BuildError::io(&e.src))?;
            }
        }
    }
    tar.into_inner().map_err(BuildError::io(name))
}

/// Opens a source file, refusing anything but a regular file (exit 2 with the reason).
pub fn open_regular(path: &Path) -> Result<File, BuildError> {
    let file = File::open(path).map_err(|e| BuildError::Input {
        path: path.to_path_buf(),
        reason: format!("cannot be read: {e}"),
    })?;
    let meta = file.metadata().map_err(BuildError::io(path))?;
    if !meta.is_file() {
        return Err(BuildError::Input {
            path: path.to_path_buf(),
            reason: "is not a regular file".into(),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(src: &Path, dst: &str) -> Entry {
        Entry {
            src: src.to_path_buf(),
            dst: dst.into(),
            mode: 0o755,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn layers_are_reproducible_and_sorted() {
        let dir = tempfile::tempdir().expect("tmp");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"alpha").expect("a");
        std::fs::write(&b, b"beta").expect("b");
        let build =
            |entries: &[Entry], mtime| build(entries, mtime, 1, Vec::new(), Path::new("layer"));
        let (one, bytes) = super::build(
            &[entry(&b, "/usr/bin/b"), entry(&a, "/etc/a")],
            7,
            1,
            Vec::new(),
            Path::new("layer"),
        )
        .expect("build");
        let (two, same) = build(&[entry(&a, "/etc/a"), entry(&b, "/usr/bin/b")], 7).expect("build");
        assert_eq!(one, two);
        assert_eq!(bytes, same);
        assert_eq!(bytes.len() as u64, one.size);
        // diff_id is the uncompressed tar's digest, and the tar-only pass agrees with it.
        let mut tar = Vec::new();
        io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut tar)
            .expect("gunzip");
        assert_eq!(Digest::of(&tar).as_str(), one.diff_id);
        let hashed_only = diff_id(
            &[entry(&a, "/etc/a"), entry(&b, "/usr/bin/b")],
            7,
            Path::new("layer"),
        )
        .expect("diff_id");
        assert_eq!(hashed_only, one.diff_id);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let names: Vec<(String, u32, u64)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let h = e.header();
                (
                    e.path().expect("path").display().to_string(),
                    h.mode().expect("mode"),
                    h.mtime().expect("mtime"),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("etc/".into(), 0o755, 7),
                ("etc/a".into(), 0o755, 7),
                ("usr/".into(), 0o755, 7),
                ("usr/bin/".into(), 0o755, 7),
                ("usr/bin/b".into(), 0o755, 7)
            ]
        );
        let (other, _) = build(&[entry(&a, "/etc/a")], 8).expect("mtime");
        assert_ne!(other.diff_id, one.diff_id);
        assert!(build(&[entry(&a, "/x"), entry(&b, "/x")], 0).is_err());
        assert!(build(&[entry(&a, "/x"), entry(&b, "/x/y")], 0).is_err());
        assert!(build(&[entry(dir.path(), "/d")], 0).is_err());
    }
}
