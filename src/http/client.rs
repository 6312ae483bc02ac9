//! Building a client for a [`Purpose`] and sending with it: [`send`] is one request that says
//! on stderr when it is slow; [`Client::send`] is the retry loop around it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response, ResponseBuilderExt};

use super::error::{Cause, HttpError, chain};

/// A CA bundle (the system's is ~200 KiB); a larger file is refused, not read on.
const MAX_CA_FILE_BYTES: u64 = 16 << 20;
use super::retry::{Retry, retry_after, retryable_status};
use super::watch::{Clock, Download, Upload};
use super::{Purpose, Timeouts, slow_after};

/// A client for one purpose: its timeouts and retry policy travel with it.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    timeouts: Timeouts,
    retry: Retry,
}

/// Why [`send`] got no response.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// The response headers did not come in time after the request went out.
    #[error("no answer after {}s", .after.as_secs())]
    NoAnswer { url: String, after: Duration },
}

impl SendError {
    /// The request could not even be built (a bad URL or header): nothing was sent.
    pub fn is_builder(&self) -> bool {
        matches!(self, SendError::Http(e) if e.is_builder())
    }

    fn url(&self) -> String {
        match self {
            SendError::Http(e) => e
                .url()
                .map_or_else(|| "-".to_owned(), |u| without_query(u.as_str())),
            SendError::NoAnswer { url, .. } => without_query(url),
        }
    }
}

impl Client {
    /// A client trusting the system's roots (webpki) only.
    pub fn new(purpose: Purpose) -> Result<Self, HttpError> {
        Self::with_ca_files(purpose, &[])
    }

    /// A client trusting the PEM certificates in `ca_files` as well.
    pub fn with_ca_files(purpose: Purpose, ca_files: &[PathBuf]) -> Result<Self, HttpError> {
        // reqwest is built without a default crypto provider; ring keeps OpenSSL and cmake
        // out. Installing twice is harmless (the second call reports the first).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut certs = Vec::new();
        for path in ca_files {
            certs.extend(read_ca_file(path)?);
        }
        let timeouts = purpose.timeouts();
        // No reqwest read timeout: it would count an upload's own time against the wait for
        // headers. [`send`] watches progress instead.
        let mut builder = reqwest::Client::builder()
            .user_agent(purpose.user_agent())
            .connect_timeout(timeouts.connect)
            .tls_certs_merge(certs);
        if let Some(total) = timeouts.request {
            builder = builder.timeout(total);
        }
        let http = builder.build().map_err(|e| HttpError::Setup(chain(&e)))?;
        Ok(Self {
            http,
            timeouts,
            retry: Retry::default(),
        })
    }

    /// The reqwest client underneath, for callers that run their own loop with [`Retry`]
    /// and [`send`] (the registry client).
    pub fn into_reqwest(self) -> reqwest::Client {
        self.http
    }

    pub fn get(&self, url: &str) -> RequestBuilder {
        self.http.get(url)
    }

    pub fn post(&self, url: &str) -> RequestBuilder {
        self.http.post(url)
    }

    pub fn patch(&self, url: &str) -> RequestBuilder {
        self.http.patch(url)
    }

    pub fn delete(&self, url: &str) -> RequestBuilder {
        self.http.delete(url)
    }

    /// Sends the request `make` builds (again for each retry), retrying broken connections,
    /// 5xx, 408 and 429 (honouring `Retry-After`) while attempts and the time budget last.
    /// Returns the first answer not retried, whatever its status: the caller reads it.
    pub async fn send(
        &self,
        make: impl Fn(&Self) -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let result = send_with(make(self), self.timeouts).await;
            let wait = match &result {
                Ok(r) if retryable_status(r.status().as_u16()) => Some(retry_after(r.headers())),
                Ok(_) => None,
                Err(e) if !e.is_builder() && chain(e).failure.is_transient() => Some(None),
                Err(_) => None,
            };
            if let Some(after) = wait {
                let delay = self.retry.delay(attempt, after);
                if attempt + 1 < self.retry.attempts
                    && started.elapsed() + delay < self.timeouts.budget
                {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
            }
            return result.map_err(|e| HttpError::Network {
                url: e.url(),
                cause: chain(&e),
            });
        }
    }
}

/// Why [`collect_capped`] stopped before the end of a body.
#[derive(Debug)]
pub enum Capped {
    /// More than the `max` bytes the caller expected.
    TooLarge,
    /// The body broke off.
    Body(reqwest::Error),
}

/// Reads a whole response body of a kind that is small (JSON, a token, a ref list, a small
/// pack, a manifest, a tag list page), refusing it past `max` bytes even when no
/// `Content-Length` said so: a server that streams without end fails the request instead of
/// filling memory. Callers name the failure in their own error type.
pub async fn collect_capped(response: &mut Response, max: usize) -> Result<Vec<u8>, Capped> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Capped::Body)? {
        if out.len() + chunk.len() > max {
            return Err(Capped::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// [`collect_capped`] with the failure as an [`HttpError`] naming the URL (exit 3).
pub async fn read_capped(mut response: Response, max: usize) -> Result<Vec<u8>, HttpError> {
    let url = without_query(response.url().as_str());
    collect_capped(&mut response, max)
        .await
        .map_err(|e| HttpError::Network {
            // Body errors carry no URL of their own: name the one the answer came from.
            cause: match e {
                Capped::TooLarge => {
                    format!("the answer is larger than the {max} bytes expected").into()
                }
                Capped::Body(e) => chain(&e),
            },
            url,
        })
}

/// A failed request as an [`HttpError`] naming its URL.
pub fn network(e: &reqwest::Error) -> HttpError {
    HttpError::Network {
        url: e
            .url()
            .map_or_else(|| "-".to_owned(), |u| without_query(u.as_str())),
        cause: chain(e),
    }
}

fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

/// Sends one request with `purpose`'s waits, counted from the last byte that moved: the
/// response headers must come within `first_byte` of the request's last byte (connecting has
/// its own `connect` on top), and each piece
/// of the response body within `pause` of the one before. When headers are slow, says so once
/// on stderr, naming the host.
pub async fn send(request: RequestBuilder, purpose: Purpose) -> Result<Response, SendError> {
    send_with(request, purpose.timeouts()).await
}

async fn send_with(request: RequestBuilder, timeouts: Timeouts) -> Result<Response, SendError> {
    let (client, request) = request.build_split();
    let mut request = request?;
    let clock = Clock::new();
    if let Some(body) = request.body_mut().take() {
        let streamed = body.as_bytes().is_none();
        *request.body_mut() = Some(if streamed {
            Upload::wrap(body, clock.clone())
        } else {
            body
        });
    }
    let url = request.url().clone();
    let response = client.execute(request);
    tokio::pin!(response);
    // Connecting has its own limit (reqwest's, which says so); the wait for headers starts
    // after it, so the two never race.
    let limit = timeouts.connect + timeouts.first_byte;
    let slow = slow_after().min(timeouts.first_byte);
    let mut announced = false;
    let response = loop {
        let idle = clock.idle();
        if idle >= limit {
            return Err(SendError::NoAnswer {
                url: url.to_string(),
                after: idle,
            });
        }
        if !announced && idle >= slow {
            announced = true;
            eprintln!("still waiting for {} after {}s", host(&url), idle.as_secs());
        }
        let next = if announced { limit } else { slow };
        tokio::select! {
            done = &mut response => break done?,
            () = tokio::time::sleep(next.saturating_sub(idle)) => {}
        }
    };
    Ok(watch_body(response, timeouts.pause))
}

/// `HOST[:PORT]` of a URL, as users write it.
fn host(url: &reqwest::Url) -> String {
    let name = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_owned(),
    }
}

/// The same response, its body failing with [`super::TimedOut`] when it pauses longer than `pause`.
fn watch_body(response: Response, pause: Duration) -> Response {
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    // The conversion drops the URL; reqwest keeps it in an extension only its builder sets.
    if let Ok(tagged) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(tagged.into_parts().0.extensions);
    }
    Response::from(http::Response::from_parts(
        parts,
        Download::wrap(body, pause),
    ))
}

/// The certificates in one PEM file; a file with none is an error, not a silent no-op.
fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let fail = |message: String| HttpError::CaFile {
        path: path.to_path_buf(),
        message,
    };
    let pem = crate::fs::read_bounded(path, MAX_CA_FILE_BYTES).map_err(|e| fail(e.to_string()))?;
    let found = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| fail(format!("not PEM certificates: {e}")))?;
    if found.is_empty() {
        return Err(fail("no PEM certificate in it".into()));
    }
    Ok(found)
}

impl From<HttpError> for Cause {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Network { cause, .. } | HttpError::Setup(cause) => cause,
            other => Cause::from(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Failure;

    #[tokio::test]
    async fn refused_and_silent_servers_are_told_apart() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let refused_url = format!("http://{}/", closed.local_addr().expect("addr"));
        drop(closed);
        let client = Client::new(Purpose::Git).expect("client");
        let e = client
            .send(|c| c.get(&refused_url))
            .await
            .expect_err("nothing listens");
        let HttpError::Network { url, cause } = &e else {
            panic!("{e}")
        };
        assert_eq!(url, &refused_url);
        assert_eq!(cause.failure, Failure::Refused, "{cause}");

        // Accepts (the kernel does, from the backlog) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", silent.local_addr().expect("addr"));
        let client = plain();
        let quick = Timeouts {
            connect: Duration::from_millis(200),
            first_byte: Duration::from_millis(300),
            ..Purpose::Git.timeouts()
        };
        let e = send_with(client.get(&url), quick)
            .await
            .expect_err("no answer");
        assert_eq!(chain(&e).failure, Failure::Timeout, "{}", chain(&e));
        assert!(matches!(e, SendError::NoAnswer { .. }), "{e}");
    }

    /// A server that reads a whole request (headers, then `Content-Length` bytes), answers
    /// with `head` and then holds the connection open.
    fn answering(head: &'static str) -> String {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = conn.write_all(head.as_bytes());
            std::thread::sleep(Duration::from_secs(5));
        });
        url
    }

    fn plain() -> reqwest::Client {
        Client::new(Purpose::Registry)
            .expect("client")
            .into_reqwest()
    }

    fn quick() -> Timeouts {
        Timeouts {
            connect: Duration::from_millis(200),
            first_byte: Duration::from_millis(400),
            pause: Duration::from_millis(400),
            ..Purpose::Registry.timeouts()
        }
    }

    #[tokio::test]
    async fn an_upload_longer_than_the_wait_for_headers_is_not_cut_off() {
        let url = answering("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        // Six pieces, 150 ms apart: 900 ms of upload against a 400 ms wait for headers.
        let pieces = futures_util::stream::unfold(0, |i| async move {
            if i == 6 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
            Some((
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"0123456789")),
                i + 1,
            ))
        });
        let request = plain()
            .put(&url)
            .header("content-length", "60")
            .body(reqwest::Body::wrap_stream(pieces));
        let response = send_with(request, quick()).await.expect("answered");
        assert_eq!(response.status().as_u16(), 201);
    }

    #[tokio::test]
    async fn a_body_that_stops_is_a_timeout() {
        let url = answering("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        let response = send_with(plain().get(&url), quick())
            .await
            .expect("headers came");
        assert_eq!(
            response.url().as_str(),
            url,
            "the URL survives the body's wrapping"
        );
        let e = response.bytes().await.expect_err("the body stalls");
        let cause = chain(&e);
        assert_eq!(cause.failure, Failure::Timeout, "{cause}");
        assert!(cause.text.contains("nothing arrived"), "{cause}");
    }

    /// A resolver that knows no name, so the DNS failure is real and no network is touched.
    struct NoNames;

    impl reqwest::dns::Resolve for NoNames {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let name = name.as_str().to_owned();
            Box::pin(async move {
                Err(
                    std::io::Error::new(std::io::ErrorKind::NotFound, format!("{name}: unknown"))
                        .into(),
                )
            })
        }
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_dns_and_not_retried() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .dns_resolver(NoNames)
            .build()
            .expect("client");
        let e = send_with(http.get("http://registry.invalid/v2/"), quick())
            .await
            .expect_err("no such name");
        let cause = chain(&e);
        assert_eq!(cause.failure, Failure::Dns, "{cause}");
        assert!(!cause.failure.is_transient());
    }
}
