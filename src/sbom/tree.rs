//! The final filesystem view of an image: every path with its kind and the layer it came from,
//! plus the contents of the few files catalogers asked for. Layers are applied bottom to top
//! with OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`); nothing is ever written to disk.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A single file kept in memory is at most this large; larger ones are skipped with a warning.
pub const MAX_FILE: u64 = 32 << 20;
/// All kept contents together stay under this.
pub const MAX_KEPT: u64 = 128 << 20;
/// Paths in one image (the index costs ~100 bytes each).
pub const MAX_ENTRIES: usize = 1_000_000;
/// Symlinks followed while resolving one path.
const MAX_HOPS: usize = 40;

#[derive(Clone, Debug)]
pub enum Kind {
    /// A regular file; its contents when a cataloger asked for them and they fit.
    File(Option<Arc<[u8]>>),
    Dir,
    Symlink(String),
    Other,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: Kind,
    /// Index of the layer that put it there (`None` for a `dir:` root).
    pub layer: Option<usize>,
}

/// The squashed view of an image.
#[derive(Debug, Default)]
pub struct Tree {
    entries: BTreeMap<String, Entry>,
    kept: u64,
    pub warnings: Vec<String>,
}

/// A path made relative to the root with `.` and empty components removed, or `None` when it
/// climbs out with `..` (such an entry is skipped: nothing outside the image exists).
pub fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

impl Tree {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn warn(&mut self, message: String) {
        // Bounded: a hostile layer can hold millions of odd entries.
        if self.warnings.len() < 100 {
            self.warnings.push(message);
        } else if self.warnings.len() == 100 {
            self.warnings.push("further warnings left out".into());
        }
    }

    /// Records `path` as `layer` left it, replacing what lower layers had there (a non-directory
    /// also hides everything a lower layer had under it). Returns false when the index is full.
    pub fn insert(&mut self, path: String, entry: Entry) -> bool {
        if path.is_empty() {
            return true;
        }
        if !matches!(entry.kind, Kind::Dir) {
            self.remove_under(&path, entry.layer);
        }
        if let Some(old) = self.entries.get(&path) {
            if matches!(old.kind, Kind::Dir) && matches!(entry.kind, Kind::Dir) {
                return true;
            }
            self.forget(&path);
        } else if self.entries.len() >= MAX_ENTRIES {
            return false;
        }
        if let Kind::File(Some(c)) = &entry.kind {
            self.kept += c.len() as u64;
        }
        self.entries.insert(path, entry);
        true
    }

    /// Whether `size` more bytes may be kept.
    pub fn has_room(&self, size: u64) -> bool {
        size <= MAX_FILE && self.kept + size <= MAX_KEPT
    }

    fn forget(&mut self, path: &str) {
        if let Some(Entry {
            kind: Kind::File(Some(c)),
            ..
        }) = self.entries.remove(path)
        {
            self.kept -= c.len() as u64;
        }
    }

    /// Removes everything strictly under `dir` that lower layers than `layer` put there.
    fn remove_under(&mut self, dir: &str, layer: Option<usize>) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, e)| match (e.layer, layer) {
                (Some(lower), Some(upper)) => lower < upper,
                _ => true,
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.forget(&k);
        }
    }

    /// Applies a whiteout file found at `path` in `layer`; returns false when `path` is not one.
    pub fn whiteout(&mut self, path: &str, layer: usize) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if name == ".wh..wh..opq" {
            self.remove_under(dir, Some(layer));
            return true;
        }
        let Some(hidden) = name.strip_prefix(".wh.") else {
            return false;
        };
        let target = if dir.is_empty() {
            hidden.to_owned()
        } else {
            format!("{dir}/{hidden}")
        };
        if self
            .entries
            .get(&target)
            .is_some_and(|e| e.layer < Some(layer))
        {
            self.forget(&target);
        }
        self.remove_under(&target, Some(layer));
        true
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// `path` with every symlink on the way followed inside the tree (absolute targets start
    /// at the image root), or `None` for a dangling link or a loop.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let mut done = String::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    done = parent(&done).to_owned();
                    continue;
                }
                _ => {}
            }
            let next = if done.is_empty() {
                part
            } else {
                format!("{done}/{part}")
            };
            match self.entries.get(&next).map(|e| &e.kind) {
                Some(Kind::Symlink(target)) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return None;
                    }
                    if target.starts_with('/') {
                        done.clear();
                    }
                    pending.extend(
                        target
                            .split('/')
                            .rev()
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned),
                    );
                }
                // Layers may leave parent directories out: a missing one is a directory.
                _ => done = next,
            }
        }
        Some(done)
    }

    /// The kept contents of `path` (symlinks followed) and the path they were found at.
    pub fn read(&self, path: &str) -> Option<(String, &Arc<[u8]>)> {
        let real = self.resolve(path)?;
        match &self.entries.get(&real)?.kind {
            Kind::File(Some(c)) => Some((real, c)),
            _ => None,
        }
    }

    /// Every file whose contents were kept, in path order.
    pub fn kept_files(&self) -> impl Iterator<Item = (&str, &Entry, &Arc<[u8]>)> {
        self.entries.iter().filter_map(|(p, e)| match &e.kind {
            Kind::File(Some(c)) => Some((p.as_str(), e, c)),
            _ => None,
        })
    }

    /// Kept bytes right now (for tests of the memory bound).
    pub fn kept_bytes(&self) -> u64 {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(layer: usize, text: &str) -> Entry {
        Entry {
            kind: Kind::File(Some(Arc::from(text.as_bytes()))),
            layer: Some(layer),
        }
    }

    #[test]
    fn whiteouts_hide_lower_layers_only() {
        let mut t = Tree::default();
        t.insert("a/b/c".into(), file(0, "x"));
        t.insert("a/d".into(), file(0, "y"));
        t.insert("e".into(), file(0, "z"));
        assert!(t.whiteout("a/.wh.b", 1));
        assert!(t.get("a/b/c").is_none());
        assert!(t.get("a/d").is_some());
        t.insert("a/new".into(), file(1, "n"));
        assert!(t.whiteout("a/.wh..wh..opq", 1));
        assert!(t.get("a/d").is_none());
        assert!(
            t.get("a/new").is_some(),
            "same-layer entries survive an opaque dir"
        );
        assert!(!t.whiteout("e", 1));
        assert_eq!(t.kept_bytes(), 2);
    }

    #[test]
    fn symlinks_resolve_and_loops_stop() {
        let mut t = Tree::default();
        let link = |target: &str, layer| Entry {
            kind: Kind::Symlink(target.into()),
            layer: Some(layer),
        };
        t.insert("usr/lib/os-release".into(), file(0, "ID=debian"));
        t.insert("etc/os-release".into(), link("../usr/lib/os-release", 0));
        t.insert("lib".into(), link("/usr/lib", 0));
        t.insert("loop/a".into(), link("b", 0));
        t.insert("loop/b".into(), link("a", 0));
        assert_eq!(
            t.read("etc/os-release").map(|(p, _)| p),
            Some("usr/lib/os-release".into())
        );
        assert_eq!(
            t.resolve("lib/os-release").as_deref(),
            Some("usr/lib/os-release")
        );
        assert!(t.resolve("loop/a").is_none());
        assert_eq!(normalize("./a//b/./c"), Some("a/b/c".into()));
        assert_eq!(normalize("../../etc/passwd"), None);
        assert_eq!(normalize("/abs/x"), Some("abs/x".into()));
    }
}
