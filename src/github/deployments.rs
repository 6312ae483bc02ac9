//! GitHub Deployments for promotions: `POST /repos/{owner}/{repo}/deployments` (ref,
//! environment, `auto_merge: false`, `required_contexts: []`, a payload naming the image,
//! digest, version and previous digest, `production_environment`) and its statuses
//! (`in_progress`, then `success` or `failure` with `environment_url` and `log_url`). A
//! deployment GitHub made for this run (the job's `environment:`) is reused, not doubled.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};

use super::api::ApiError;
use crate::http::{self, Purpose};

/// What a deployment records.
#[derive(Clone, Debug, Serialize)]
pub struct Deployment {
    pub environment: String,
    /// The git ref or commit deployed.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub production: bool,
    pub payload: Value,
    pub description: String,
}

/// Where deployments are recorded: a repository, a token, and this run's log URL.
pub struct Deployer {
    http: http::Client,
    base: String,
    owner: String,
    repo: String,
    token: SecretString,
    /// `{server}/{owner}/{repo}/actions/runs/{id}` when run in Actions.
    pub log_url: Option<String>,
    run_id: Option<String>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("base", &self.base)
            .field("repo", &format!("{}/{}", self.owner, self.repo))
            .field("token", &"[redacted]")
            .finish()
    }
}

impl Deployer {
    /// From `GITHUB_TOKEN` and `GITHUB_REPOSITORY` (`None` unless both are set), with
    /// `GITHUB_SERVER_URL`/`GITHUB_RUN_ID` for the log URL.
    pub fn from_env(api_url: &str, server_url: &str) -> Result<Option<Self>, ApiError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let (Some(token), Some(repository)) = (var("GITHUB_TOKEN"), var("GITHUB_REPOSITORY"))
        else {
            return Ok(None);
        };
        let Some((owner, repo)) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        else {
            return Err(ApiError::Body {
                url: "GITHUB_REPOSITORY".into(),
                reason: format!("`{repository}` is not OWNER/REPO"),
            });
        };
        let run_id = var("GITHUB_RUN_ID");
        let log_url = run_id.as_ref().map(|id| {
            format!(
                "{}/{owner}/{repo}/actions/runs/{id}",
                server_url.trim_end_matches('/')
            )
        });
        Ok(Some(Self {
            http: http::Client::new(Purpose::Api)?,
            base: api_url.trim_end_matches('/').to_owned(),
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            token: SecretString::from(token),
            log_url,
            run_id,
        }))
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/repos/{}/{}{tail}", self.base, self.owner, self.repo)
    }

    async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ApiError> {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let response = self
            .http
            .send(|c| {
                let req = if method == "POST" {
                    c.post(url)
                } else {
                    c.get(url)
                };
                let req = req
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28")
                    .bearer_auth(self.token.expose_secret());
                match &bytes {
                    Some(b) => req
                        .header("Content-Type", "application/json")
                        .body(b.clone()),
                    None => req,
                }
            })
            .await?;
        let status = response.status().as_u16();
        let bytes = http::read_capped(response, super::MAX_JSON_BYTES).await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    /// The deployment to report on: one GitHub made for this run's job in this environment
    /// (same commit, no cicd payload, a status linking this run, not finished), else a new one.
    pub async fn start(&self, d: &Deployment) -> Result<u64, ApiError> {
        let id = match self.existing(d).await? {
            Some(id) => id,
            None => self.create(d).await?,
        };
        self.status(id, "in_progress", None, &d.description).await?;
        Ok(id)
    }

    async fn create(&self, d: &Deployment) -> Result<u64, ApiError> {
        let url = self.url("/deployments");
        let body = json!({
            "ref": d.git_ref,
            "environment": d.environment,
            "auto_merge": false,
            "required_contexts": [],
            "payload": d.payload,
            "description": d.description,
            "production_environment": d.production,
            "transient_environment": false,
        });
        match self.call("POST", &url, Some(&body)).await? {
            (201, v) => v["id"].as_u64().ok_or(ApiError::Body {
                url,
                reason: "the created deployment has no id".into(),
            }),
            (status, _) => Err(ApiError::Status { url, status }),
        }
    }

    async fn existing(&self, d: &Deployment) -> Result<Option<u64>, ApiError> {
        let Some(run_id) = &self.run_id else {
            return Ok(None);
        };
        let url = self.url(&format!(
            "/deployments?environment={}&sha={}&per_page=10",
            query(&d.environment),
            query(&d.git_ref)
        ));
        let (status, list) = self.call("GET", &url, None).await?;
        if status != 200 {
            return Err(ApiError::Status { url, status });
        }
        let marker = format!("/actions/runs/{run_id}");
        for dep in list.as_array().into_iter().flatten() {
            let Some(id) = dep["id"].as_u64() else {
                continue;
            };
            let other_sha = dep["sha"].as_str().is_some_and(|s| s != d.git_ref);
            // cicd's own deployments carry the digest; GitHub's for a job carry no payload.
            let ours_already = dep["payload"].get("digest").is_some();
            if dep["environment"] != d.environment.as_str() || other_sha || ours_already {
                continue;
            }
            let url = self.url(&format!("/deployments/{id}/statuses?per_page=10"));
            let (status, statuses) = self.call("GET", &url, None).await?;
            if status != 200 {
                return Err(ApiError::Status { url, status });
            }
            let list: Vec<&Value> = statuses.as_array().into_iter().flatten().collect();
            let this_run = list.iter().any(|s| {
                ["log_url", "target_url"]
                    .iter()
                    .any(|k| s[k].as_str().is_some_and(|u| u.contains(&marker)))
            });
            let finished = list.iter().any(|s| {
                matches!(
                    s["state"].as_str(),
                    Some("success" | "failure" | "error" | "inactive")
                )
            });
            if this_run && !finished {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Adds a status (`in_progress`, `success`, `failure`).
    pub async fn status(
        &self,
        id: u64,
        state: &str,
        environment_url: Option<&str>,
        description: &str,
    ) -> Result<(), ApiError> {
        let url = self.url(&format!("/deployments/{id}/statuses"));
        let mut body = json!({"state": state, "description": truncate(description)});
        if let Some(log) = &self.log_url {
            body["log_url"] = json!(log);
        }
        if let Some(env_url) = environment_url {
            body["environment_url"] = json!(env_url);
        }
        match self.call("POST", &url, Some(&body)).await? {
            (201, _) => Ok(()),
            (status, _) => Err(ApiError::Status { url, status }),
        }
    }
}

/// GitHub caps descriptions at 140 characters.
fn truncate(s: &str) -> String {
    s.chars().take(140).collect()
}

fn query(s: &str) -> String {
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
