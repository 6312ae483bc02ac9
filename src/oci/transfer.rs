//! Moving one blob between stores: skipped when present, mounted within a registry,
//! streamed from the source's verified [`Store::open_blob`] into the destination otherwise;
//! broken downloads into a layout resume with `Range`, damaged bytes are refused after a few
//! tries (a damaged layout at once: retrying cannot fix a file).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures_util::TryStreamExt;

use super::blob::BlobStream;
use super::copy::Copier;
use super::error::OciError;
use super::layout::Layout;
use super::manifest::Descriptor;
use super::registry::Registry;
use super::store::{Store, interrupted};
use super::upload::Upload;

impl Copier<'_> {
    /// One blob, retried on broken connections and bad bytes, skipped when present; a blob
    /// another task of this copy is moving is waited for, not moved twice (see `in_flight`).
    pub(super) async fn copy_blob(&self, desc: &Descriptor) -> Result<(), OciError> {
        if let Ok(mut list) = self.blobs.lock()
            && !list.contains(&desc.digest)
        {
            list.push(desc.digest.clone());
        }
        let cell = match self.in_flight.lock() {
            Ok(mut map) => map.entry(desc.digest.clone()).or_default().clone(),
            Err(_) => return self.copy_blob_once(desc).await,
        };
        // A failed transfer leaves the cell empty: the next waiter tries itself.
        cell.get_or_try_init(|| self.copy_blob_once(desc))
            .await
            .map(|_| ())
    }

    async fn copy_blob_once(&self, desc: &Descriptor) -> Result<(), OciError> {
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
            (Store::Registry { registry, repo }, Store::Layout(to)) => {
                self.download(registry, repo, to, desc).await?;
                Ok(Moved::Copied)
            }
            (src, Store::Registry { registry, repo }) => {
                self.upload(src, registry, repo, desc).await
            }
            (src, dst) => {
                let body = self.counted(src.open_blob(desc).await?);
                dst.put_blob(desc, body).await?;
                Ok(Moved::Copied)
            }
        }
    }

    /// The source's verified bytes, advancing the progress bar as they pass.
    fn counted(&self, body: BlobStream) -> BlobStream {
        let progress = self.progress.clone();
        Box::pin(body.inspect_ok(move |b| progress.advance(b.len() as u64)))
    }

    /// Into a registry: mounted from another repository of the same registry when it can
    /// be, else sent from the source's verified stream (the upload cancelled on failure).
    async fn upload(
        &self,
        src: &Store,
        registry: &Registry,
        repo: &str,
        desc: &Descriptor,
    ) -> Result<Moved, OciError> {
        let mount_from = match src {
            Store::Registry {
                registry: s,
                repo: from,
            } if std::ptr::eq(Arc::as_ptr(s), registry) && from != repo => Some(from.as_str()),
            _ => None,
        };
        // A layout blob that cannot be read is refused before an upload session is opened;
        // one whose bytes are wrong ends its upload before the last of them, and the session
        // is cancelled (`push_blob`).
        let early = match src {
            Store::Layout(_) => Some(src.open_blob(desc).await?),
            Store::Registry { .. } => None,
        };
        let location = registry
            .start_upload(repo, mount_from.map(|f| (&desc.digest, f)))
            .await?;
        let Some(location) = location else {
            return Ok(Moved::Mounted);
        };
        let body = match early {
            Some(body) => body,
            None => match src.open_blob(desc).await {
                Ok(body) => body,
                Err(e) => {
                    registry.cancel_upload(repo, &location).await;
                    return Err(e);
                }
            },
        };
        // Chunks are for layout sources (as documented); a registry's blob streams through.
        let mode = match (src, registry.chunk_size) {
            (Store::Layout(_), Some(chunk)) => Upload::Chunked(chunk),
            _ => Upload::Streamed,
        };
        registry
            .push_blob(repo, location, desc, self.counted(body), mode)
            .await?;
        self.stats
            .bytes_uploaded
            .fetch_add(desc.size, Ordering::Relaxed);
        Ok(Moved::Copied)
    }

    /// From a registry into a layout. A download that breaks off resumes where it stopped
    /// (`Range`); the hash over the whole still decides. Hashing and writing run on a
    /// blocking thread while the network keeps receiving.
    async fn download(
        &self,
        registry: &Registry,
        repo: &str,
        to: &Layout,
        desc: &Descriptor,
    ) -> Result<(), OciError> {
        let w = to
            .blob_writer(&desc.digest, desc.size)?
            .from_source(self.src.describe());
        let (tx, writer) = w.spawn();
        let mut offset = 0u64;
        let mut resumes = 0;
        let received = loop {
            let resp = match registry.get_blob_from(repo, &desc.digest, offset).await {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            let got = match self.receive(resp, offset, &tx, &registry.host, desc).await {
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
        let written = writer.await;
        received?;
        written?.commit()
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
}

enum Moved {
    Copied,
    Mounted,
}

/// Worth another try: the network or a server error (damaged bytes are handled apart).
fn transient(e: &OciError) -> bool {
    match e {
        OciError::Network { .. } => !e.is_permanent_network(),
        OciError::Http { status, .. } => super::retry::retryable_status(*status),
        _ => false,
    }
}
