//! A client for one registry speaking the OCI distribution API over reqwest/rustls: scheme
//! discovery (loopback over plain HTTP like Docker), the `WWW-Authenticate` bearer-token and
//! basic flows with tokens reused per scope, retries, and digest-checked manifests.
//! The endpoints themselves are in `distribution.rs`, challenge parsing in `challenge.rs`.
//! Implemented on reqwest directly rather than oci-client, which buffers blobs in memory and
//! has no hooks for streaming verification, mounts with fallback, or per-request retries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::{Mutex, OnceCell};

use secrecy::ExposeSecret;

use super::auth::{Credential, PASSWORD_ENV, USERNAME_ENV};
use super::challenge::{Challenge, parse_challenge};
use super::error::OciError;
use crate::http::{Purpose, Retry, retryable_status};
pub(super) use crate::http::{chain, retry_after};

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

/// The registry client every [`Registry`] of a command shares: the HTTP stack's registry
/// purpose (its timeouts) with the extra CAs of `opts`.
pub fn http_client(opts: &Options) -> Result<reqwest::Client, OciError> {
    use crate::http::{Client, HttpError};
    match Client::with_ca_files(Purpose::Registry, &opts.ca_certs) {
        Ok(client) => Ok(client.into_reqwest()),
        Err(HttpError::CaFile { path, message }) => Err(OciError::CaCert { path, message }),
        Err(e) => Err(OciError::Network {
            registry: "-".into(),
            action: "setting up TLS".into(),
            message: e.into(),
        }),
    }
}

pub struct Registry {
    /// As users write it (`docker.io`, `127.0.0.1:5000`).
    pub host: String,
    pub(super) http: reqwest::Client,
    insecure: bool,
    base: OnceCell<String>,
    challenge: Mutex<Option<Challenge>>,
    credential: Option<Credential>,
    tokens: Mutex<HashMap<String, String>>,
    pub retry: Retry,
    pub chunk_size: Option<u64>,
    /// How the user logs in (named by the caller: oci knows no command line).
    pub login_command: Option<String>,
    /// Repositories whose referrers request was answered 404: OCI distribution 1.1 says a
    /// registry with the API never does, so their later lookups go straight to the fallback tag.
    pub(super) no_referrers_api: std::sync::Mutex<std::collections::HashSet<String>>,
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
            login_command: None,
            no_referrers_api: std::sync::Mutex::new(std::collections::HashSet::new()),
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
        let resp = self.http.get(format!("{base}/v2/"));
        let resp = crate::http::send(resp, Purpose::Registry)
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

    pub(super) fn network(&self, action: &str, e: &(dyn std::error::Error + 'static)) -> OciError {
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
            let req = match &self.credential {
                // An identity token (what `docker login` stores for OAuth registries) is a
                // refresh token: Docker's OAuth2 POST flow.
                Some(c) if c.is_identity_token() => {
                    let scope = scopes.join(" ");
                    let mut form = vec![
                        ("grant_type", "refresh_token"),
                        ("client_id", "cicd"),
                        ("refresh_token", c.password.expose_secret()),
                        ("scope", scope.as_str()),
                    ];
                    if let Some(s) = service {
                        form.push(("service", s));
                    }
                    self.http.post(realm).form(&form)
                }
                Some(c) => self
                    .http
                    .get(realm)
                    .query(&query)
                    .header(AUTHORIZATION, c.basic_header()),
                None => self.http.get(realm).query(&query),
            };
            let resp = match crate::http::send(req, Purpose::Registry).await {
                Ok(r) => r,
                Err(e)
                    if attempt + 1 < self.retry.attempts
                        && !self.network("fetching a token", &e).is_permanent_network() =>
                {
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
            // A token answer is a few KiB: one that streams on is a failure, not memory.
            let body = crate::http::read_capped(resp, 1 << 20)
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
            // Checking a login: nothing else was asked, so the user and password are the cause.
            Some(c) if repo.is_empty() => format!(
                "user `{}` and the password given were refused; check both (a token must be valid and allowed to access this registry)",
                c.username
            ),
            None => format!(
                "no credentials for {host}: set {USERNAME_ENV} and {PASSWORD_ENV}, or {}",
                self.log_in_hint(),
                host = self.host
            ),
            Some(c) => format!(
                "the credentials from {} were refused: correct them there, or {}",
                c.source,
                self.log_in_hint()
            ),
        };
        OciError::Unauthorized {
            registry: self.host.clone(),
            repository: repo.to_owned(),
            status,
            hint,
        }
    }

    /// What to run to log in: the caller's command when it named one, else Docker's (whose
    /// `config.json` is read).
    fn log_in_hint(&self) -> String {
        match &self.login_command {
            Some(cmd) => format!("run `{cmd} {}`", self.host),
            None => format!("log in with `docker login {}`", self.host),
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
            let resp = match crate::http::send(req, Purpose::Registry).await {
                Ok(r) => r,
                Err(e) => {
                    let permanent = self.network(action, &e).is_permanent_network();
                    if attempt + 1 < self.retry.attempts && !e.is_builder() && !permanent {
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
        // Error bodies are small; read no more than 64 KiB of one.
        let mut resp = resp;
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > 64 << 10 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&body).into_owned();
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

    /// Stores a small blob held in memory in two round trips (`POST` opening the session,
    /// then one `PUT ?digest=` carrying the bytes: the distribution spec's monolithic upload)
    /// instead of the streamed `POST` + `PATCH` + `PUT`; the digest the registry answers is
    /// checked, and a failed session is cancelled. The caller has checked the blob is not
    /// there yet and that `digest` is what `bytes` hash to.
    pub async fn put_small_blob(
        &self,
        repo: &str,
        digest: &super::digest::Digest,
        bytes: bytes::Bytes,
    ) -> Result<(), OciError> {
        let location = self
            .start_upload(repo, None)
            .await?
            .ok_or_else(|| OciError::Unsupported("registry mounted an unasked blob".into()))?;
        let size = bytes.len() as u64;
        let put = self
            .finish_upload(repo, &location, digest, size, reqwest::Body::from(bytes))
            .await;
        if put.is_err() {
            self.cancel_upload(repo, &location).await;
        }
        put
    }
}

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("127.9.9.9"));
        assert!(is_loopback("localhost:1"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[tokio::test]
    async fn https_unless_loopback_or_insecure() {
        let opts = Options::default();
        let http = http_client(&opts).expect("client");
        // No network is touched: HTTPS is chosen without probing for other hosts.
        let r = Registry::new("registry.example:5000", http.clone(), &opts, None);
        assert_eq!(
            r.base().await.expect("base"),
            "https://registry.example:5000"
        );
        let hub = Registry::new("docker.io", http.clone(), &opts, None);
        assert_eq!(
            hub.base().await.expect("base"),
            "https://registry-1.docker.io"
        );
        let insecure = Options {
            insecure: vec!["registry.example:5000".into()],
            ..Options::default()
        };
        assert!(Registry::new("registry.example:5000", http.clone(), &insecure, None).insecure);
        assert!(!Registry::new("registry.example:5001", http, &insecure, None).insecure);
    }
}
