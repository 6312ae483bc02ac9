//! What one layer does to the filesystem below it, in tar order: the paths it puts, the hard
//! links it makes and the whiteouts it applies. Layers are decompressed and read into
//! changesets on their own threads, a few at a time, and applied to the [`Tree`] strictly
//! bottom to top, so the result is what applying them one after another gives. Memory stays
//! bounded: a few changesets in flight, every one capped in paths and warnings, and the kept
//! file contents of all of them drawn from one budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::error::SbomError;
use super::tree::{Entry, Kind, MAX_ENTRIES, MAX_FILE, MAX_KEPT, Tree, normalize};

/// Warnings one layer records (a hostile layer can hold millions of odd entries).
const MAX_WARNINGS: usize = 100;

/// What the layers read at the same time share: the bytes they may keep, and a flag that
/// stops the others once one has failed.
#[derive(Default)]
pub struct Shared {
    kept: AtomicU64,
    cancelled: AtomicBool,
}

impl Shared {
    /// Reserves `size` bytes of kept contents; false when they do not fit.
    fn reserve(&self, size: u64) -> bool {
        if size > MAX_FILE {
            return false;
        }
        self.kept
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |k| {
                (k + size <= MAX_KEPT).then_some(k + size)
            })
            .is_ok()
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

enum Op {
    Put(String, Kind),
    /// A hard link: shares what its target holds once the layers below are applied.
    Link(String, String),
    Whiteout(String),
    Warn(String),
}

/// One layer's changes, in the order its tar lists them.
pub struct Changeset {
    layer: usize,
    /// The image and layer digest, for messages.
    image: String,
    digest: String,
    ops: Vec<Op>,
    warnings: usize,
    shared: Arc<Shared>,
}

impl Changeset {
    pub fn new(layer: usize, image: &str, digest: &str, shared: Arc<Shared>) -> Self {
        Self {
            layer,
            image: image.to_owned(),
            digest: digest.to_owned(),
            ops: Vec::new(),
            warnings: 0,
            shared,
        }
    }

    pub fn layer(&self) -> usize {
        self.layer
    }

    /// Whether reading should stop: another layer failed.
    pub fn cancelled(&self) -> bool {
        self.shared.cancelled()
    }

    /// Whether `size` more bytes of contents may be kept (reserved when they may).
    pub fn has_room(&mut self, size: u64) -> bool {
        self.shared.reserve(size)
    }

    pub fn warn(&mut self, message: String) {
        if self.warnings <= MAX_WARNINGS {
            self.warnings += 1;
            self.ops.push(Op::Warn(message));
        }
    }

    /// Records one path; false when the layer lists more paths than an image may hold.
    pub fn put(&mut self, path: String, kind: Kind) -> bool {
        self.push(Op::Put(path, kind))
    }

    pub fn link(&mut self, path: String, target: String) -> bool {
        self.push(Op::Link(path, target))
    }

    pub fn whiteout(&mut self, path: String) -> bool {
        self.push(Op::Whiteout(path))
    }

    fn push(&mut self, op: Op) -> bool {
        if self.ops.len() >= MAX_ENTRIES + MAX_WARNINGS {
            return false;
        }
        self.ops.push(op);
        true
    }

    /// Applies the changes on top of `tree` (every lower layer applied already).
    pub fn apply(self, tree: &mut Tree) -> Result<(), SbomError> {
        let layer = self.layer;
        for op in self.ops {
            let (path, kind) = match op {
                Op::Warn(m) => {
                    tree.warn(m);
                    continue;
                }
                Op::Whiteout(path) => {
                    tree.whiteout(&path, layer);
                    continue;
                }
                Op::Put(path, kind) => (path, kind),
                Op::Link(path, target) => {
                    let kind = hard_link(tree, &target);
                    (path, kind)
                }
            };
            let entry = Entry {
                kind,
                layer: Some(layer),
            };
            if !tree.insert(path, entry) {
                return Err(SbomError::Layer {
                    image: self.image,
                    digest: self.digest,
                    message: format!("more than {MAX_ENTRIES} paths: refusing to index this image"),
                    external: false,
                });
            }
        }
        Ok(())
    }
}

/// A hard link shares what its target (earlier in the stream, or in a lower layer) holds; a
/// link to nothing is an empty file.
fn hard_link(tree: &mut Tree, target: &str) -> Kind {
    match normalize(target).and_then(|t| tree.get(&t).map(|e| e.kind.clone())) {
        Some(kind @ Kind::File(_)) => kind,
        _ => {
            tree.warn(format!("hard link to missing `{target}` skipped"));
            Kind::File(None)
        }
    }
}
