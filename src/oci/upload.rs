//! Sending one blob into an upload session a registry opened: in one streamed `PUT`, or in
//! `PATCH` chunks closed by an empty `PUT`. The body is a verified [`BlobStream`], so a
//! mismatch surfaces before the last bytes go out; any failure cancels the session
//! (`DELETE`), so nothing half-sent stays in the registry's upload area.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::blob::BlobStream;
use super::error::OciError;
use super::manifest::Descriptor;
use super::registry::Registry;

impl Registry {
    /// Sends `body` to the upload session at `location` and completes it; on any failure the
    /// session is cancelled and the first cause returned.
    pub async fn push_blob(
        &self,
        repo: &str,
        location: String,
        desc: &Descriptor,
        body: BlobStream,
    ) -> Result<(), OciError> {
        let mut location = location;
        let result = match self.chunk_size.filter(|&c| desc.size > c) {
            Some(chunk) => {
                self.push_chunked(repo, &mut location, desc, body, chunk)
                    .await
            }
            None => self.push_whole(repo, &location, desc, body).await,
        };
        if result.is_err() {
            self.cancel_upload(repo, &location).await;
        }
        result
    }

    /// One streamed `PUT`. A failure of the body itself (bytes that did not match) is the
    /// error reported, not the broken request it caused.
    async fn push_whole(
        &self,
        repo: &str,
        location: &str,
        desc: &Descriptor,
        body: BlobStream,
    ) -> Result<(), OciError> {
        let failure = Arc::new(Mutex::new(None::<OciError>));
        let slot = failure.clone();
        let body = body.map(move |item| {
            item.map_err(|e| {
                let message = e.to_string();
                if let Ok(mut f) = slot.lock() {
                    *f = Some(e);
                }
                std::io::Error::other(message)
            })
        });
        let sent = self
            .finish_upload(
                repo,
                location,
                &desc.digest,
                desc.size,
                reqwest::Body::wrap_stream(body),
            )
            .await;
        if let Some(e) = failure.lock().ok().and_then(|mut f| f.take()) {
            return Err(e);
        }
        sent
    }

    /// `PATCH` chunks of `chunk` bytes (each retried on its own), then the closing `PUT`.
    /// `location` follows the registry's answers, so a cancel reaches the live session.
    async fn push_chunked(
        &self,
        repo: &str,
        location: &mut String,
        desc: &Descriptor,
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
        self.finish_upload(
            repo,
            location,
            &desc.digest,
            0,
            reqwest::Body::from(Vec::new()),
        )
        .await
    }
}
