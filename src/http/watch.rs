//! Watching a request for progress, so that a wait is measured from the last byte that moved:
//! an upload streaming for minutes is not "waiting", and the wait for response headers starts
//! when the last byte of the body went out. A response body that pauses longer than allowed
//! ends in [`TimedOut`], which the error chain reads as a timeout.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// No byte moved for `after`.
#[derive(Debug, thiserror::Error)]
#[error("{what}: nothing arrived for {}s", .after.as_secs())]
pub struct TimedOut {
    pub what: &'static str,
    pub after: Duration,
}

/// When bytes last moved, shared by a request's body and whoever waits for its answer.
#[derive(Clone, Debug)]
pub(super) struct Clock {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Clock {
    pub(super) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(now, Ordering::Relaxed);
    }

    /// How long since bytes last moved.
    pub(super) fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A request body that tells the [`Clock`] each time a piece of it is sent.
pub(super) struct Upload {
    inner: reqwest::Body,
    clock: Clock,
}

impl Upload {
    pub(super) fn wrap(inner: reqwest::Body, clock: Clock) -> reqwest::Body {
        reqwest::Body::wrap(Self { inner, clock })
    }
}

impl Body for Upload {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        this.clock.touch();
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that fails with [`TimedOut`] when no piece arrives for `pause`.
pub(super) struct Download {
    inner: reqwest::Body,
    pause: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Download {
    pub(super) fn wrap(inner: reqwest::Body, pause: Duration) -> reqwest::Body {
        reqwest::Body::wrap(Self {
            inner,
            pause,
            timer: None,
        })
    }
}

impl Body for Download {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.timer = None;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let pause = this.pause;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(TimedOut {
            what: "the response body",
            after: pause,
        }))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
