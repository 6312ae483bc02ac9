//! Blob bytes in flight: a [`BlobStream`] that is hashed as it passes and holds back its last
//! chunk until the digest checked out, so whoever receives it (a registry upload, a layout
//! file) never gets the whole of a wrong blob — a mismatch ends the stream with an error
//! before the upload or the file can complete.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use super::digest::{Digest, Hasher, Mismatch, Verifier};
use super::error::OciError;

/// Blob bytes, in order; an error ends the stream.
pub type BlobStream = BoxStream<'static, Result<Bytes, OciError>>;

/// Builds the error for bytes that did not match (it knows where they came from).
pub type OnMismatch = Box<dyn Fn(Mismatch) -> OciError + Send + Sync>;

struct State {
    inner: BlobStream,
    verifier: Option<Verifier>,
    pending: Option<Bytes>,
    size: u64,
    on_mismatch: OnMismatch,
}

/// `inner` checked against `digest` and `size`: every chunk but the last is passed on as it
/// arrives; the last only when the whole hashed right, else the stream ends with the error
/// `on_mismatch` makes.
pub fn verified(
    inner: BlobStream,
    digest: &Digest,
    size: u64,
    on_mismatch: OnMismatch,
) -> BlobStream {
    let state = State {
        inner,
        verifier: Some(Verifier::new(digest)),
        pending: None,
        size,
        on_mismatch,
    };
    Box::pin(stream::unfold(state, |mut s| async move {
        loop {
            let v = s.verifier.as_mut()?;
            match s.inner.next().await {
                Some(Ok(bytes)) if bytes.is_empty() => {}
                Some(Ok(bytes)) => {
                    v.update(&bytes);
                    if let Some(previous) = s.pending.replace(bytes) {
                        return Some((Ok(previous), s));
                    }
                }
                Some(Err(e)) => {
                    s.verifier = None;
                    return Some((Err(e), s));
                }
                None => {
                    let v = s.verifier.take()?;
                    return match v.check(Some(s.size)) {
                        Ok(()) => s.pending.take().map(|last| (Ok(last), s)),
                        Err(m) => {
                            let e = (s.on_mismatch)(m);
                            Some((Err(e), s))
                        }
                    };
                }
            }
        }
    }))
}

/// What a [`hashed`] stream's bytes hashed to; set only when the stream ended cleanly (an
/// error or a stream dropped before its end leaves it empty, so nothing is committed).
pub type Seen = std::sync::Arc<std::sync::Mutex<Option<(Digest, u64)>>>;

/// `inner` passed on unchanged, hashed as it goes, for a blob whose digest is learned from
/// its bytes (see `Store::put_hashed_blob`).
pub fn hashed(inner: BlobStream) -> (BlobStream, Seen) {
    let seen = Seen::default();
    let slot = seen.clone();
    let stream = stream::unfold(
        (inner, Some(Hasher::default()), slot),
        |(mut inner, mut hasher, slot)| async move {
            let h = hasher.as_mut()?;
            match inner.next().await {
                Some(Ok(bytes)) => {
                    h.update(&bytes);
                    Some((Ok(bytes), (inner, hasher, slot)))
                }
                Some(Err(e)) => Some((Err(e), (inner, None, slot))),
                None => {
                    let done = hasher.take().map(Hasher::finish);
                    if let Ok(mut s) = slot.lock() {
                        *s = done;
                    }
                    None
                }
            }
        },
    );
    (Box::pin(stream), seen)
}

/// A stream over bytes already in memory (checked like any other).
pub fn from_bytes(bytes: Bytes) -> BlobStream {
    Box::pin(stream::iter([Ok(bytes)]))
}

/// Reads a local file in 1 MiB chunks; `path` names it in errors.
pub fn from_file(file: std::fs::File, path: std::path::PathBuf) -> BlobStream {
    Box::pin(stream::unfold(Some(file), move |file| {
        let path = path.clone();
        async move {
            use std::io::Read;
            let mut file = file?;
            let mut buf = vec![0u8; 1 << 20];
            match file.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(OciError::Io { path, source: e }), None)),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    fn chunks(parts: &[&'static [u8]]) -> BlobStream {
        Box::pin(stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        ))
    }

    fn mismatch() -> OnMismatch {
        Box::new(|Mismatch(actual)| OciError::Manifest(format!("bad: {actual}")))
    }

    #[tokio::test]
    async fn passes_good_bytes_and_holds_back_the_end_of_bad_ones() {
        let d = Digest::of(b"hello world");
        let good = verified(chunks(&[b"hello", b" ", b"world"]), &d, 11, mismatch());
        let all: Vec<Bytes> = good.try_collect().await.expect("verified");
        assert_eq!(all.concat(), b"hello world");

        let mut bad = verified(chunks(&[b"hello", b" ", b"WORLD"]), &d, 11, mismatch());
        let mut seen = Vec::new();
        let mut failed = false;
        while let Some(item) = bad.next().await {
            match item {
                Ok(b) => seen.extend_from_slice(&b),
                Err(_) => failed = true,
            }
        }
        assert!(failed);
        // The receiver never held all 11 bytes.
        assert_eq!(seen, b"hello ");

        let short = verified(chunks(&[b"hello"]), &d, 11, mismatch());
        assert!(short.try_collect::<Vec<_>>().await.is_err());
    }

    #[tokio::test]
    async fn hashed_streams_say_what_they_carried_only_when_whole() {
        let (s, seen) = hashed(chunks(&[b"hello", b" ", b"world"]));
        let all: Vec<Bytes> = s.try_collect().await.expect("hashed");
        assert_eq!(all.concat(), b"hello world");
        let got = seen.lock().expect("lock").clone();
        assert_eq!(got, Some((Digest::of(b"hello world"), 11)));

        let broken: BlobStream = Box::pin(stream::iter(vec![
            Ok(Bytes::from_static(b"hello")),
            Err(OciError::Manifest("stopped".into())),
        ]));
        let (s, seen) = hashed(broken);
        assert!(s.try_collect::<Vec<_>>().await.is_err());
        assert!(seen.lock().expect("lock").is_none());
    }
}
