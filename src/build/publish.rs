//! The hand-over to `oci`: every backend leaves its manifests and blobs in a staging image
//! layout (written through `oci::layout`, digest-checked); [`publish`] copies the root from
//! there to the destination with `oci::copy` (by digest, skipping blobs already present) and
//! tags only when asked. Reading a base image's small blobs is here too.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::BuildError;
use crate::oci::copy::Copier;
use crate::oci::digest::{Verifier, sha256};
use crate::oci::error::OciError;
use crate::oci::layout::Layout;
use crate::oci::manifest::Descriptor;
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

/// Configs and manifests are small; refuse anything larger as one.
const SMALL_BLOB_MAX: usize = 4 << 20;

/// A temporary image layout a build writes into (removed when dropped).
pub struct Staging {
    dir: tempfile::TempDir,
    pub layout: Layout,
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
        let layout = Layout::create(dir.path())?;
        Ok(Self { dir, layout })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Stores bytes (a config or manifest) and returns their descriptor.
    pub fn put(&self, media_type: &str, bytes: &[u8]) -> Result<Descriptor, BuildError> {
        let digest = sha256(bytes);
        self.layout.write_blob(&digest, bytes)?;
        Ok(Descriptor {
            media_type: media_type.to_owned(),
            digest,
            size: bytes.len() as u64,
            ..Descriptor::default()
        })
    }

    /// Moves a finished layer file in, checked against the digest it was built with.
    pub fn put_file(&self, path: &Path, digest: &str, size: u64) -> Result<(), BuildError> {
        if self.layout.has_blob(digest, size) {
            return Ok(());
        }
        let file = std::fs::File::open(path).map_err(BuildError::io(path))?;
        let mut w = self.layout.blob_writer(digest, size)?;
        w.copy_from(file)?;
        w.commit()?;
        Ok(())
    }

    pub fn store(&self) -> Store {
        Store::Layout(self.layout.clone())
    }

    pub fn location(&self, digest: &str) -> Location {
        Location::Layout {
            path: self.path().to_path_buf(),
            tag: None,
            digest: Some(digest.to_owned()),
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
    let src = staging.store();
    let dst = ctx.store(to, true)?;
    Copier::new(&src, &dst)
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
    let bytes = match store {
        Store::Layout(l) => return Ok(l.read_verified(&desc.digest)?),
        Store::Registry { registry, repo } => {
            let mut stream = registry.get_blob(repo, &desc.digest).await?.bytes_stream();
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| OciError::Network {
                    registry: registry.host.clone(),
                    action: "reading an image config".into(),
                    message: crate::oci::registry::chain(&e),
                })?;
                bytes.extend_from_slice(&chunk);
                if bytes.len() > SMALL_BLOB_MAX {
                    break;
                }
            }
            bytes
        }
    };
    let mut v = Verifier::new(&desc.digest)?;
    v.update(&bytes);
    v.finish(Some(desc.size), "image config", &store.describe())?;
    Ok(bytes)
}
