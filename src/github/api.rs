//! GitHub's REST API, for what Git cannot answer. Today that is one question — is a commit
//! an ancestor of a branch or tag (`GET /repos/{owner}/{repo}/compare/{base}...{head}`) — so
//! this is a thin typed client on the HTTP stack rather than octocrab's whole surface.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::http::{self, HttpError, Purpose};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{url}: not found")]
    NotFound { url: String },
    #[error("{url}: API rate limit exhausted; set GITHUB_TOKEN or wait")]
    RateLimited { url: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: unexpected answer: {reason}")]
    Body { url: String, reason: String },
    #[error(transparent)]
    Network(#[from] HttpError),
}

/// How `head` relates to `base` (the compare API's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    Ahead,
    Behind,
    Identical,
    Diverged,
}

#[derive(Deserialize)]
struct CompareBody {
    status: Comparison,
}

#[derive(Clone)]
pub struct ApiClient {
    http: http::Client,
    base: String,
    token: Option<SecretString>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl ApiClient {
    /// `api_url` is `GITHUB_API_URL` (`https://api.github.com`, or GHES's `/api/v3`).
    pub fn new(api_url: &str, token: Option<SecretString>) -> Result<Self, HttpError> {
        Ok(Self {
            http: http::Client::new(Purpose::Api)?,
            base: api_url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
    pub async fn compare(
        &self,
        owner: &str,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Comparison, ApiError> {
        let url = format!(
            "{}/repos/{owner}/{repo}/compare/{}...{}",
            self.base,
            escape(base),
            escape(head)
        );
        // One commit per page: only `status` is read, not the commit list.
        let page = format!("{url}?per_page=1");
        let response = self.http.send(|c| self.get(c, &page)).await?;
        let status = response.status().as_u16();
        let exhausted = response
            .headers()
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v.as_bytes() == b"0");
        match status {
            200 => {
                let bytes = http::read_capped(response, super::MAX_JSON_BYTES).await?;
                let body: CompareBody =
                    serde_json::from_slice(&bytes).map_err(|e| ApiError::Body {
                        url,
                        reason: e.to_string(),
                    })?;
                Ok(body.status)
            }
            404 | 422 => Err(ApiError::NotFound { url }),
            403 | 429 if exhausted || status == 429 => Err(ApiError::RateLimited { url }),
            s => Err(ApiError::Status { url, status: s }),
        }
    }
}

impl ApiClient {
    /// A `GET` with GitHub's media type, API version and the token when there is one.
    fn get(&self, client: &http::Client, url: &str) -> reqwest::RequestBuilder {
        let request = client
            .get(url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        match &self.token {
            Some(token) => request.bearer_auth(token.expose_secret()),
            None => request,
        }
    }
}

/// Percent-encodes a ref for a path segment (`/` in branch names included).
fn escape(r: &str) -> String {
    let mut out = String::new();
    for b in r.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
