//! A client for one registry speaking the OCI distribution API over reqwest/rustls: scheme
//! discovery (loopback over plain HTTP like Docker), the `WWW-Authenticate` bearer-token and
//! basic flows with tokens reused per scope, retries, and digest-checked manifests.
//! Implemented on reqwest directly rather than oci-client, which buffers blobs in memory and
//! has no hooks for streaming verification, mounts with fallback, or per-request retries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::{Mutex, OnceCell};

use super::auth::{Credential, PASSWORD_ENV, USERNAME_ENV};
use super::digest::sha256;
use super::error::OciError;
use super::manifest::ACCEPT as MANIFEST_ACCEPT;
use super::retry::{Retry, parse_retry_after, retryable_status};

/// Manifests larger than this are refused (the distribution spec suggests 4 MiB).
const MANIFEST_MAX: usize = 4 << 20;

/// Tries for content that arrived but did not match its digest: enough to ride out a
/// truncated body, few enough that a registry serving bad bytes is refused quickly.
pub const MISMATCH_ATTEMPTS: u32 = 3;

/// How to reach registries: shared by every [`Registry`] of one command.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `HOST[:PORT]`s reached over plain HTTP although not loopback.
    pub insecure: Vec<String>,
    /// PEM files with extra trusted CAs (`--ca-cert`, `SSL_CERT_FILE`).
    pub ca_certs: Vec<PathBuf>,
    pub retry: Retry,
    /// Upload blobs from a layout in chunks of this many bytes (`PATCH` each, then `PUT`)
    /// instead of one streamed `PUT`.
    pub chunk_size: Option<u64>,
}

pub fn http_client(opts: &Options) -> Result<reqwest::Client, OciError> {
    // reqwest is built without a default crypto provider; ring keeps OpenSSL and cmake out.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut certs = Vec::new();
    for path in &opts.ca_certs {
        let pem = std::fs::read(path).map_err(|e| OciError::CaCert {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let found = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| OciError::CaCert {
            path: path.clone(),
            message: format!("not PEM certificates: {e}"),
        })?;
        if found.is_empty() {
            return Err(OciError::CaCert {
                path: path.clone(),
                message: "no PEM certificate in it".into(),
            });
        }
        certs.extend(found);
    }
    reqwest::Client::builder()
        .user_agent(concat!("cicd/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(120))
        .tls_certs_merge(certs)
        .build()
        .map_err(|e| OciError::Network {
            registry: "-".into(),
            action: "setting up TLS".into(),
            message: chain(&e),
        })
}

/// The authentication a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Challenge {
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

pub struct Registry {
    /// As users write it (`docker.io`, `127.0.0.1:5000`).
    pub host: String,
    http: reqwest::Client,
    insecure: bool,
    base: OnceCell<String>,
    challenge: Mutex<Option<Challenge>>,
    credential: Option<Credential>,
    tokens: Mutex<HashMap<String, String>>,
    pub retry: Retry,
    pub chunk_size: Option<u64>,
}

impl Registry {
    pub fn new(
        host: &str,
        http: reqwest::Client,
        opts: &Options,
        credential: Option<Credential>,
    ) -> Self {
        Self {
            host: host.to_owned(),
            http,
            insecure: opts.insecure.iter().any(|h| h == host),
            base: OnceCell::new(),
            challenge: Mutex::new(None),
            credential,
            tokens: Mutex::new(HashMap::new()),
            retry: opts.retry,
            chunk_size: opts.chunk_size.filter(|&n| n > 0),
        }
    }

    /// `scheme://api-host`, found once: HTTPS, except loopback and `--insecure-registry`
    /// hosts, which get plain HTTP when HTTPS does not answer (as Docker does).
    pub async fn base(&self) -> Result<&str, OciError> {
        self.base
            .get_or_try_init(|| async {
                let api = if self.host == super::reference::DEFAULT_REGISTRY {
                    "registry-1.docker.io"
                } else {
                    self.host.as_str()
                };
                let https = format!("https://{api}");
                if !(self.insecure || is_loopback(&self.host)) {
                    return Ok(https);
                }
                let tls_err = match self.ping(&https).await {
                    Ok(()) => return Ok(https),
                    Err(e) => e,
                };
                let http = format!("http://{api}");
                match self.ping(&http).await {
                    Ok(()) => Ok(http),
                    Err(_) => Err(tls_err),
                }
            })
            .await
            .map(String::as_str)
    }

    /// `GET /v2/`, recording how the registry wants to be authenticated.
    async fn ping(&self, base: &str) -> Result<(), OciError> {
        let resp = self
            .http
            .get(format!("{base}/v2/"))
            .send()
            .await
            .map_err(|e| self.network("connecting", &e))?;
        let status = resp.status();
        // Go's TLS server answers plain HTTP with 400 and this text.
        if status == StatusCode::BAD_REQUEST {
            return Err(OciError::Http {
                registry: self.host.clone(),
                action: "GET /v2/".into(),
                status: 400,
                message: "not a plain-HTTP registry".into(),
            });
        }
        let challenge = parse_challenge(resp.headers());
        *self.challenge.lock().await = Some(challenge);
        Ok(())
    }

    fn network(&self, action: &str, e: &reqwest::Error) -> OciError {
        OciError::Network {
            registry: self.host.clone(),
            action: action.to_owned(),
            message: chain(e),
        }
    }

    /// The `Authorization` value for `scopes`, fetching a bearer token when needed.
    async fn authorization(
        &self,
        scopes: &[String],
        repo: &str,
    ) -> Result<Option<String>, OciError> {
        let challenge = self
            .challenge
            .lock()
            .await
            .clone()
            .unwrap_or(Challenge::None);
        match challenge {
            Challenge::None => Ok(None),
            Challenge::Basic => Ok(self.credential.as_ref().map(Credential::basic_header)),
            Challenge::Bearer { realm, service } => {
                let key = scopes.join(" ");
                if let Some(t) = self.tokens.lock().await.get(&key) {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let token = self
                    .fetch_token(&realm, service.as_deref(), scopes, repo)
                    .await?;
                self.tokens.lock().await.insert(key, token.clone());
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        repo: &str,
    ) -> Result<String, OciError> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = service {
            query.push(("service", s));
        }
        for s in scopes {
            query.push(("scope", s));
        }
        let mut attempt = 0;
        loop {
            let mut req = self.http.get(realm).query(&query);
            if let Some(c) = &self.credential {
                req = req.header(AUTHORIZATION, c.basic_header());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if attempt + 1 < self.retry.attempts => {
                    let _ = e;
                    tokio::time::sleep(self.retry.delay(attempt, None)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(self.network("fetching a token", &e)),
            };
            let status = resp.status().as_u16();
            if retryable_status(status) && attempt + 1 < self.retry.attempts {
                tokio::time::sleep(self.retry.delay(attempt, retry_after(resp.headers()))).await;
                attempt += 1;
                continue;
            }
            if status == 401 || status == 403 {
                return Err(self.unauthorized(repo, status));
            }
            if !resp.status().is_success() {
                return Err(OciError::Http {
                    registry: self.host.clone(),
                    action: "the token request".into(),
                    status,
                    message: "token service refused".into(),
                });
            }
            let body = resp
                .bytes()
                .await
                .map_err(|e| self.network("reading a token", &e))?;
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            return v
                .get("token")
                .or_else(|| v.get("access_token"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| OciError::Http {
                    registry: self.host.clone(),
                    action: "the token request".into(),
                    status,
                    message: "the answer has no token".into(),
                });
        }
    }

    pub fn unauthorized(&self, repo: &str, status: u16) -> OciError {
        let hint = match &self.credential {
            None => format!(
                "no credentials for {host}: set {USERNAME_ENV} and {PASSWORD_ENV}, or run `cicd image login {host}`",
                host = self.host
            ),
            Some(c) => format!(
                "the credentials from {} were refused: correct them there, or run `cicd image login {}`",
                c.source, self.host
            ),
        };
        OciError::Unauthorized {
            registry: self.host.clone(),
            repository: repo.to_owned(),
            status,
            hint,
        }
    }

    /// Sends a request built by `make` (called again for each retry; `None` when it cannot
    /// be rebuilt) with auth, retrying 5xx/429/408 and broken connections. Returns the first
    /// response that is not retried; 401/403 become [`OciError::Unauthorized`].
    pub async fn send(
        &self,
        action: &str,
        repo: &str,
        scopes: &[String],
        mut make: impl FnMut(&reqwest::Client, &str) -> Option<RequestBuilder>,
    ) -> Result<Response, OciError> {
        let base = self.base().await?.to_owned();
        let mut attempt = 0u32;
        let mut reauthed = false;
        loop {
            let Some(mut req) = make(&self.http, &base) else {
                return Err(OciError::Network {
                    registry: self.host.clone(),
                    action: action.to_owned(),
                    message: "the request body cannot be sent again".into(),
                });
            };
            if let Some(auth) = self.authorization(scopes, repo).await? {
                req = req.header(AUTHORIZATION, auth);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    if attempt + 1 < self.retry.attempts && !e.is_builder() {
                        tokio::time::sleep(self.retry.delay(attempt, None)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(self.network(action, &e));
                }
            };
            let status = resp.status().as_u16();
            if status == 401 && !reauthed {
                // First contact, or an expired token: learn the challenge and try once more.
                reauthed = true;
                let challenge = parse_challenge(resp.headers());
                if challenge == Challenge::None
                    || (challenge == Challenge::Basic && self.credential.is_none())
                {
                    return Err(self.unauthorized(repo, status));
                }
                *self.challenge.lock().await = Some(challenge);
                self.tokens.lock().await.remove(&scopes.join(" "));
                continue;
            }
            if status == 401 || status == 403 {
                return Err(self.unauthorized(repo, status));
            }
            if retryable_status(status) && attempt + 1 < self.retry.attempts {
                tokio::time::sleep(self.retry.delay(attempt, retry_after(resp.headers()))).await;
                attempt += 1;
                continue;
            }
            return Ok(resp);
        }
    }

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
    ) -> Result<Option<(Vec<u8>, String, String)>, OciError> {
        // A body cut short or damaged on the way is fetched again, a few times.
        let mut attempt = 0;
        loop {
            match self.get_manifest_once(repo, reference).await {
                Err(OciError::Network { .. } | OciError::DigestMismatch { .. })
                    if attempt + 1 < MISMATCH_ATTEMPTS.min(self.retry.attempts) =>
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
    ) -> Result<Option<(Vec<u8>, String, String)>, OciError> {
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
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.network("reading a manifest", &e))?;
        let actual = sha256(&bytes);
        let expected = if reference.contains(':') {
            Some(reference.to_owned())
        } else {
            claimed.filter(|c| c.starts_with("sha256:"))
        };
        if let Some(expected) = expected
            && expected != actual
        {
            return Err(OciError::DigestMismatch {
                what: format!("manifest {repo}:{reference}"),
                place: self.host.clone(),
                expected,
                actual,
            });
        }
        let content_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        Ok(Some((bytes.to_vec(), content_type, actual)))
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

    pub async fn has_blob(&self, repo: &str, digest: &str) -> Result<bool, OciError> {
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
    pub async fn get_blob(&self, repo: &str, digest: &str) -> Result<Response, OciError> {
        let url_path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self
            .send("GET blob", repo, &pull_scope(repo), |c, base| {
                Some(c.get(format!("{base}{url_path}")))
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
        mount: Option<(&str, &str)>,
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
        digest: &str,
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
            && theirs != digest
        {
            return Err(OciError::DigestMismatch {
                what: format!("blob pushed to {repo}"),
                place: self.host.clone(),
                expected: digest.to_owned(),
                actual: theirs,
            });
        }
        Ok(())
    }

    /// The referrers API (OCI 1.1): `Some(index bytes)`, or `None` where the registry has none.
    pub async fn referrers(&self, repo: &str, digest: &str) -> Result<Option<Vec<u8>>, OciError> {
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
        if !resp.status().is_success() || !is_index {
            return Ok(None);
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.network("reading referrers", &e))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn absolute(&self, location: &str) -> Result<String, OciError> {
        if location.starts_with("http://") || location.starts_with("https://") {
            Ok(location.to_owned())
        } else {
            Ok(format!("{}{location}", self.base().await?))
        }
    }

    /// Turns a non-2xx answer into an error carrying the registry's own message.
    pub async fn expect_success(
        &self,
        resp: Response,
        action: &str,
        repo: &str,
    ) -> Result<Response, OciError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                let e = v.get("errors")?.get(0)?;
                Some(format!(
                    "{} {}",
                    e.get("code")?.as_str()?,
                    e.get("message")
                        .and_then(|m| m.as_str())
                        .unwrap_or_default()
                ))
            })
            .unwrap_or_else(|| text.chars().take(200).collect());
        if status == StatusCode::NOT_FOUND {
            return Err(OciError::NotFound {
                what: format!("{action} in {repo}"),
                place: format!("{} ({message})", self.host),
            });
        }
        Err(OciError::Http {
            registry: self.host.clone(),
            action: format!("{action} for {repo}"),
            status: status.as_u16(),
            message,
        })
    }
}

pub fn pull_scope(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull")]
}

fn push_scope(repo: &str, mount_from: Option<&str>) -> Vec<String> {
    let mut s = vec![format!("repository:{repo}:pull,push")];
    if let Some(from) = mount_from {
        s.push(format!("repository:{from}:pull"));
    }
    s
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

fn parse_challenge(headers: &HeaderMap) -> Challenge {
    let Some(value) = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()) else {
        return Challenge::None;
    };
    let (scheme, params) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Challenge::Basic;
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Challenge::None;
    }
    let params = parse_params(params);
    match params.get("realm") {
        Some(realm) => Challenge::Bearer {
            realm: realm.clone(),
            service: params.get("service").cloned(),
        },
        None => Challenge::None,
    }
}

/// `key="value", key=value` pairs; quoted values may contain commas.
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_owned());
        rest = next.trim_start().trim_start_matches(',');
    }
    out
}

fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An error with its causes, which is where hyper and rustls say what actually went wrong.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let mut h = HeaderMap::new();
        h.insert(
            WWW_AUTHENTICATE,
            r#"Bearer realm="https://auth.example/token",service="reg,istry",scope="repository:a:pull""#
                .parse()
                .expect("header"),
        );
        assert_eq!(
            parse_challenge(&h),
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("reg,istry".into())
            }
        );
        h.insert(
            WWW_AUTHENTICATE,
            r#"Basic realm="x""#.parse().expect("header"),
        );
        assert_eq!(parse_challenge(&h), Challenge::Basic);
        h.insert(WWW_AUTHENTICATE, "Bearer".parse().expect("header"));
        assert_eq!(parse_challenge(&h), Challenge::None);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("127.9.9.9"));
        assert!(is_loopback("localhost:1"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(!is_loopback("10.0.0.1"));
    }
}
