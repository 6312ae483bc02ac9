//! Asks a Git server for a repository's refs over smart HTTP: one protocol-v2 `ls-refs`
//! POST (filtered to tags and branches), falling back to the v0 advertisement when the server
//! does not speak v2. Retries transient failures through the HTTP stack's one loop.

use std::collections::HashMap;

use crate::http::{self, HttpError, Purpose};

use super::pack::{self, PackError};
use super::refs::{self, RefMap, RefsError};

/// A ref advertisement (the largest public repositories list a few MiB of refs).
const MAX_REFS_BYTES: usize = 64 << 20;
/// A pack of commits only (`tree:0`), or whole when the server refuses filters.
const MAX_PACK_BYTES: usize = 256 << 20;

/// Why the refs of a repository could not be had.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{url}: repository not found (check the owner/repo name, or that it is public)")]
    NotFound { url: String },
    #[error("{url}: server answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error(transparent)]
    Network(#[from] HttpError),
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

/// A smart-HTTP client for one Git server (`GITHUB_SERVER_URL`).
#[derive(Clone, Debug)]
pub struct GitClient {
    http: http::Client,
    base: String,
}

impl GitClient {
    pub fn new(server_url: &str) -> Result<Self, HttpError> {
        let http = http::Client::new(Purpose::Git)?;
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
        let attempt = self.send(&url, |c| upload_pack(c, &url, &body)).await;
        match attempt {
            Err(e @ (GitError::NotFound { .. } | GitError::Network(_))) => return Err(e),
            Ok(response)
                if response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes() == b"application/x-git-upload-pack-result") =>
            {
                let bytes = http::read_capped(response, MAX_REFS_BYTES).await?;
                return refs::parse_ls_refs(&bytes)
                    .map_err(|source| GitError::Protocol { url, source });
            }
            _ => {}
        }
        // A server without protocol v2 (or one that wants the advertisement first).
        let url = format!("{repo_url}/info/refs?service=git-upload-pack");
        let response = self.send(&url, |c| c.get(&url)).await?;
        let bytes = http::read_capped(response, MAX_REFS_BYTES).await?;
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
            let response = self.send(&url, |c| upload_pack(c, &url, &body)).await?;
            let bytes = http::read_capped(response, MAX_PACK_BYTES).await?;
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

    /// Sends through the HTTP stack's retry loop; maps 401/403/404 to not found (GitHub
    /// answers 401 for repositories that do not exist or are private).
    async fn send(
        &self,
        url: &str,
        request: impl Fn(&http::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GitError> {
        let response = self.http.send(request).await?;
        match response.status().as_u16() {
            401 | 403 | 404 => Err(GitError::NotFound {
                url: url.to_owned(),
            }),
            s if s >= 400 => Err(GitError::Status {
                url: url.to_owned(),
                status: s,
            }),
            _ => Ok(response),
        }
    }
}

/// A protocol-v2 request to `git-upload-pack`.
fn upload_pack(client: &http::Client, url: &str, body: &[u8]) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("Git-Protocol", "version=2")
        .header("Content-Type", "application/x-git-upload-pack-request")
        .header("Accept", "application/x-git-upload-pack-result")
        .body(body.to_vec())
}
