//! Reading files of a directory tree (an image layout) without leaving it: a path whose
//! symlinks resolve outside the tree, a hard link shared with a file outside it, and
//! anything but a regular file (a FIFO would block the read forever, a device never ends)
//! are refused before a byte is read.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Why a file of the tree was not opened.
#[derive(Debug)]
pub enum Refusal {
    Missing,
    /// Resolves to this path outside the tree.
    Outside(PathBuf),
    /// A FIFO, socket, device or directory.
    NotRegular(&'static str),
    /// More links to the file than the tree holds.
    HardLink,
    Io(io::Error),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing => write!(f, "is missing"),
            Refusal::Outside(to) => write!(
                f,
                "is a symbolic link leading outside the layout (to {}); refusing to read it",
                to.display()
            ),
            Refusal::NotRegular(kind) => {
                write!(f, "is not a regular file (a {kind}); refusing to read it")
            }
            Refusal::HardLink => write!(
                f,
                "is a hard link shared with a file outside the layout; refusing to read it"
            ),
            Refusal::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A directory tree files are read from.
#[derive(Clone, Debug)]
pub struct Confined {
    /// Canonical (symlinks resolved), so containment is a prefix test.
    real_root: PathBuf,
}

impl Confined {
    pub fn new(root: &Path) -> io::Result<Self> {
        Ok(Self {
            real_root: fs::canonicalize(root)?,
        })
    }

    /// Opens `path` (inside the tree) for reading, or says why not.
    pub fn open(&self, path: &Path) -> Result<File, Refusal> {
        let real = match fs::canonicalize(path) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A dangling link is missing as far as the reader is concerned, but say so
                // if it would have led outside anyway.
                return Err(match fs::read_link(path) {
                    Ok(to) if !to.is_relative() && !to.starts_with(&self.real_root) => {
                        Refusal::Outside(to)
                    }
                    _ => Refusal::Missing,
                });
            }
            Err(e) => return Err(Refusal::Io(e)),
        };
        if !real.starts_with(&self.real_root) {
            return Err(Refusal::Outside(real));
        }
        let meta = fs::metadata(&real).map_err(Refusal::Io)?;
        check_regular(&meta)?;
        if meta.nlink() > 1 && self.links_inside(&meta) < meta.nlink() {
            return Err(Refusal::HardLink);
        }
        let file = File::open(&real).map_err(Refusal::Io)?;
        // The file opened is the one checked (not swapped in between).
        let opened = file.metadata().map_err(Refusal::Io)?;
        if opened.dev() != meta.dev() || opened.ino() != meta.ino() {
            return Err(Refusal::Io(io::Error::other("changed while being opened")));
        }
        check_regular(&opened)?;
        Ok(file)
    }

    /// How many names inside the tree the file `meta` describes has.
    fn links_inside(&self, meta: &fs::Metadata) -> u64 {
        let mut count = 0;
        let mut dirs = vec![self.real_root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(m) = entry.metadata() else { continue };
                if m.is_dir() {
                    dirs.push(entry.path());
                } else if m.dev() == meta.dev() && m.ino() == meta.ino() {
                    count += 1;
                }
            }
        }
        count
    }
}

fn check_regular(meta: &fs::Metadata) -> Result<(), Refusal> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_dir() {
        "directory"
    } else {
        "special file"
    };
    Err(Refusal::NotRegular(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inside_the_tree() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("a")).expect("mkdir");
        fs::write(root.join("a/f"), b"x").expect("write");
        fs::write(tmp.path().join("outside"), b"y").expect("write");
        std::os::unix::fs::symlink("f", root.join("a/in")).expect("link");
        std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("a/out")).expect("link");
        std::os::unix::fs::symlink("/nonexistent/x", root.join("a/dangling")).expect("link");
        fs::hard_link(tmp.path().join("outside"), root.join("a/hard")).expect("hard");
        fs::hard_link(root.join("a/f"), root.join("a/f2")).expect("hard");
        let c = Confined::new(&root).expect("root");
        assert!(c.open(&root.join("a/f")).is_ok());
        assert!(c.open(&root.join("a/in")).is_ok());
        assert!(c.open(&root.join("a/f2")).is_ok());
        assert!(matches!(
            c.open(&root.join("a/out")),
            Err(Refusal::Outside(_))
        ));
        assert!(matches!(
            c.open(&root.join("a/hard")),
            Err(Refusal::HardLink)
        ));
        assert!(matches!(
            c.open(&root.join("a")),
            Err(Refusal::NotRegular("directory"))
        ));
        assert!(matches!(
            c.open(&root.join("a/none")),
            Err(Refusal::Missing)
        ));
        assert!(matches!(
            c.open(&root.join("a/dangling")),
            Err(Refusal::Outside(_))
        ));
    }
}
