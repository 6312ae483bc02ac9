//! The distribution API endpoints on a [`Registry`]: manifests (digest-checked against the
//! request and `Docker-Content-Digest`), blobs, uploads (mount, chunks, the closing `PUT`)
//! and referrers. Auth, retries and scheme discovery live in `registry.rs`.

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};

use super::digest::{Digest, sha256};
use super::error::OciError;
use super::manifest::ACCEPT as MANIFEST_ACCEPT;
use super::registry::{Registry, header};
use crate::http::Capped;

/// Manifests larger than this are refused (the distribution spec suggests 4 MiB).
const MANIFEST_MAX: usize = 4 << 20;

/// Tries for content that arrived but did not match its digest: enough to ride out a
/// truncated body, few enough that a registry serving bad bytes is refused quickly.
pub const MISMATCH_ATTEMPTS: u32 = 3;

impl Registry {
    /// Whether the credential is accepted: `GET /v2/` through the full auth flow.
    pub async fn check_login(&self) -> Result<(), OciError> {
        let resp = self
            .send("GET /v2/", "", &[], |c, base| {
                Some(c.get(format!("{base}/v2/")))
            })
            .await?;
        self.expect_success(resp, "GET /v2/", "/").await.map(drop)
    }

    /// `GET` a manifest by tag or digest; returns (bytes, media type, digest), refusing bytes
    /// that do not hash to the requested digest or to `Docker-Content-Digest`.
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(Vec<u8>, String, Digest)>, OciError> {
        // A body cut short or damaged on the way is fetched again, a few times.
        let mut attempt = 0;
        loop {
            match self.get_manifest_once(repo, reference).await {
                Err(e @ (OciError::Network { .. } | OciError::DigestMismatch { .. }))
                    if attempt + 1 < MISMATCH_ATTEMPTS.min(self.retry.attempts)
                        && !e.is_permanent_network() =>
                {
                    tokio::time::sleep(self.retry.delay(attempt, None)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn get_manifest_once(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(Vec<u8>, String, Digest)>, OciError> {
        let url_path = format!("/v2/{repo}/manifests/{reference}");
        let resp = self
            .send("GET manifest", repo, &pull_scope(repo), |c, base| {
                Some(
                    c.get(format!("{base}{url_path}"))
                        .header(ACCEPT, MANIFEST_ACCEPT),
                )
            })
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = self.expect_success(resp, "GET manifest", repo).await?;
        let content_type = header(resp.headers(), CONTENT_TYPE.as_str()).unwrap_or_default();
        let claimed = header(resp.headers(), "docker-content-digest");
        if resp
            .content_length()
            .is_some_and(|n| n as usize > MANIFEST_MAX)
        {
            return Err(OciError::Manifest(format!(
                "{repo}:{reference} is larger than 4 MiB"
            )));
        }
        let bytes = self
            .read_capped(resp, "reading a manifest", &format!("{repo}:{reference}"))
            .await?;
        let actual = Digest::of(&bytes);
        let expected = if reference.contains(':') {
            Some(reference.to_owned())
        } else {
            claimed.filter(|c| c.starts_with("sha256:"))
        };
        if let Some(expected) = expected
            && actual != expected.as_str()
        {
            return Err(OciError::DigestMismatch {
                what: format!("manifest {repo}:{reference}"),
                place: self.host.clone(),
                expected,
                actual: actual.to_string(),
            });
        }
        let content_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        Ok(Some((bytes, content_type, actual)))
    }

    /// Whether a manifest exists (by tag or digest).
    pub async fn has_manifest(&self, repo: &str, reference: &str) -> Result<bool, OciError> {
        let url_path = format!("/v2/{repo}/manifests/{reference}");
        let resp = self
            .send("HEAD manifest", repo, &pull_scope(repo), |c, base| {
                Some(
                    c.head(format!("{base}{url_path}"))
                        .header(ACCEPT, MANIFEST_ACCEPT),
                )
            })
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            _ => Err(self
                .expect_success(resp, "HEAD manifest", repo)
                .await
                .err()
                .unwrap_or_else(|| OciError::Http {
                    registry: self.host.clone(),
                    action: "HEAD manifest".into(),
                    status: 0,
                    message: String::new(),
                })),
        }
    }

    /// `PUT` a manifest under a tag or its digest; checks the digest the registry computed.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<(), OciError> {
        let url_path = format!("/v2/{repo}/manifests/{reference}");
        let body = bytes::Bytes::copy_from_slice(bytes);
        let resp = self
            .send("PUT manifest", repo, &push_scope(repo, None), |c, base| {
                Some(
                    c.put(format!("{base}{url_path}"))
                        .header(CONTENT_TYPE, media_type)
                        .body(body.clone()),
                )
            })
            .await?;
        let resp = self.expect_success(resp, "PUT manifest", repo).await?;
        let ours = sha256(bytes);
        if let Some(theirs) = header(resp.headers(), "docker-content-digest")
            && theirs != ours
        {
            return Err(OciError::DigestMismatch {
                what: format!("manifest pushed to {repo}:{reference}"),
                place: self.host.clone(),
                expected: ours,
                actual: theirs,
            });
        }
        Ok(())
    }

    pub async fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool, OciError> {
        let url_path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self
            .send("HEAD blob", repo, &pull_scope(repo), |c, base| {
                Some(c.head(format!("{base}{url_path}")))
            })
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            s => Err(OciError::Http {
                registry: self.host.clone(),
                action: format!("HEAD blob {digest} in {repo}"),
                status: s.as_u16(),
                message: "unexpected answer".into(),
            }),
        }
    }

    /// `GET` a blob; the caller streams and verifies the body.
    pub async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<Response, OciError> {
        self.get_blob_from(repo, digest, 0).await
    }

    /// `GET` a blob from byte `offset` on (`Range`), to resume a broken download. A registry
    /// may ignore the range and answer 200 with the whole blob; the caller checks for 206.
    pub async fn get_blob_from(
        &self,
        repo: &str,
        digest: &Digest,
        offset: u64,
    ) -> Result<Response, OciError> {
        let url_path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self
            .send("GET blob", repo, &pull_scope(repo), |c, base| {
                let req = c.get(format!("{base}{url_path}"));
                Some(if offset > 0 {
                    req.header("range", format!("bytes={offset}-"))
                } else {
                    req
                })
            })
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(OciError::NotFound {
                what: format!("blob {digest}"),
                place: format!("{}/{repo}", self.host),
            });
        }
        self.expect_success(resp, "GET blob", repo).await
    }

    /// Starts an upload, asking first to mount `digest` from `from` (same registry). Returns
    /// `None` when the mount succeeded, else the upload URL.
    pub async fn start_upload(
        &self,
        repo: &str,
        mount: Option<(&Digest, &str)>,
    ) -> Result<Option<String>, OciError> {
        let mut url_path = format!("/v2/{repo}/blobs/uploads/");
        if let Some((digest, from)) = mount {
            url_path.push_str(&format!("?mount={digest}&from={from}"));
        }
        let scopes = push_scope(repo, mount.map(|(_, from)| from));
        let resp = self
            .send("POST upload", repo, &scopes, |c, base| {
                Some(
                    c.post(format!("{base}{url_path}"))
                        .header("content-length", "0"),
                )
            })
            .await?;
        if resp.status() == StatusCode::CREATED && mount.is_some() {
            return Ok(None);
        }
        let resp = self.expect_success(resp, "POST upload", repo).await?;
        let location = header(resp.headers(), LOCATION.as_str()).ok_or_else(|| OciError::Http {
            registry: self.host.clone(),
            action: format!("POST upload to {repo}"),
            status: resp.status().as_u16(),
            message: "no Location header".into(),
        })?;
        Ok(Some(self.absolute(&location).await?))
    }

    /// Sends one chunk of an upload (`PATCH` with `Content-Range`), returning the next upload
    /// URL. Retried like any request: the chunk is in memory.
    pub async fn upload_chunk(
        &self,
        repo: &str,
        location: &str,
        offset: u64,
        chunk: bytes::Bytes,
    ) -> Result<String, OciError> {
        let end = offset + chunk.len() as u64 - 1;
        let resp = self
            .send("PATCH blob chunk", repo, &push_scope(repo, None), |c, _| {
                Some(
                    c.patch(location)
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .header("content-range", format!("{offset}-{end}"))
                        .header("content-length", chunk.len().to_string())
                        .body(chunk.clone()),
                )
            })
            .await?;
        if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(OciError::Http {
                registry: self.host.clone(),
                action: format!("PATCH blob chunk at {offset} for {repo}"),
                status: 416,
                message: "the registry lost track of the upload".into(),
            });
        }
        let resp = self.expect_success(resp, "PATCH blob chunk", repo).await?;
        match header(resp.headers(), LOCATION.as_str()) {
            Some(next) => self.absolute(&next).await,
            None => Ok(location.to_owned()),
        }
    }

    /// Completes an upload with the whole blob in one `PUT`.
    pub async fn finish_upload(
        &self,
        repo: &str,
        location: &str,
        digest: &Digest,
        size: u64,
        body: reqwest::Body,
    ) -> Result<(), OciError> {
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let mut body = Some(body);
        let resp = self
            .send("PUT blob", repo, &push_scope(repo, None), |c, _| {
                body.take().map(|b| {
                    c.put(&url)
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .header("content-length", size.to_string())
                        .body(b)
                })
            })
            .await?;
        let resp = self.expect_success(resp, "PUT blob", repo).await?;
        if let Some(theirs) = header(resp.headers(), "docker-content-digest")
            && digest != theirs.as_str()
        {
            return Err(OciError::DigestMismatch {
                what: format!("blob pushed to {repo}"),
                place: self.host.clone(),
                expected: digest.to_string(),
                actual: theirs,
            });
        }
        Ok(())
    }

    /// Cancels an upload session (`DELETE`), so a refused blob leaves nothing behind. Best
    /// effort: the failure that led here is what gets reported.
    pub async fn cancel_upload(&self, repo: &str, location: &str) {
        let _ = self
            .send("DELETE upload", repo, &push_scope(repo, None), |c, _| {
                Some(c.delete(location))
            })
            .await;
    }

    /// The referrers API (OCI 1.1): `Some(index bytes)`, or `None` where the registry has none.
    pub async fn referrers(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> Result<Option<Vec<u8>>, OciError> {
        if self.lacks_referrers(repo, None) {
            return Ok(None);
        }
        let url_path = format!("/v2/{repo}/referrers/{digest}");
        let resp = self
            .send("GET referrers", repo, &pull_scope(repo), |c, base| {
                Some(
                    c.get(format!("{base}{url_path}"))
                        .header(ACCEPT, super::manifest::OCI_INDEX),
                )
            })
            .await?;
        let is_index = header(resp.headers(), CONTENT_TYPE.as_str())
            .is_some_and(|t| t.starts_with(super::manifest::OCI_INDEX));
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            self.lacks_referrers(repo, Some(true));
        }
        if !resp.status().is_success() || !is_index {
            return Ok(None);
        }
        let bytes = self
            .read_capped(
                resp,
                "reading referrers",
                &format!("{repo} referrers of {digest}"),
            )
            .await?;
        Ok(Some(bytes))
    }

    /// Whether `repo` is known to have no referrers API; `learned` records that it has none.
    fn lacks_referrers(&self, repo: &str, learned: Option<bool>) -> bool {
        let Ok(mut known) = self.no_referrers_api.lock() else {
            return false; // A poisoned set only costs the request it would have saved.
        };
        if learned.is_some() {
            known.insert(repo.to_owned());
        }
        known.contains(repo)
    }

    /// A manifest-sized body, refused past 4 MiB even when no `Content-Length` said so.
    async fn read_capped(
        &self,
        mut resp: Response,
        action: &str,
        what: &str,
    ) -> Result<Vec<u8>, OciError> {
        crate::http::collect_capped(&mut resp, MANIFEST_MAX)
            .await
            .map_err(|e| match e {
                Capped::TooLarge => OciError::Manifest(format!("{what} is larger than 4 MiB")),
                Capped::Body(e) => self.network(action, &e),
            })
    }

    pub(super) async fn absolute(&self, location: &str) -> Result<String, OciError> {
        if location.starts_with("http://") || location.starts_with("https://") {
            Ok(location.to_owned())
        } else {
            Ok(format!("{}{location}", self.base().await?))
        }
    }
}

pub fn pull_scope(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull")]
}

pub(super) fn push_scope(repo: &str, mount_from: Option<&str>) -> Vec<String> {
    let mut s = vec![format!("repository:{repo}:pull,push")];
    if let Some(from) = mount_from {
        s.push(format!("repository:{from}:pull"));
    }
    s
}
