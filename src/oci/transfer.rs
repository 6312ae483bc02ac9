//! Moving one blob between stores: skipped when present, mounted within a registry,
//! streamed (hashed on the way) or sent in chunks otherwise; broken downloads resume with
//! `Range`, damaged bytes are refused after a few tries.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::copy::Copier;
use super::digest::{Verifier, sha256_hex};
use super::error::OciError;
use super::manifest::Descriptor;
use super::store::Store;

impl Copier<'_> {
    /// One blob, retried on broken connections and bad bytes, skipped when present.
    pub(super) async fn copy_blob(&self, desc: &Descriptor) -> Result<(), OciError> {
        sha256_hex(&desc.digest)?;
        if let Ok(mut list) = self.blobs.lock()
            && !list.contains(&desc.digest)
        {
            list.push(desc.digest.clone());
        }
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
        OciError::Network { .. } => !e.is_permanent_network(),
        OciError::Http { status, .. } => super::retry::retryable_status(*status),
        _ => false,
    }
}
