//! Copying an image between stores: the manifest tree (index → children → config/layers),
//! everything attached to each manifest (cosign `.sig`/`.att`/`.sbom` tags, OCI 1.1
//! referrers or their `sha256-<hex>` fallback tag), then — last, so a failure tags nothing —
//! the destination tag. Blobs already present are skipped, blobs in the same registry are
//! mounted, and every byte pulled is hashed on the way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use super::digest::{Verifier, sha256_hex};
use super::error::OciError;
use super::manifest::{Descriptor, Kind, Manifest, Platform};
use super::store::{Fetched, Store};
use super::transport::Location;

/// Blobs moved at once, per image manifest.
const PARALLEL_BLOBS: usize = 4;
/// Platforms of an index copied at once (so up to 8 blobs in flight).
const PARALLEL_CHILDREN: usize = 2;
/// Suffixes cosign gives the tags it attaches to `sha256-<hex>`; "" is the referrers fallback.
pub const ATTACHMENT_SUFFIXES: [&str; 4] = [".sig", ".att", ".sbom", ""];

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
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Every manifest copied (root, children, attachments).
    pub manifests: Vec<String>,
    /// Attachment tags written at the destination.
    pub attachments: Vec<String>,
    pub blobs_copied: u64,
    pub blobs_skipped: u64,
    pub blobs_mounted: u64,
    pub bytes_uploaded: u64,
}

pub struct Copier<'a> {
    pub src: &'a Store,
    pub dst: &'a Store,
    pub stats: Stats,
    pub progress: super::progress::Progress,
    manifests: std::sync::Mutex<Vec<String>>,
    attachments: std::sync::Mutex<Vec<String>>,
}

impl<'a> Copier<'a> {
    pub fn new(src: &'a Store, dst: &'a Store) -> Self {
        Self {
            src,
            dst,
            stats: Stats::default(),
            progress: Default::default(),
            manifests: Default::default(),
            attachments: Default::default(),
        }
    }

    /// Copies what `from` names to `to`, narrowed to one platform when asked.
    pub async fn run(
        &self,
        from: &Location,
        to: &Location,
        platform: Option<&Platform>,
    ) -> Result<Copied, OciError> {
        let mut root = self.src.resolve(from).await?;
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
            attachments: self
                .attachments
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            blobs_copied: load(&self.stats.blobs_copied),
            blobs_skipped: load(&self.stats.blobs_skipped),
            blobs_mounted: load(&self.stats.blobs_mounted),
            bytes_uploaded: load(&self.stats.bytes_uploaded),
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
        let child = children
            .iter()
            .find(|c| c.platform.as_ref().is_some_and(|p| p.matches(want)))
            .ok_or_else(|| OciError::NotFound {
                what: format!("platform {want}"),
                place: from.to_string(),
            })?;
        self.fetch(&child.digest).await
    }

    async fn fetch(&self, digest: &str) -> Result<Fetched, OciError> {
        self.src
            .manifest(digest)
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
            self.dst.put_manifest(m).await?;
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

    async fn copy_blobs(&self, m: &Manifest) -> Result<(), OciError> {
        stream::iter(m.blobs().into_iter().map(Ok))
            .try_for_each_concurrent(PARALLEL_BLOBS, |d| self.copy_blob(d))
            .await
    }

    /// Cosign tags and referrers of `digest`, each copied with its own tree.
    async fn copy_attachments(&self, digest: &str) -> Result<(), OciError> {
        let hex = sha256_hex(digest)?;
        // Most of these tags do not exist: ask for all at once.
        let probes = ATTACHMENT_SUFFIXES.iter().map(|suffix| async move {
            let tag = format!("sha256-{hex}{suffix}");
            let found = self.src.manifest(&tag).await?;
            Ok::<_, OciError>(found.map(|f| (tag, f)))
        });
        let found = futures_util::future::try_join_all(probes).await?;
        for (tag, found) in found.into_iter().flatten() {
            Box::pin(self.copy_tree(&found, false)).await?;
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
            let tag = format!("sha256-{hex}");
            let already = self
                .attachments
                .lock()
                .map(|l| l.contains(&tag))
                .unwrap_or(false);
            if !dst_has_api && !already {
                let fallback = Fetched {
                    digest: super::digest::sha256(&index),
                    bytes: index,
                    media_type: super::manifest::OCI_INDEX.into(),
                };
                self.dst.put_manifest(&fallback).await?;
                self.dst.set_tag(&fallback, Some(&tag)).await?;
                if let Ok(mut list) = self.attachments.lock() {
                    list.push(tag);
                }
            }
        }
        Ok(())
    }

    /// One blob, retried on broken connections and bad bytes, skipped when present.
    async fn copy_blob(&self, desc: &Descriptor) -> Result<(), OciError> {
        sha256_hex(&desc.digest)?;
        if self.dst.has_blob(desc).await? {
            self.stats.blobs_skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let retry = match (self.src, self.dst) {
            (Store::Registry { registry, .. }, _) | (_, Store::Registry { registry, .. }) => {
                registry.retry
            }
            _ => super::retry::Retry::default(),
        };
        self.progress.add_total(desc.size);
        let mut attempt = 0;
        loop {
            match self.transfer(desc).await {
                Ok(Moved::Mounted) => {
                    self.stats.blobs_mounted.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Ok(Moved::Copied) => {
                    self.stats.blobs_copied.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(OciError::DigestMismatch { .. })
                    if attempt + 1 < super::distribution::MISMATCH_ATTEMPTS.min(retry.attempts) =>
                {
                    tokio::time::sleep(retry.delay(attempt, None)).await;
                    attempt += 1;
                }
                Err(e) if attempt + 1 < retry.attempts && transient(&e) => {
                    tokio::time::sleep(retry.delay(attempt, None)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn transfer(&self, desc: &Descriptor) -> Result<Moved, OciError> {
        match (self.src, self.dst) {
            (Store::Layout(from), Store::Layout(to)) => {
                let file = from.open_blob(&desc.digest)?;
                let mut w = to.blob_writer(&desc.digest, desc.size)?;
                tokio::task::spawn_blocking(move || {
                    w.copy_from(file)?;
                    w.commit()
                })
                .await
                .map_err(|e| OciError::Unsupported(format!("blob copy task failed: {e}")))??;
                self.progress.advance(desc.size);
                Ok(Moved::Copied)
            }
            (Store::Registry { registry, repo }, Store::Layout(to)) => {
                let mut w = to.blob_writer(&desc.digest, desc.size)?;
                // Hash and write on a blocking thread while the network keeps receiving.
                let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(64);
                let writer = tokio::task::spawn_blocking(move || {
                    while let Some(chunk) = rx.blocking_recv() {
                        w.write(&chunk)?;
                    }
                    w.commit()
                });
                // A download that breaks off resumes where it stopped (`Range`); the hash
                // over the whole still decides.
                let mut offset = 0u64;
                let mut resumes = 0;
                let received = loop {
                    let resp = match registry.get_blob_from(repo, &desc.digest, offset).await {
                        Ok(r) => r,
                        Err(e) => break Err(e),
                    };
                    let outcome = self.receive(resp, offset, &tx, &registry.host, desc).await;
                    let got = match outcome {
                        Ok(n) => n,
                        Err((n, e)) => {
                            offset += n;
                            if resumes + 1 < registry.retry.attempts && offset < desc.size {
                                tokio::time::sleep(registry.retry.delay(resumes, None)).await;
                                resumes += 1;
                                continue;
                            }
                            break Err(e);
                        }
                    };
                    offset += got;
                    if offset < desc.size && resumes + 1 < registry.retry.attempts {
                        // Ended early but cleanly (a truncated body): ask for the rest.
                        tokio::time::sleep(registry.retry.delay(resumes, None)).await;
                        resumes += 1;
                        continue;
                    }
                    break Ok(());
                };
                drop(tx);
                let written = writer
                    .await
                    .map_err(|e| OciError::Unsupported(format!("blob write task failed: {e}")))?;
                received?;
                written.map(|()| Moved::Copied)
            }
            (src, Store::Registry { registry, repo }) => {
                let mount_from = match src {
                    Store::Registry {
                        registry: s,
                        repo: from,
                    } if Arc::ptr_eq(s, registry) && from != repo => Some(from.as_str()),
                    _ => None,
                };
                let location = registry
                    .start_upload(repo, mount_from.map(|f| (desc.digest.as_str(), f)))
                    .await?;
                let Some(location) = location else {
                    return Ok(Moved::Mounted);
                };
                if let (Store::Layout(l), Some(chunk)) = (src, registry.chunk_size)
                    && desc.size > chunk
                {
                    self.upload_chunked(l, registry, repo, &location, desc, chunk)
                        .await?;
                    return Ok(Moved::Copied);
                }
                let failure = Arc::new(std::sync::Mutex::new(None::<OciError>));
                let body = self.source_body(desc, failure.clone()).await?;
                let sent = registry
                    .finish_upload(repo, &location, &desc.digest, desc.size, body)
                    .await;
                // A refusal found while streaming explains the broken upload better.
                if let Some(e) = failure.lock().ok().and_then(|mut f| f.take()) {
                    return Err(e);
                }
                sent?;
                self.stats
                    .bytes_uploaded
                    .fetch_add(desc.size, Ordering::Relaxed);
                Ok(Moved::Copied)
            }
        }
    }

    /// Streams one blob response into `tx`: the bytes from `offset` on (skipping what a
    /// registry that ignored `Range` sends again). Returns how many new bytes were passed on,
    /// with the error when the body broke off.
    async fn receive(
        &self,
        mut resp: reqwest::Response,
        offset: u64,
        tx: &tokio::sync::mpsc::Sender<Bytes>,
        host: &str,
        desc: &Descriptor,
    ) -> Result<u64, (u64, OciError)> {
        let mut skip = if offset > 0 && resp.status() != reqwest::StatusCode::PARTIAL_CONTENT {
            offset
        } else {
            0
        };
        let mut passed = 0u64;
        loop {
            match resp.chunk().await {
                Ok(Some(mut chunk)) => {
                    if skip > 0 {
                        let n = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
                        chunk = chunk.slice(n..);
                        skip -= n as u64;
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    let n = chunk.len() as u64;
                    self.stats.bytes_downloaded.fetch_add(n, Ordering::Relaxed);
                    self.progress.advance(n);
                    if tx.send(chunk).await.is_err() {
                        return Ok(passed);
                    }
                    passed += n;
                }
                Ok(None) => return Ok(passed),
                Err(e) => return Err((passed, interrupted(host, &desc.digest, &e))),
            }
        }
    }

    /// A layout blob sent in `PATCH` chunks (each retried on its own), hashed as it is read,
    /// then closed with an empty `PUT` only when the hash matched.
    async fn upload_chunked(
        &self,
        layout: &super::layout::Layout,
        registry: &super::registry::Registry,
        repo: &str,
        location: &str,
        desc: &Descriptor,
        chunk: u64,
    ) -> Result<(), OciError> {
        use std::io::Read;
        let path = layout.blob_path(&desc.digest)?;
        let mut file = layout.open_blob(&desc.digest)?;
        let mut verifier = Verifier::new(&desc.digest)?;
        let mut location = location.to_owned();
        let mut offset = 0u64;
        let cap = usize::try_from(chunk).unwrap_or(usize::MAX).min(1 << 30);
        loop {
            let mut buf = Vec::with_capacity(cap);
            (&mut file)
                .take(cap as u64)
                .read_to_end(&mut buf)
                .map_err(OciError::io(&path))?;
            if buf.is_empty() {
                break;
            }
            verifier.update(&buf);
            let n = buf.len() as u64;
            location = registry
                .upload_chunk(repo, &location, offset, Bytes::from(buf))
                .await?;
            offset += n;
            self.progress.advance(n);
        }
        verifier.finish(
            Some(desc.size),
            &format!("blob {}", desc.digest),
            &self.src.describe(),
        )?;
        registry
            .finish_upload(
                repo,
                &location,
                &desc.digest,
                0,
                reqwest::Body::from(Vec::new()),
            )
            .await?;
        self.stats
            .bytes_uploaded
            .fetch_add(offset, Ordering::Relaxed);
        Ok(())
    }

    /// The source blob as a request body that hashes as it streams and breaks off (recording
    /// why in `failure`) when the bytes do not match the digest.
    async fn source_body(
        &self,
        desc: &Descriptor,
        failure: Arc<std::sync::Mutex<Option<OciError>>>,
    ) -> Result<reqwest::Body, OciError> {
        let place = self.src.describe();
        let chunks: futures_util::stream::BoxStream<'static, Result<Bytes, OciError>> =
            match self.src {
                Store::Layout(l) => {
                    let file = l.open_blob(&desc.digest)?;
                    let path = l.blob_path(&desc.digest)?;
                    Box::pin(stream::unfold(file, move |mut file| {
                        let path = path.clone();
                        async move {
                            use std::io::Read;
                            let mut buf = vec![0u8; 1 << 20];
                            match file.read(&mut buf) {
                                Ok(0) => None,
                                Ok(n) => {
                                    buf.truncate(n);
                                    Some((Ok(Bytes::from(buf)), file))
                                }
                                Err(e) => Some((Err(OciError::Io { path, source: e }), file)),
                            }
                        }
                    }))
                }
                Store::Registry { registry, repo } => {
                    let resp = registry.get_blob(repo, &desc.digest).await?;
                    let host = registry.host.clone();
                    let digest = desc.digest.clone();
                    Box::pin(
                        resp.bytes_stream()
                            .map_err(move |e| interrupted(&host, &digest, &e)),
                    )
                }
            };
        let verifier = Verifier::new(&desc.digest)?;
        let size = desc.size;
        let progress = self.progress.clone();
        let what = format!("blob {}", desc.digest);
        let verified = stream::unfold(
            (chunks, Some(verifier), failure),
            move |(mut chunks, mut verifier, failure)| {
                let place = place.clone();
                let what = what.clone();
                let progress = progress.clone();
                async move {
                    let v = verifier.as_mut()?;
                    match chunks.next().await {
                        Some(Ok(bytes)) => {
                            v.update(&bytes);
                            progress.advance(bytes.len() as u64);
                            Some((Ok(bytes), (chunks, verifier, failure)))
                        }
                        Some(Err(e)) => {
                            let msg = e.to_string();
                            if let Ok(mut f) = failure.lock() {
                                *f = Some(e);
                            }
                            Some((Err(std::io::Error::other(msg)), (chunks, None, failure)))
                        }
                        None => {
                            let v = verifier.take()?;
                            match v.finish(Some(size), &what, &place) {
                                Ok(()) => None,
                                Err(e) => {
                                    let msg = e.to_string();
                                    if let Ok(mut f) = failure.lock() {
                                        *f = Some(e);
                                    }
                                    Some((Err(std::io::Error::other(msg)), (chunks, None, failure)))
                                }
                            }
                        }
                    }
                }
            },
        );
        Ok(reqwest::Body::wrap_stream(verified))
    }
}

enum Moved {
    Copied,
    Mounted,
}

fn interrupted(host: &str, digest: &str, e: &reqwest::Error) -> OciError {
    OciError::Network {
        registry: host.to_owned(),
        action: format!("receiving blob {digest}"),
        message: super::registry::chain(e),
    }
}

/// Worth another try: the network or a server error (damaged bytes are handled apart).
fn transient(e: &OciError) -> bool {
    match e {
        OciError::Network { .. } => true,
        OciError::Http { status, .. } => super::retry::retryable_status(*status),
        _ => false,
    }
}
