//! The hand-over to `oci` for the buildah backend, which leaves its manifests and blobs in a
//! staging image layout (written through `oci::layout`, digest-checked); [`publish`] copies
//! the root from there to the destination with `oci::copy` (by digest, skipping blobs already present) and
//! tags only when asked. Reading a base image's small blobs is here too.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::BuildError;
use crate::oci::copy::Copier;
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::layout::Layout;
use crate::oci::manifest::Descriptor;
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

/// Configs and manifests are small; refuse anything larger as one.
const SMALL_BLOB_MAX: usize = 4 << 20;

/// A temporary image layout a build writes into (removed when dropped). Every blob and
/// manifest goes in through [`Store`], which checks digests before anything lands.
pub struct Staging {
    dir: tempfile::TempDir,
    pub store: Store,
}

impl Staging {
    /// In `$RUNNER_TEMP` when set (same disk as the workspace on runners), else the system's.
    pub fn new() -> Result<Self, BuildError> {
        let parent = std::env::var_os("RUNNER_TEMP")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("cicd-build-")
            .tempdir_in(&parent)
            .map_err(BuildError::io(&parent))?;
        let store = Store::Layout(Layout::create(dir.path())?);
        Ok(Self { dir, store })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A manifest stored here, verified.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, BuildError> {
        match &self.store {
            Store::Layout(l) => Ok(l.read_verified(digest)?),
            Store::Registry { .. } => Err(BuildError::Usage("staging is a layout".into())),
        }
    }

    pub fn location(&self, digest: &Digest) -> Location {
        Location::Layout {
            path: self.path().to_path_buf(),
            tag: None,
            digest: Some(digest.to_string()),
        }
    }
}

/// Copies `root` from staging to `to` (every child and blob, by digest), then writes `tags`.
pub async fn publish(
    ctx: &Context,
    staging: &Staging,
    root: &Fetched,
    to: &Location,
    tags: &[String],
) -> Result<(), BuildError> {
    let dst = ctx.store(to, true)?;
    Copier::new(&staging.store, &dst)
        .run(&staging.location(&root.digest), to, None)
        .await?;
    for tag in tags {
        dst.set_tag(root, Some(tag)).await?;
    }
    Ok(())
}

/// A small blob (a config), whole and verified against its digest.
pub async fn read_small_blob(store: &Store, desc: &Descriptor) -> Result<Vec<u8>, BuildError> {
    if desc.size as usize > SMALL_BLOB_MAX {
        return Err(OciError::Manifest(format!(
            "{} in {} is larger than 4 MiB: not an image config",
            desc.digest,
            store.describe()
        ))
        .into());
    }
    let mut stream = store.open_blob(desc).await?;
    let mut bytes = Vec::new();
    // The stream is verified by the store: its last chunk only arrives when the digest held.
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    Ok(bytes)
}

/// `loc` pointing at `digest` (no tag).
pub fn at_digest(loc: &Location, digest: &Digest) -> Location {
    let mut l = loc.clone();
    match &mut l {
        Location::Registry(r) => {
            r.tag = None;
            r.digest = Some(digest.to_string());
        }
        Location::Layout { tag, digest: d, .. } => {
            *tag = None;
            *d = Some(digest.to_string());
        }
    }
    l
}

/// `loc` without tag or digest: the repository or layout itself.
pub fn bare(loc: &Location) -> Location {
    let mut l = loc.clone();
    match &mut l {
        Location::Registry(r) => {
            r.tag = None;
            r.digest = None;
        }
        Location::Layout { tag, digest, .. } => {
            *tag = None;
            *digest = None;
        }
    }
    l
}
