//! Building a client for a [`Purpose`] and sending with it: [`send`] is one request that says
//! on stderr when it is slow; [`Client::send`] is the retry loop around it.

use std::path::PathBuf;
use std::time::Instant;

use reqwest::{RequestBuilder, Response};

use super::error::{Cause, HttpError, chain};
use super::retry::{Retry, retry_after, retryable_status};
use super::{Purpose, Timeouts, slow_after};

/// A client for one purpose: its timeouts and retry policy travel with it.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    timeouts: Timeouts,
    retry: Retry,
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
        let mut builder = reqwest::Client::builder()
            .user_agent(purpose.user_agent())
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.first_byte)
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
            let result = send(make(self)).await;
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
            return result.map_err(|e| network(&e));
        }
    }
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

/// Sends one request; when it has had no answer after a few seconds, says so once on
/// stderr, naming the host, and keeps waiting (the client's timeouts end the wait).
pub async fn send(request: RequestBuilder) -> Result<Response, reqwest::Error> {
    let (client, request) = request.build_split();
    let request = request?;
    let host = request
        .url()
        .host_str()
        .map(|h| match request.url().port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_owned(),
        })
        .unwrap_or_default();
    let response = client.execute(request);
    tokio::pin!(response);
    let slow = slow_after();
    tokio::select! {
        done = &mut response => return done,
        () = tokio::time::sleep(slow) => {}
    }
    eprintln!(
        "still waiting for {host} after {}s",
        slow.as_secs_f64().round()
    );
    response.await
}

/// The certificates in one PEM file; a file with none is an error, not a silent no-op.
fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let fail = |message: String| HttpError::CaFile {
        path: path.to_path_buf(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
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
        let quick = reqwest::Client::builder()
            .read_timeout(std::time::Duration::from_millis(300))
            .build()
            .expect("client");
        let e = send(quick.get(&url)).await.expect_err("no answer");
        assert_eq!(chain(&e).failure, Failure::Timeout, "{}", chain(&e));
    }
}
