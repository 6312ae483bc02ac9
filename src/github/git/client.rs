//! Asks a Git server for a repository's refs over smart HTTP: one protocol-v2 `ls-refs`
//! POST (filtered to tags and branches), falling back to the v0 advertisement when the server
//! does not speak v2. Retries transient failures.

use std::time::Duration;

use std::collections::HashMap;

use super::pack::{self, PackError};
use super::refs::{self, RefMap, RefsError};

/// Why the refs of a repository could not be had.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{url}: repository not found (check the owner/repo name, or that it is public)")]
    NotFound { url: String },
    #[error("{url}: server answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {reason}")]
    Network { url: String, reason: String },
    #[error("{url}: {source}")]
    Protocol {
        url: String,
        #[source]
        source: RefsError,
    },
    #[error("{url}: {source}")]
    Pack {
        url: String,
        #[source]
        source: PackError,
    },
}

const ATTEMPTS: u32 = 3;

/// A host name that does not resolve: no retry will change that.
fn unresolvable(e: &reqwest::Error) -> bool {
    let text = cause(e);
    text.contains("dns error") || text.contains("failed to lookup address")
}

/// An error with its causes: reqwest's own message only says a request failed; hyper and
/// rustls say why.
fn cause(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = err.source();
    }
    out
}

/// A smart-HTTP client for one Git server (`GITHUB_SERVER_URL`).
#[derive(Clone, Debug)]
pub struct GitClient {
    http: reqwest::Client,
    base: String,
}

impl GitClient {
    pub fn new(server_url: &str) -> Result<Self, reqwest::Error> {
        // reqwest is built without a default crypto provider; ring is the one linked in.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("git/2.0 (cicd/", env!("CARGO_PKG_VERSION"), ")"))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            base: server_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The repository's tags (peeled) and branches.
    pub async fn refs(&self, owner: &str, repo: &str) -> Result<RefMap, GitError> {
        let repo_url = format!("{}/{owner}/{repo}.git", self.base);
        let url = format!("{repo_url}/git-upload-pack");
        let body = refs::ls_refs_request(concat!("cicd/", env!("CARGO_PKG_VERSION")));
        let attempt = self.send(&url, || self.upload_pack(&url, &body)).await;
        match attempt {
            Err(e @ (GitError::NotFound { .. } | GitError::Network { .. })) => return Err(e),
            Ok(response)
                if response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes() == b"application/x-git-upload-pack-result") =>
            {
                let bytes = response.bytes().await.map_err(|e| GitError::Network {
                    url: url.clone(),
                    reason: cause(&e),
                })?;
                return refs::parse_ls_refs(&bytes)
                    .map_err(|source| GitError::Protocol { url, source });
            }
            _ => {}
        }
        // A server without protocol v2 (or one that wants the advertisement first).
        let url = format!("{repo_url}/info/refs?service=git-upload-pack");
        let response = self.send(&url, || self.http.get(&url)).await?;
        let bytes = response.bytes().await.map_err(|e| GitError::Network {
            url: url.clone(),
            reason: cause(&e),
        })?;
        refs::parse_advertisement(&bytes).map_err(|source| GitError::Protocol { url, source })
    }

    /// Committer times (Unix seconds) of `commits`, in one `fetch` round trip (a second one
    /// without the tree filter when the server does not allow filters).
    pub async fn commit_times(
        &self,
        owner: &str,
        repo: &str,
        commits: &[String],
    ) -> Result<HashMap<String, i64>, GitError> {
        if commits.is_empty() {
            return Ok(HashMap::new());
        }
        let url = format!("{}/{owner}/{repo}.git/git-upload-pack", self.base);
        let agent = concat!("cicd/", env!("CARGO_PKG_VERSION"));
        let mut last = None;
        for filter in [true, false] {
            let body = pack::fetch_request(agent, commits, filter);
            let response = self.send(&url, || self.upload_pack(&url, &body)).await?;
            let bytes = response.bytes().await.map_err(|e| GitError::Network {
                url: url.clone(),
                reason: cause(&e),
            })?;
            match pack::packfile(&bytes).and_then(|p| pack::commit_times(&p)) {
                Ok(times) => return Ok(times),
                Err(source) => last = Some(source),
            }
        }
        Err(GitError::Pack {
            url,
            source: last.unwrap_or(PackError::Pack("no answer")),
        })
    }

    /// A protocol-v2 request to `git-upload-pack`.
    fn upload_pack(&self, url: &str, body: &[u8]) -> reqwest::RequestBuilder {
        self.http
            .post(url)
            .header("Git-Protocol", "version=2")
            .header("Content-Type", "application/x-git-upload-pack-request")
            .header("Accept", "application/x-git-upload-pack-result")
            .body(body.to_vec())
    }

    /// Sends with retries on connection errors, 5xx and 429; maps 401/403/404 to not found
    /// (GitHub answers 401 for repositories that do not exist or are private).
    async fn send(
        &self,
        url: &str,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GitError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = request().send().await;
            let retry = match &result {
                Ok(r) => r.status().is_server_error() || r.status().as_u16() == 429,
                Err(e) => (e.is_connect() || e.is_timeout() || e.is_request()) && !unresolvable(e),
            };
            if retry && attempt < ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                continue;
            }
            let response = result.map_err(|e| GitError::Network {
                url: url.to_owned(),
                reason: cause(&e),
            })?;
            let status = response.status().as_u16();
            return match status {
                401 | 403 | 404 => Err(GitError::NotFound {
                    url: url.to_owned(),
                }),
                s if s >= 400 => Err(GitError::Status {
                    url: url.to_owned(),
                    status: s,
                }),
                _ => Ok(response),
            };
        }
    }
}
