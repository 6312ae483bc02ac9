//! Copying an image between stores: the manifest tree (index → children → config/layers),
//! everything attached to each manifest (cosign `.sig`/`.att`/`.sbom` tags, OCI 1.1
//! referrers or their `sha256-<hex>` fallback tag), then — last, so a failure tags nothing —
//! the destination tag. Moving each blob is `transfer.rs`.

use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{TryStreamExt, stream};
use serde::Serialize;

use super::attach;
use super::digest::Digest;
use super::error::OciError;
use super::manifest::{Kind, Manifest, Platform};
use super::store::{Fetched, Store};
use super::transport::Location;

/// Blobs moved at once, per image manifest.
const PARALLEL_BLOBS: usize = 4;
/// Platforms of an index copied at once (so up to 8 blobs in flight).
const PARALLEL_CHILDREN: usize = 2;

#[derive(Debug, Default)]
pub struct Stats {
    pub blobs_copied: AtomicU64,
    pub blobs_skipped: AtomicU64,
    pub blobs_mounted: AtomicU64,
    pub bytes_uploaded: AtomicU64,
    pub bytes_downloaded: AtomicU64,
}

#[derive(Debug, Serialize)]
pub struct Copied {
    pub source: String,
    pub destination: String,
    pub digest: Digest,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Every manifest copied (root, children, attachments).
    pub manifests: Vec<Digest>,
    /// Every blob (config or layer) those manifests reference, copied or already there.
    pub blobs: Vec<Digest>,
    /// Attachment tags written at the destination.
    pub attachments: Vec<String>,
    pub blobs_copied: u64,
    pub blobs_skipped: u64,
    pub blobs_mounted: u64,
    pub bytes_uploaded: u64,
    /// Blob bytes received into a layout (resumed downloads count what actually arrived).
    pub bytes_downloaded: u64,
}

pub struct Copier<'a> {
    pub src: &'a Store,
    pub dst: &'a Store,
    pub stats: Stats,
    pub progress: super::progress::Progress,
    manifests: std::sync::Mutex<Vec<Digest>>,
    pub(super) blobs: std::sync::Mutex<Vec<Digest>>,
    attachments: std::sync::Mutex<Vec<String>>,
    /// One transfer per blob at a time: platforms of an index share layers, and a second
    /// upload of a blob committing while a sibling's manifest is `PUT` makes docker-registry
    /// re-link the blob under that `PUT` (its link file is rewritten in place), which it then
    /// answers with `DIGEST_INVALID`. Siblings wait for the first transfer instead.
    pub(super) in_flight: std::sync::Mutex<
        std::collections::HashMap<Digest, std::sync::Arc<tokio::sync::OnceCell<()>>>,
    >,
}

impl<'a> Copier<'a> {
    pub fn new(src: &'a Store, dst: &'a Store) -> Self {
        Self {
            src,
            dst,
            stats: Stats::default(),
            progress: Default::default(),
            manifests: Default::default(),
            blobs: Default::default(),
            attachments: Default::default(),
            in_flight: Default::default(),
        }
    }

    /// Copies what `from` names to `to`, narrowed to one platform when asked.
    pub async fn run(
        &self,
        from: &Location,
        to: &Location,
        platform: Option<&Platform>,
    ) -> Result<Copied, OciError> {
        let root = self.src.resolve(from).await?;
        self.run_resolved(root, from, to, platform).await
    }

    /// [`Copier::run`] for a root the caller has already resolved from `from` (and checked):
    /// it is not fetched again.
    pub async fn run_resolved(
        &self,
        mut root: Fetched,
        from: &Location,
        to: &Location,
        platform: Option<&Platform>,
    ) -> Result<Copied, OciError> {
        if let Some(want) = platform {
            root = self.pick_platform(root, want, from).await?;
        }
        let copied = self.copy_tree(&root, true).await;
        self.progress.finish();
        copied?;
        // The tag goes last: anything refused above leaves the destination untagged.
        self.dst.set_tag(&root, to.tag()).await?;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Ok(Copied {
            source: from.to_string(),
            destination: to.to_string(),
            digest: root.digest.clone(),
            media_type: root.media_type.clone(),
            manifests: self.manifests.lock().map(|m| m.clone()).unwrap_or_default(),
            blobs: self.blobs.lock().map(|m| m.clone()).unwrap_or_default(),
            attachments: self
                .attachments
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            blobs_copied: load(&self.stats.blobs_copied),
            blobs_skipped: load(&self.stats.blobs_skipped),
            blobs_mounted: load(&self.stats.blobs_mounted),
            bytes_uploaded: load(&self.stats.bytes_uploaded),
            bytes_downloaded: load(&self.stats.bytes_downloaded),
        })
    }

    async fn pick_platform(
        &self,
        root: Fetched,
        want: &Platform,
        from: &Location,
    ) -> Result<Fetched, OciError> {
        let Kind::Index(children) = root.parse()?.kind else {
            return Ok(root);
        };
        let Some(child) = children
            .iter()
            .find(|c| c.platform.as_ref().is_some_and(|p| p.matches(want)))
        else {
            let available: Vec<String> = children
                .iter()
                .filter_map(|c| c.platform.as_ref().map(ToString::to_string))
                .collect();
            return Err(OciError::Platform {
                want: want.to_string(),
                place: from.to_string(),
                available: available.join(", "),
            });
        };
        self.fetch(&child.digest).await
    }

    async fn fetch(&self, digest: &Digest) -> Result<Fetched, OciError> {
        self.src
            .manifest(digest.as_str())
            .await?
            .ok_or_else(|| OciError::NotFound {
                what: format!("manifest {digest}"),
                place: self.src.describe(),
            })
    }

    /// A manifest, what it references, and what is attached to it, stored by digest.
    async fn copy_tree(&self, m: &Fetched, attachments: bool) -> Result<(), OciError> {
        let parsed = m.parse()?;
        let present = self
            .dst
            .has_manifest(&m.digest, m.bytes.len() as u64)
            .await?;
        if !present {
            match &parsed.kind {
                Kind::Index(children) => {
                    stream::iter(children.iter().map(Ok))
                        .try_for_each_concurrent(PARALLEL_CHILDREN, |child| async move {
                            let fetched = self.fetch(&child.digest).await?;
                            Box::pin(self.copy_tree(&fetched, attachments)).await
                        })
                        .await?;
                }
                Kind::Image { .. } => self.copy_blobs(&parsed).await?,
            }
            self.dst.put_manifest(m, None).await?;
        } else if let (true, Kind::Index(children)) = (attachments, &parsed.kind) {
            // Already there, but signatures may have been attached to a platform since.
            stream::iter(children.iter().map(Ok))
                .try_for_each_concurrent(PARALLEL_CHILDREN, |child| {
                    self.copy_attachments(&child.digest)
                })
                .await?;
        }
        if let Ok(mut list) = self.manifests.lock() {
            list.push(m.digest.clone());
        }
        if attachments {
            self.copy_attachments(&m.digest).await?;
        }
        Ok(())
    }

    /// Just these blobs (a base image's layers a builder stacks on), each skipped when
    /// present, mounted or streamed verified like any blob of a copied image.
    pub async fn copy_blob_list(
        &self,
        blobs: &[super::manifest::Descriptor],
    ) -> Result<(), OciError> {
        stream::iter(blobs.iter().map(Ok))
            .try_for_each_concurrent(PARALLEL_BLOBS, |d| self.copy_blob(d))
            .await
    }

    async fn copy_blobs(&self, m: &Manifest) -> Result<(), OciError> {
        stream::iter(m.blobs().into_iter().map(Ok))
            .try_for_each_concurrent(PARALLEL_BLOBS, |d| self.copy_blob(d))
            .await
    }

    /// Cosign tags and referrers of `digest`, each copied with its own tree.
    async fn copy_attachments(&self, digest: &Digest) -> Result<(), OciError> {
        // Most of these tags do not exist: ask for all at once.
        let probes = attach::tags(digest).into_iter().map(|tag| async move {
            let found = self.src.manifest(&tag).await?;
            Ok::<_, OciError>(found.map(|f| (tag, f)))
        });
        let found = futures_util::future::try_join_all(probes).await?;
        let fallback_tag = attach::referrers_tag(digest);
        for (tag, found) in found.into_iter().flatten() {
            Box::pin(self.copy_tree(&found, false)).await?;
            let found = if tag == fallback_tag {
                // A referrers list: merged into the destination's own, never replacing it.
                let Some(bytes) = self.fallback_list(&tag, found.bytes).await? else {
                    continue;
                };
                Fetched::new(bytes, &found.media_type)
            } else {
                found
            };
            self.dst.set_tag(&found, Some(&tag)).await?;
            if let Ok(mut list) = self.attachments.lock() {
                list.push(tag);
            }
        }
        // OCI 1.1 referrers API: copy each referrer; a destination without the API gets the
        // fallback tag so clients there still find them.
        if let Store::Registry { registry, repo } = self.src
            && let Some(index) = registry.referrers(repo, digest).await?
            && let Ok(Manifest {
                kind: Kind::Index(referrers),
                ..
            }) = Manifest::parse(&index, Some(super::manifest::OCI_INDEX))
            && !referrers.is_empty()
        {
            for r in &referrers {
                let fetched = self.fetch(&r.digest).await?;
                Box::pin(self.copy_tree(&fetched, false)).await?;
            }
            let dst_has_api = match self.dst {
                Store::Registry { registry, repo } => {
                    registry.referrers(repo, digest).await?.is_some()
                }
                Store::Layout(_) => false,
            };
            let tag = fallback_tag;
            let already = self
                .attachments
                .lock()
                .map(|l| l.contains(&tag))
                .unwrap_or(false);
            if !dst_has_api
                && !already
                && let Some(bytes) = self.fallback_list(&tag, index).await?
            {
                let fallback = Fetched::new(bytes, super::manifest::OCI_INDEX);
                self.dst.put_manifest(&fallback, Some(&tag)).await?;
                if let Ok(mut list) = self.attachments.lock() {
                    list.push(tag);
                }
            }
        }
        Ok(())
    }

    /// The `sha256-<hex>` list to write at a destination without the referrers API, as
    /// distribution-spec 1.1 has clients maintain it: the destination's current list with the
    /// source's referrers appended (none twice). `None` when nothing needs writing: every
    /// referrer is already listed, or the tag holds something other than an index (left alone
    /// rather than clobbered). With no list there yet, the source's index is written as is.
    async fn fallback_list(&self, tag: &str, source: Vec<u8>) -> Result<Option<Vec<u8>>, OciError> {
        let Some(current) = self.dst.manifest(tag).await? else {
            return Ok(Some(source));
        };
        let mut current: serde_json::Value = match serde_json::from_slice(&current.bytes) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        let Some(list) = current
            .get_mut("manifests")
            .and_then(serde_json::Value::as_array_mut)
        else {
            return Ok(None);
        };
        let incoming: serde_json::Value = serde_json::from_slice(&source)
            .map_err(|e| OciError::Manifest(format!("referrers index: {e}")))?;
        let mut added = false;
        for d in incoming["manifests"].as_array().into_iter().flatten() {
            if !list.iter().any(|e| e["digest"] == d["digest"]) {
                list.push(d.clone());
                added = true;
            }
        }
        if !added {
            return Ok(None);
        }
        serde_json::to_vec(&current)
            .map(Some)
            .map_err(|e| OciError::Manifest(format!("referrers index: {e}")))
    }
}
