//! GitHub releases and their assets over the REST API: get a release by tag, create and update
//! one, list releases and assets (every page, `Link: rel="next"` on the API's origin only),
//! upload and delete assets. Uploads go to the host the release's `upload_url`
//! names (uploads.github.com, or GHES's own), never to an address built here. Every request
//! goes through [`crate::http`] (timeouts, retries on 5xx/429/broken connections); the token
//! is a [`SecretString`] sent only as the `Authorization` header.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::api::ApiError;
use crate::http::{self, Purpose};

/// A release as GitHub describes it (the fields cicd reads).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub prerelease: bool,
    #[serde(default)]
    pub draft: bool,
    pub html_url: String,
    pub upload_url: String,
    #[serde(default)]
    pub assets: Vec<Asset>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Asset {
    pub id: u64,
    pub name: String,
    pub size: u64,
    /// `sha256:<hex>`, which GitHub computes for uploads since 2025; older assets have none.
    #[serde(default)]
    pub digest: Option<String>,
}

/// What cicd asks a release to be.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReleaseFields {
    pub tag_name: String,
    pub name: String,
    pub body: String,
    pub prerelease: bool,
    /// `"true"` or `"false"` (GitHub's strings).
    pub make_latest: String,
}

/// One repository's releases.
pub struct Releases {
    http: http::Client,
    base: String,
    repository: String,
    token: SecretString,
}

impl std::fmt::Debug for Releases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Releases")
            .field("base", &self.base)
            .field("repository", &self.repository)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl Releases {
    /// `api_url` is `GITHUB_API_URL`; `repository` is `owner/repo` (`GITHUB_REPOSITORY`).
    pub fn new(api_url: &str, repository: &str, token: SecretString) -> Result<Self, ApiError> {
        Ok(Self {
            http: http::Client::new(Purpose::Api)?,
            base: api_url.trim_end_matches('/').to_owned(),
            repository: repository.to_owned(),
            token,
        })
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/repos/{}/releases{tail}", self.base, self.repository)
    }

    /// `GET /repos/{owner}/{repo}/releases/tags/{tag}`; `None` when there is none.
    pub async fn by_tag(&self, tag: &str) -> Result<Option<Release>, ApiError> {
        let url = self.url(&format!("/tags/{}", segment(tag)));
        let response = self.http.send(|c| self.authorized(c.get(&url))).await?;
        if response.status().as_u16() == 404 {
            return Ok(None);
        }
        read(response, &url, 200).await.map(Some)
    }

    /// `POST /repos/{owner}/{repo}/releases`.
    pub async fn create(&self, fields: &ReleaseFields) -> Result<Release, ApiError> {
        let url = self.url("");
        let response = self
            .http
            .send(|c| json(self.authorized(c.post(&url)), fields))
            .await?;
        read(response, &url, 201).await
    }

    /// `PATCH /repos/{owner}/{repo}/releases/{id}`.
    pub async fn update(&self, id: u64, fields: &ReleaseFields) -> Result<Release, ApiError> {
        let url = self.url(&format!("/{id}"));
        let response = self
            .http
            .send(|c| json(self.authorized(c.patch(&url)), fields))
            .await?;
        read(response, &url, 200).await
    }

    /// `GET /repos/{owner}/{repo}/releases/{id}/assets`, every page.
    pub async fn assets(&self, id: u64) -> Result<Vec<Asset>, ApiError> {
        self.paged(&self.url(&format!("/{id}/assets"))).await
    }

    /// `GET /repos/{owner}/{repo}/releases`, every page (drafts included).
    pub async fn list(&self) -> Result<Vec<Release>, ApiError> {
        self.paged(&self.url("")).await
    }

    /// `url?per_page=100`, then each `Link: <…>; rel="next"` page GitHub names, which must be
    /// on the API's own origin (the token goes with it); at most [`MAX_PAGES`] pages.
    async fn paged<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        let mut next = Some(format!("{url}?per_page=100"));
        let mut pages = 0;
        while let Some(page) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(ApiError::Body {
                    url: url.to_owned(),
                    reason: format!("more than {MAX_PAGES} pages of 100"),
                });
            }
            let response = self.http.send(|c| self.authorized(c.get(&page))).await?;
            let link = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let items: Vec<T> = read(response, &page, 200).await?;
            out.extend(items);
            next = match link.as_deref().and_then(next_link) {
                Some(n) if n.starts_with(&format!("{}/", self.base)) => Some(n),
                Some(n) => {
                    return Err(ApiError::Body {
                        url: page,
                        reason: format!(
                            "the next page `{n}` is not on {}: not followed",
                            self.base
                        ),
                    });
                }
                None => None,
            };
        }
        Ok(out)
    }

    /// `DELETE /repos/{owner}/{repo}/releases/assets/{id}`.
    pub async fn delete_asset(&self, id: u64) -> Result<(), ApiError> {
        let url = self.url(&format!("/assets/{id}"));
        let response = self.http.send(|c| self.authorized(c.delete(&url))).await?;
        match response.status().as_u16() {
            204 | 404 => Ok(()),
            status => Err(status_error(&url, status, &response)),
        }
    }

    /// `POST {upload_url}?name=NAME` with the bytes, on the host the release names.
    pub async fn upload(
        &self,
        release: &Release,
        name: &str,
        bytes: &[u8],
    ) -> Result<Asset, ApiError> {
        let base = release
            .upload_url
            .split('{')
            .next()
            .unwrap_or_default()
            .to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ApiError::Body {
                url: self.url(&format!("/{}", release.id)),
                reason: format!("upload_url `{}` is not an HTTP URL", release.upload_url),
            });
        }
        let url = format!("{base}?name={}", segment(name));
        let body = bytes::Bytes::copy_from_slice(bytes);
        let response = self
            .http
            .send(|c| {
                self.authorized(c.post(&url))
                    .header("Content-Type", "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        read(response, &base, 201).await
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .bearer_auth(self.token.expose_secret())
    }
}

/// The most pages one listing reads (10 000 entries).
pub const MAX_PAGES: usize = 100;

/// The target of `rel="next"` in a `Link` header (RFC 8288), if any.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_owned())
    })
}

fn json(request: reqwest::RequestBuilder, fields: &ReleaseFields) -> reqwest::RequestBuilder {
    // Serialising these plain strings and booleans cannot fail.
    let body = serde_json::to_vec(fields).unwrap_or_default();
    request
        .header("Content-Type", "application/json")
        .body(body)
}

/// Reads a JSON answer with the expected status; any other status is an error naming it.
async fn read<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    url: &str,
    expected: u16,
) -> Result<T, ApiError> {
    let status = response.status().as_u16();
    if status != expected {
        let err = status_error(url, status, &response);
        // The message GitHub gives (e.g. "Validation Failed") helps; read a little of it.
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                let m = v.get("message")?.as_str()?.to_owned();
                let code = v
                    .pointer("/errors/0/code")
                    .and_then(|c| c.as_str())
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                Some(format!("{m}{code}"))
            });
        return Err(match (err, message) {
            (ApiError::Status { url, status }, Some(reason)) => ApiError::Body {
                url,
                reason: format!("HTTP {status}: {reason}"),
            },
            (err, _) => err,
        });
    }
    let bytes = http::read_capped(response, super::MAX_JSON_BYTES).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Body {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

fn status_error(url: &str, status: u16, response: &reqwest::Response) -> ApiError {
    let exhausted = response
        .headers()
        .get("x-ratelimit-remaining")
        .is_some_and(|v| v.as_bytes() == b"0");
    match status {
        404 => ApiError::NotFound {
            url: url.to_owned(),
        },
        429 => ApiError::RateLimited {
            url: url.to_owned(),
        },
        403 if exhausted => ApiError::RateLimited {
            url: url.to_owned(),
        },
        s => ApiError::Status {
            url: url.to_owned(),
            status: s,
        },
    }
}

/// Percent-encodes one path segment or query value.
fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped_and_the_token_is_not_in_debug() {
        assert_eq!(segment("v1.2.3+b/x y"), "v1.2.3%2Bb%2Fx%20y");
        let r = Releases::new(
            "http://127.0.0.1:9/",
            "o/r",
            SecretString::from("ghs_secret"),
        )
        .expect("client");
        assert!(!format!("{r:?}").contains("ghs_secret"));
        let link = "<http://h/repos/o/r/releases?per_page=100&page=2>; rel=\"next\", <http://h/repos/o/r/releases?per_page=100&page=9>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("http://h/repos/o/r/releases?per_page=100&page=2")
        );
        assert_eq!(next_link("<http://h/x?page=1>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage, <unclosed; rel=next"), None);
        assert_eq!(next_link(""), None);
        assert_eq!(
            r.url("/tags/x"),
            "http://127.0.0.1:9/repos/o/r/releases/tags/x"
        );
    }
}
