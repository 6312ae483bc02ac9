//! Streams layer blobs (tar, gzip or zstd) into a [`Tree`], hashing the compressed bytes as
//! they pass so a blob that does not match its digest is refused, and a `dir:` root read the
//! same way. Only files a cataloger wants are read into memory.

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crate::oci::digest::{Digest, Hasher, Verifier};

use super::changeset::{Changeset, Shared};
use super::error::SbomError;
use super::tree::{Entry, Kind, MAX_FILE, Tree, normalize};

/// Executables shorter than this are not scanned (scripts, stubs).
const MIN_EXECUTABLE: u64 = 1024;

/// Streams one file (path, size, contents) and returns the part catalogers keep.
pub type Extract = fn(&str, u64, &mut dyn Read) -> io::Result<Option<Vec<u8>>>;

/// What catalogers need from the files streaming past.
#[derive(Clone, Copy)]
pub struct Wants {
    /// Paths whose whole contents are kept.
    pub whole: fn(&str) -> bool,
    /// Files not kept whole but streamed through `extract`, besides executables (archives).
    pub scanned: fn(&str) -> bool,
    /// Executables and scanned files (path, size, contents) go through this; the part it
    /// returns is kept.
    pub extract: Extract,
}

/// Reads at most `limit` bytes from the source and hashes every byte read.
struct Hashing<R> {
    inner: R,
    verifier: Option<Verifier>,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.read);
        if room == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if let Some(v) = &mut self.verifier {
            v.update(&buf[..n]);
        }
        self.read += n as u64;
        Ok(n)
    }
}

/// Where kept contents are accounted and warnings go: the tree itself (a `dir:` root) or one
/// layer's changeset.
pub trait Sink {
    fn has_room(&mut self, size: u64) -> bool;
    fn warn(&mut self, message: String);
}

impl Sink for Tree {
    fn has_room(&mut self, size: u64) -> bool {
        Tree::has_room(self, size)
    }
    fn warn(&mut self, message: String) {
        Tree::warn(self, message);
    }
}

impl Sink for Changeset {
    fn has_room(&mut self, size: u64) -> bool {
        Changeset::has_room(self, size)
    }
    fn warn(&mut self, message: String) {
        Changeset::warn(self, message);
    }
}

/// One layer to apply: its digest and size as the manifest says, and its bytes.
pub struct Layer<'a> {
    pub index: usize,
    pub digest: &'a Digest,
    pub size: u64,
    /// Where it was read from, for messages.
    pub image: &'a str,
}

/// An io error from a registry stream is marked with this so it maps to exit 3.
#[derive(Debug)]
pub struct Remote(pub String);

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Remote {}

/// Applies one layer blob to `tree`, then checks the blob's digest and size (one layer on its
/// own: [`read_layer`] then [`Changeset::apply`]).
pub fn apply_layer(
    tree: &mut Tree,
    layer: &Layer<'_>,
    raw: impl Read,
    wants: Wants,
) -> Result<(), SbomError> {
    read_layer(layer, raw, wants, Arc::default())?.apply(tree)
}

/// Reads one layer blob into its [`Changeset`], then checks the blob's digest and size.
pub fn read_layer(
    layer: &Layer<'_>,
    raw: impl Read,
    wants: Wants,
    shared: Arc<Shared>,
) -> Result<Changeset, SbomError> {
    let fail = |e: io::Error| layer_error(layer, e);
    let verifier = Verifier::new(layer.digest);
    let mut hashing = Hashing {
        inner: raw,
        verifier: Some(verifier),
        read: 0,
        limit: layer.size.saturating_add(1),
    };
    let mut head = [0u8; 4];
    let n = read_full(&mut hashing, &mut head).map_err(fail)?;
    let prefixed = io::Cursor::new(head[..n].to_vec()).chain(&mut hashing);
    let decoded: Box<dyn Read + '_> = match head[..n] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(prefixed)),
        [0x28, 0xb5, 0x2f, 0xfd] => Box::new(
            ruzstd::decoding::StreamingDecoder::new(prefixed)
                .map_err(|e| fail(io::Error::other(e.to_string())))?,
        ),
        _ => Box::new(prefixed),
    };
    let digest = layer.digest.to_string();
    let mut changes = Changeset::new(layer.index, layer.image, &digest, shared);
    read_tar(&mut changes, decoded, wants).map_err(fail)?;
    // The tar may end before the blob does: the digest covers every byte.
    io::copy(&mut hashing, &mut io::sink()).map_err(fail)?;
    let verifier = hashing
        .verifier
        .take()
        .ok_or_else(|| SbomError::Render("layer verifier used twice".into()))?;
    verifier.finish(Some(layer.size), "layer", layer.image)?;
    Ok(changes)
}

/// Reads one uncompressed layer tar (written again from the build's own files: see
/// [`super::local`]) into its [`Changeset`], hashing every byte of it; returns what the tar
/// hashed to, for the caller to check against the config's `diff_id`.
pub fn read_plain_layer(
    layer: &Layer<'_>,
    tar: impl Read,
    wants: Wants,
    shared: Arc<Shared>,
) -> Result<(Changeset, Digest), SbomError> {
    let fail = |e: io::Error| layer_error(layer, e);
    let mut hashing = Hashed {
        inner: tar,
        hasher: Hasher::default(),
    };
    let digest = layer.digest.to_string();
    let mut changes = Changeset::new(layer.index, layer.image, &digest, shared);
    read_tar(&mut changes, &mut hashing, wants).map_err(fail)?;
    // The tar's end-of-archive blocks count too: the diff_id covers every byte.
    io::copy(&mut hashing, &mut io::sink()).map_err(fail)?;
    Ok((changes, hashing.hasher.finish().0))
}

/// Passes reads on, hashing them (the digest is learned at the end).
struct Hashed<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn layer_error(layer: &Layer<'_>, e: io::Error) -> SbomError {
    SbomError::Layer {
        image: layer.image.to_owned(),
        digest: layer.digest.to_string(),
        external: e.get_ref().is_some_and(|i| i.is::<Remote>()),
        message: e.to_string(),
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn read_tar(changes: &mut Changeset, decoded: impl Read, wants: Wants) -> io::Result<()> {
    let full = || {
        io::Error::other(format!(
            "more than {} paths: refusing to index this image",
            super::tree::MAX_ENTRIES
        ))
    };
    let mut archive = tar::Archive::new(decoded);
    for entry in archive.entries()? {
        if changes.cancelled() {
            return Err(io::Error::other("stopped: another layer failed"));
        }
        let mut entry = entry?;
        let raw = entry.path()?.to_string_lossy().into_owned();
        let Some(path) = normalize(&raw) else {
            let layer = changes.layer();
            changes.warn(format!(
                "layer {layer}: skipped `{raw}`: it climbs out of the root"
            ));
            continue;
        };
        if is_whiteout(&path) {
            if !changes.whiteout(path) {
                return Err(full());
            }
            continue;
        }
        let kind = match entry.header().entry_type() {
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => Kind::Symlink(link_name(&entry)?),
            tar::EntryType::Link => {
                if !changes.link(path, link_name(&entry)?) {
                    return Err(full());
                }
                continue;
            }
            t if t.is_file() => {
                let size = entry.size();
                let exec = entry.header().mode().unwrap_or(0) & 0o111 != 0;
                if (wants.whole)(&path) {
                    Kind::File(keep(changes, &path, size, &mut entry)?)
                } else if (exec && size >= MIN_EXECUTABLE) || (wants.scanned)(&path) {
                    Kind::File(scan(changes, &path, size, &mut entry, wants)?)
                } else {
                    Kind::File(None)
                }
            }
            _ => Kind::Other,
        };
        if !changes.put(path, kind) {
            return Err(full());
        }
    }
    Ok(())
}

/// Whether `path` is an OCI whiteout (`.wh.NAME` or the opaque marker `.wh..wh..opq`).
fn is_whiteout(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|n| n.starts_with(".wh."))
}

fn link_name<R: Read>(entry: &tar::Entry<'_, R>) -> io::Result<String> {
    Ok(entry
        .link_name()?
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default())
}

/// Streams an executable or archive through the scanners, keeping what they extract.
fn scan(
    tree: &mut impl Sink,
    path: &str,
    size: u64,
    r: &mut dyn Read,
    wants: Wants,
) -> io::Result<Option<Arc<[u8]>>> {
    match (wants.extract)(path, size, r)? {
        Some(part) if tree.has_room(part.len() as u64) => Ok(Some(Arc::from(part))),
        Some(_) => {
            tree.warn(format!(
                "{path}: no room left to keep its build information"
            ));
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Reads a wanted file's contents when they fit; larger ones are skipped with a warning.
fn keep(
    tree: &mut impl Sink,
    path: &str,
    size: u64,
    r: &mut impl Read,
) -> io::Result<Option<Arc<[u8]>>> {
    if !tree.has_room(size) {
        tree.warn(format!(
            "{path}: {size} bytes is more than cicd keeps in memory ({MAX_FILE} per file); not catalogued"
        ));
        return Ok(None);
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    r.take(size).read_to_end(&mut buf)?;
    Ok(Some(Arc::from(buf)))
}

/// Reads a root filesystem directory the way a layer is read, never leaving `root` (symlinks
/// are recorded, not followed).
pub fn read_dir(tree: &mut Tree, root: &Path, wants: Wants) -> Result<(), SbomError> {
    let err = |path: &Path, e: io::Error| SbomError::Dir {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let meta = fs::metadata(root).map_err(|e| err(root, e))?;
    if !meta.is_dir() {
        return Err(SbomError::Dir {
            path: root.to_path_buf(),
            message: "not a directory (dir: takes a root filesystem)".into(),
        });
    }
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let listed = fs::read_dir(&dir).and_then(|r| r.collect::<Result<Vec<_>, _>>());
        let mut names = match listed {
            Ok(n) => n,
            Err(e) if rel.is_empty() => return Err(err(&dir, e)),
            Err(e) => {
                tree.warn(format!("{}: {e}; skipped", dir.display()));
                continue;
            }
        };
        names.sort_by_key(fs::DirEntry::file_name);
        for d in names {
            let name = d.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let full = root.join(&path);
            let kind = match dir_entry(tree, &d, &full, &path, wants) {
                Ok(k) => k,
                Err(e) => {
                    tree.warn(format!("{}: {e}; skipped", full.display()));
                    continue;
                }
            };
            if matches!(kind, Kind::Dir) {
                stack.push(path.clone());
            }
            if !tree.insert(path, Entry { kind, layer: None }) {
                return Err(SbomError::Dir {
                    path: root.to_path_buf(),
                    message: format!("more than {} paths", super::tree::MAX_ENTRIES),
                });
            }
        }
    }
    Ok(())
}

fn dir_entry(
    tree: &mut Tree,
    d: &fs::DirEntry,
    full: &Path,
    path: &str,
    wants: Wants,
) -> io::Result<Kind> {
    let ft = d.file_type()?;
    Ok(if ft.is_dir() {
        Kind::Dir
    } else if ft.is_symlink() {
        Kind::Symlink(fs::read_link(full)?.to_string_lossy().into_owned())
    } else if ft.is_file() && (wants.whole)(path) {
        let f = fs::File::open(full)?;
        let size = f.metadata()?.len();
        Kind::File(keep(tree, path, size, &mut &f)?)
    } else if ft.is_file() && (is_executable(d)? || (wants.scanned)(path)) {
        let f = fs::File::open(full)?;
        let size = f.metadata()?.len();
        Kind::File(scan(tree, path, size, &mut io::BufReader::new(f), wants)?)
    } else if ft.is_file() {
        Kind::File(None)
    } else {
        Kind::Other
    })
}

fn is_executable(d: &fs::DirEntry) -> io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let m = d.metadata()?;
    Ok(m.permissions().mode() & 0o111 != 0 && m.len() >= MIN_EXECUTABLE)
}
