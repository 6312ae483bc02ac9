//! Sending one blob into an upload session a registry opened: in one streamed `PATCH`, or in
//! `PATCH` chunks, closed by an empty `PUT`. The body is a verified [`BlobStream`], so a
//! mismatch surfaces before the last bytes go out; any failure cancels the session
//! (`DELETE`), so nothing half-sent stays in the registry's upload area.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, LOCATION};

use super::blob::{BlobStream, Seen};
use super::digest::Digest;
use super::distribution::push_scope;
use super::error::OciError;
use super::manifest::Descriptor;
use super::registry::{Registry, header};

/// How a blob goes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
    /// One streamed `PATCH` then an empty `PUT` (what `docker push` does): bytes that turn
    /// out wrong end the body cleanly, so the session can still be cancelled.
    Streamed,
    /// `PATCH` chunks of this many bytes, each retried on its own, then an empty `PUT`
    /// (blobs no larger than one chunk are streamed).
    Chunked(u64),
}

impl Registry {
    /// Sends `body` to the upload session at `location` the way `mode` says and completes
    /// it; on any failure the session is cancelled and the first cause returned.
    pub async fn push_blob(
        &self,
        repo: &str,
        location: String,
        desc: &Descriptor,
        body: BlobStream,
        mode: Upload,
    ) -> Result<(), OciError> {
        let mode = match mode {
            Upload::Chunked(chunk) if desc.size <= chunk => Upload::Streamed,
            m => m,
        };
        let digest = || Ok(desc.digest.clone());
        self.push_body(repo, location, body, mode, &digest).await
    }

    /// [`Registry::push_blob`] for a blob whose digest is learned from its bytes as they go
    /// (a layer being compressed): the upload is completed under the digest `seen` holds once
    /// `body` has ended — and the registry checks the bytes it got against that digest.
    pub async fn push_hashed_blob(
        &self,
        repo: &str,
        location: String,
        body: BlobStream,
        mode: Upload,
        seen: &Seen,
    ) -> Result<Digest, OciError> {
        let learned = Mutex::new(None);
        let digest = || {
            let d = seen
                .lock()
                .ok()
                .and_then(|s| s.clone())
                .map(|(d, _)| d)
                .ok_or_else(|| {
                    OciError::Unsupported(format!(
                        "the blob for {repo} ended before its last byte; nothing was committed"
                    ))
                })?;
            if let Ok(mut l) = learned.lock() {
                *l = Some(d.clone());
            }
            Ok(d)
        };
        self.push_body(repo, location, body, mode, &digest).await?;
        learned
            .into_inner()
            .ok()
            .flatten()
            .ok_or_else(|| OciError::Unsupported(format!("the blob for {repo} was not completed")))
    }

    /// Sends `body` and completes the session under `digest()` (asked once the body is
    /// sent); on any failure the session is cancelled and the first cause returned.
    async fn push_body(
        &self,
        repo: &str,
        location: String,
        body: BlobStream,
        mode: Upload,
        digest: &(dyn Fn() -> Result<Digest, OciError> + Sync),
    ) -> Result<(), OciError> {
        let mut location = location;
        let result = match mode {
            Upload::Chunked(chunk) => {
                self.push_chunked(repo, &mut location, digest, body, chunk)
                    .await
            }
            Upload::Streamed => self.push_streamed(repo, &mut location, digest, body).await,
        };
        if result.is_err() {
            self.cancel_upload(repo, &location).await;
        }
        result
    }

    /// Docker's streamed upload: one `PATCH` carrying the body, then an empty `PUT`. When the
    /// body fails (bytes that did not match), the `PATCH` is ended cleanly instead of broken
    /// off, so the registry answers with the session's new state and the cancel that follows
    /// removes what it received (a registry refuses to cancel a session whose request broke).
    async fn push_streamed(
        &self,
        repo: &str,
        location: &mut String,
        digest: &(dyn Fn() -> Result<Digest, OciError> + Sync),
        body: BlobStream,
    ) -> Result<(), OciError> {
        let failure = Arc::new(Mutex::new(None::<OciError>));
        let slot = failure.clone();
        let body = body.scan((), move |(), item| {
            let next = match item {
                Ok(bytes) => Some(Ok::<Bytes, std::io::Error>(bytes)),
                Err(e) => {
                    if let Ok(mut f) = slot.lock() {
                        *f = Some(e);
                    }
                    None
                }
            };
            std::future::ready(next)
        });
        let mut body = Some(reqwest::Body::wrap_stream(body));
        let url = location.clone();
        let sent = match self
            .send("PATCH blob", repo, &push_scope(repo, None), |c, _| {
                body.take().map(|b| {
                    c.patch(&url)
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .body(b)
                })
            })
            .await
        {
            Ok(resp) => self.expect_success(resp, "PATCH blob", repo).await,
            Err(e) => Err(e),
        };
        if let Ok(resp) = &sent
            && let Some(next) = header(resp.headers(), LOCATION.as_str())
        {
            *location = self.absolute(&next).await?;
        }
        // Why the body stopped explains a failed request better than the request does.
        if let Some(e) = failure.lock().ok().and_then(|mut f| f.take()) {
            return Err(e);
        }
        sent?;
        self.close_upload(repo, location, &digest()?).await
    }

    /// `PATCH` chunks of `chunk` bytes (each retried on its own), then the closing `PUT`.
    /// `location` follows the registry's answers, so a cancel reaches the live session.
    async fn push_chunked(
        &self,
        repo: &str,
        location: &mut String,
        digest: &(dyn Fn() -> Result<Digest, OciError> + Sync),
        mut body: BlobStream,
        chunk: u64,
    ) -> Result<(), OciError> {
        let cap = usize::try_from(chunk).unwrap_or(usize::MAX).min(1 << 30);
        let mut buf = BytesMut::with_capacity(cap);
        let mut offset = 0u64;
        loop {
            let next = body.next().await.transpose()?;
            let end = next.is_none();
            if let Some(bytes) = next {
                buf.extend_from_slice(&bytes);
            }
            while buf.len() >= cap || (end && !buf.is_empty()) {
                let piece: Bytes = buf.split_to(cap.min(buf.len())).freeze();
                let n = piece.len() as u64;
                *location = self.upload_chunk(repo, location, offset, piece).await?;
                offset += n;
            }
            if end {
                break;
            }
        }
        self.close_upload(repo, location, &digest()?).await
    }

    /// The empty `PUT` that completes a session whose bytes were all sent before.
    async fn close_upload(
        &self,
        repo: &str,
        location: &str,
        digest: &Digest,
    ) -> Result<(), OciError> {
        let empty = reqwest::Body::from(Vec::new());
        self.finish_upload(repo, location, digest, 0, empty).await
    }
}

impl Registry {
    /// Whether `repo` holds the blob `desc` names, by the registry's own account of it: a
    /// `HEAD` answered 200 with that `Docker-Content-Digest` and `Content-Length` (an answer
    /// without them, or with others, is "no").
    pub async fn blob_matches(&self, repo: &str, desc: &Descriptor) -> Result<bool, OciError> {
        let url_path = format!("/v2/{repo}/blobs/{}", desc.digest);
        let resp = self
            .send(
                "HEAD blob",
                repo,
                &super::distribution::pull_scope(repo),
                |c, base| Some(c.head(format!("{base}{url_path}"))),
            )
            .await?;
        if !resp.status().is_success() {
            return Ok(false);
        }
        let digest = header(resp.headers(), "docker-content-digest");
        let size = header(resp.headers(), "content-length").and_then(|s| s.parse::<u64>().ok());
        Ok(digest.as_deref() == Some(desc.digest.as_str()) && size == Some(desc.size))
    }
}
