//! A layer's bytes on their way out while they are still being compressed: the compressing
//! thread writes into a [`Sender`] (a `std::io::Write`), the store reads the other end as a
//! `BlobStream`. Only [`Sender::finish`] ends the stream cleanly; a sender dropped before
//! (a failed or panicked build) ends it with an error, so the store never commits a layer
//! cut short.

use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use futures_util::stream;

use crate::oci::blob::BlobStream;
use crate::oci::error::OciError;

/// Bytes sent on in pieces of this size (the store writes and uploads them as they come).
const PIECE: usize = 1 << 20;
/// Pieces buffered between the compressor and the store.
const DEPTH: usize = 8;

pub struct Sender {
    tx: Option<tokio::sync::mpsc::Sender<Result<Bytes, OciError>>>,
    buf: BytesMut,
    finished: bool,
}

/// A connected pair: write the layer into the first, hand the second to the store.
pub fn channel() -> (Sender, BlobStream) {
    let (tx, rx) = tokio::sync::mpsc::channel(DEPTH);
    let body = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (
        Sender {
            tx: Some(tx),
            buf: BytesMut::with_capacity(PIECE),
            finished: false,
        },
        Box::pin(body),
    )
}

impl Sender {
    fn send(&mut self, item: Result<Bytes, OciError>) -> io::Result<()> {
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        tx.blocking_send(item).map_err(|_| closed())
    }

    fn send_buffered(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = self.buf.split().freeze();
        self.buf.reserve(PIECE);
        self.send(Ok(piece))
    }

    /// Sends what is buffered and ends the stream cleanly: the layer is complete.
    pub fn finish(mut self) -> io::Result<()> {
        self.send_buffered()?;
        self.finished = true;
        self.tx = None;
        Ok(())
    }
}

/// The store stopped reading (its upload failed): its own error says why.
fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the destination stopped taking the layer",
    )
}

/// Whether `e` only says the store stopped reading (so the store's error is the one to report).
pub fn is_closed(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

impl Write for Sender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send_buffered()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if !self.finished
            && let Some(tx) = self.tx.take()
        {
            // Best effort: if the store already stopped reading, it commits nothing anyway.
            let _ = tx.blocking_send(Err(OciError::Unsupported(
                "the layer build stopped before the layer was complete".into(),
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    #[test]
    fn only_a_finished_sender_ends_the_stream_cleanly() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let (mut tx, body) = channel();
        let writer = std::thread::spawn(move || {
            tx.write_all(&vec![7u8; PIECE + 10]).expect("write");
            tx.finish().expect("finish");
        });
        let all: Vec<Bytes> = rt.block_on(body.try_collect()).expect("clean end");
        writer.join().expect("join");
        assert_eq!(all.concat(), vec![7u8; PIECE + 10]);

        let (mut tx, body) = channel();
        let writer = std::thread::spawn(move || {
            tx.write_all(b"partial").expect("write");
            drop(tx);
        });
        let got = rt.block_on(body.try_collect::<Vec<Bytes>>());
        writer.join().expect("join");
        assert!(
            got.is_err(),
            "a dropped sender must end the stream with an error"
        );

        let (mut tx, body) = channel();
        drop(body);
        let e = tx.write_all(&vec![0u8; PIECE]).expect_err("nobody reads");
        assert!(is_closed(&e));
    }
}
