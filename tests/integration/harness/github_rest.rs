//! A generic stand-in for GitHub's REST API on 127.0.0.1: an API host and a separate upload
//! host (shaped as `uploads.github.com`), stateful for releases (create, get by tag or id,
//! update, delete; list, upload, get, delete assets) and deployments (create, list, get;
//! create and list statuses). Answers are GitHub's own examples from its OpenAPI description
//! (loaded through [`super::github_api::openapi_path`]) with the fields the state decides
//! filled in. A test can put its own answer in front of any route ([`GithubRest::route`],
//! [`GithubRest::fail`]); every request is recorded, and [`GithubRest::assert_openapi_valid`]
//! checks every recorded exchange against the description with `openapi_check.py`.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::http::Request;

/// Which of the two hosts a request reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    Api,
    Uploads,
}

/// One request and the answer it got, in the shape `openapi_check.py` reads.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Exchange {
    /// The origin GitHub serves this operation from (`https://api.github.com` or
    /// `https://uploads.github.com`), for the validator's server matching.
    pub host: String,
    #[serde(skip)]
    pub on: Host,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The request body when it is JSON; `null` otherwise (uploads are raw bytes).
    pub request_body: Value,
    pub request_content_type: String,
    /// The raw request bytes (upload bodies), not sent to the validator.
    #[serde(skip)]
    pub request_bytes: Vec<u8>,
    pub status: u16,
    /// The answer's body (`null` for 204).
    pub body: Value,
    /// `false` for answers a test injected ([`GithubRest::fail`]): only the request is checked.
    pub validate_response: bool,
}

impl Exchange {
    pub fn is_write(&self) -> bool {
        self.method != "GET" && self.method != "HEAD"
    }
}

/// What a test-provided route sees.
pub struct Call<'a> {
    pub on: Host,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Path segments matched by `{name}` in the route's pattern.
    pub params: BTreeMap<String, String>,
    pub body: &'a [u8],
}

type Handler = Box<dyn Fn(&Call) -> Option<(u16, Value)> + Send + Sync>;

struct Route {
    method: String,
    pattern: String,
    handler: Handler,
    /// Answers left before the route steps aside; `None`: always.
    remaining: Option<usize>,
    injected: bool,
}

/// A stored release asset: GitHub's JSON and the uploaded bytes.
#[derive(Clone, Debug)]
pub struct Asset {
    pub json: Value,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct State {
    next_id: u64,
    /// Releases by id, GitHub's JSON (without `assets`, filled in when answering).
    pub releases: BTreeMap<u64, Value>,
    /// Assets by release id.
    pub assets: BTreeMap<u64, Vec<Asset>>,
    pub deployments: BTreeMap<u64, Value>,
    /// Statuses by deployment id, oldest first.
    pub statuses: BTreeMap<u64, Vec<Value>>,
    log: Vec<Exchange>,
    routes: Vec<Route>,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

pub struct GithubRest {
    /// `GITHUB_API_URL` for the binary under test.
    pub api_url: String,
    /// The upload host's origin, as `upload_url` in releases names it.
    pub upload_url: String,
    state: Arc<Mutex<State>>,
    examples: Arc<Value>,
}

impl GithubRest {
    pub fn start() -> Self {
        let spec: Value = serde_json::from_slice(
            &std::fs::read(super::github_api::openapi_path()).expect("read OpenAPI"),
        )
        .expect("OpenAPI JSON");
        let examples = Arc::new(spec["components"]["examples"].clone());
        for name in [
            "release",
            "release-asset",
            "deployment",
            "deployment-status",
        ] {
            assert!(
                examples[name]["value"].is_object(),
                "the OpenAPI description has no `{name}` example"
            );
        }
        let state = Arc::new(Mutex::new(State::default()));
        let api = TcpListener::bind("127.0.0.1:0").expect("bind");
        let uploads = TcpListener::bind("127.0.0.1:0").expect("bind");
        let api_url = format!("http://{}", api.local_addr().expect("addr"));
        let upload_url = format!("http://{}", uploads.local_addr().expect("addr"));
        let origins = Arc::new((api_url.clone(), upload_url.clone()));
        for (listener, on) in [(api, Host::Api), (uploads, Host::Uploads)] {
            let (state, examples, origins) = (state.clone(), examples.clone(), origins.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming().flatten() {
                    let (state, examples, origins) =
                        (state.clone(), examples.clone(), origins.clone());
                    std::thread::spawn(move || {
                        let ctx = Ctx {
                            on,
                            examples: &examples,
                            api: &origins.0,
                            uploads: &origins.1,
                        };
                        let _ = serve(conn, &ctx, &state);
                    });
                }
            });
        }
        Self {
            api_url,
            upload_url,
            state,
            examples,
        }
    }

    /// The state, for assertions and seeding.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a test's answer in front of `method pattern` (`{name}` matches one segment):
    /// the handler answers, or returns `None` to let the stateful default answer.
    pub fn route(
        &self,
        method: &str,
        pattern: &str,
        handler: impl Fn(&Call) -> Option<(u16, Value)> + Send + Sync + 'static,
    ) {
        self.state().routes.push(Route {
            method: method.to_owned(),
            pattern: pattern.to_owned(),
            handler: Box::new(handler),
            remaining: None,
            injected: false,
        });
    }

    /// The next `times` requests to `method pattern` get `status` with a GitHub error body;
    /// those answers are left out of response validation (the request still is checked).
    pub fn fail(&self, method: &str, pattern: &str, status: u16, times: usize) {
        self.state().routes.push(Route {
            method: method.to_owned(),
            pattern: pattern.to_owned(),
            handler: Box::new(move |_| Some((status, error_body("Server Error")))),
            remaining: Some(times),
            injected: true,
        });
    }

    /// Adds a release as if created earlier (GitHub's example with these fields over it).
    pub fn seed_release(&self, owner: &str, repo: &str, fields: Value) -> u64 {
        let mut state = self.state();
        let id = state.id();
        let ctx = Ctx {
            on: Host::Api,
            examples: &self.examples,
            api: &self.api_url,
            uploads: &self.upload_url,
        };
        let release = new_release(&ctx, owner, repo, id, &fields);
        state.releases.insert(id, release);
        id
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.state().log.clone()
    }

    /// Every request that could change something (not `GET`/`HEAD`).
    pub fn writes(&self) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(Exchange::is_write)
            .collect()
    }

    /// The releases, by id, each with its `assets`.
    pub fn releases(&self) -> Vec<Value> {
        let state = self.state();
        state
            .releases
            .iter()
            .map(|(id, r)| with_assets(r, state.assets.get(id)))
            .collect()
    }

    /// The assets of the release for `tag`.
    pub fn assets_of(&self, tag: &str) -> Vec<Asset> {
        let state = self.state();
        state
            .releases
            .iter()
            .find(|(_, r)| r["tag_name"] == tag)
            .and_then(|(id, _)| state.assets.get(id).cloned())
            .unwrap_or_default()
    }

    /// Validates every recorded exchange against GitHub's OpenAPI description (requests
    /// always; answers unless injected); panics with the validator's report otherwise.
    pub fn assert_openapi_valid(&self) {
        let exchanges = self.exchanges();
        assert!(!exchanges.is_empty(), "no request reached the stand-in");
        let python = super::require_tool("python3", "install Python 3");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("exchanges.json");
        std::fs::write(&file, serde_json::to_vec(&exchanges).expect("json")).expect("write");
        let script = super::repo_root().join("tests/integration/openapi_check.py");
        let spec = super::github_api::openapi_path();
        let (ok, text) = super::run_tool(
            &python,
            &[script.as_os_str(), spec.as_os_str(), file.as_os_str()],
        );
        assert!(
            ok,
            "requests or answers not valid by the OpenAPI description:\n{text}"
        );
    }
}

struct Ctx<'a> {
    on: Host,
    examples: &'a Value,
    api: &'a str,
    uploads: &'a str,
}

impl Ctx<'_> {
    fn example(&self, name: &str) -> Value {
        self.examples[name]["value"].clone()
    }
}

fn serve(mut conn: TcpStream, ctx: &Ctx, state: &Mutex<State>) -> std::io::Result<()> {
    let request = Request::read(&conn)?;
    let (path, query) = request.path_and_query();
    let (path, query) = (path.to_owned(), query.to_owned());
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let call = Call {
        on: ctx.on,
        method: &request.method,
        path: &path,
        query: &query,
        params: BTreeMap::new(),
        body: &request.body,
    };
    let (status, body, injected) = match routed(&mut state, &call) {
        Some((status, body, injected)) => (status, body, injected),
        None => {
            let (status, body) = answer(ctx, &mut state, &call);
            (status, body, false)
        }
    };
    let content_type = request.header("content-type").unwrap_or("").to_owned();
    let request_body = if content_type.starts_with("application/json") || ctx.on == Host::Api {
        serde_json::from_slice(&request.body).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    state.log.push(Exchange {
        host: match ctx.on {
            Host::Api => "https://api.github.com",
            Host::Uploads => "https://uploads.github.com",
        }
        .to_owned(),
        on: ctx.on,
        method: request.method.clone(),
        path,
        query,
        headers: request.headers.clone(),
        request_body,
        request_content_type: content_type,
        request_bytes: request.body.clone(),
        status,
        body: body.clone(),
        validate_response: !injected,
    });
    drop(state);
    let text = if status == 204 {
        String::new()
    } else {
        body.to_string()
    };
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nX-RateLimit-Remaining: 4999\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    conn.flush()
}

fn answer(ctx: &Ctx, state: &mut State, call: &Call) -> (u16, Value) {
    defaults::release_routes(ctx, state, call)
        .or_else(|| defaults::deployment_routes(ctx, state, call))
        .unwrap_or_else(defaults::unknown)
}

fn routed(state: &mut State, call: &Call) -> Option<(u16, Value, bool)> {
    for route in state.routes.iter_mut().rev() {
        if route.method != call.method || route.remaining == Some(0) {
            continue;
        }
        let Some(params) = matches(&route.pattern, call.path) else {
            continue;
        };
        let call = Call {
            params,
            on: call.on,
            method: call.method,
            path: call.path,
            query: call.query,
            body: call.body,
        };
        if let Some((status, body)) = (route.handler)(&call) {
            if let Some(n) = route.remaining.as_mut() {
                *n -= 1;
            }
            return Some((status, body, route.injected));
        }
    }
    None
}

/// `{name}` segments of `pattern` matched against `path`.
pub fn matches(pattern: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let s: Vec<&str> = path.trim_matches('/').split('/').collect();
    if p.len() != s.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (p, s) in p.iter().zip(&s) {
        if let Some(name) = p.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            params.insert(name.to_owned(), (*s).to_owned());
        } else if p != s {
            return None;
        }
    }
    Some(params)
}

pub fn error_body(message: &str) -> Value {
    json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": "500"})
}

fn with_assets(release: &Value, assets: Option<&Vec<Asset>>) -> Value {
    let mut release = release.clone();
    release["assets"] = Value::Array(
        assets
            .map(|a| a.iter().map(|a| a.json.clone()).collect())
            .unwrap_or_default(),
    );
    release
}

fn new_release(ctx: &Ctx, owner: &str, repo: &str, id: u64, fields: &Value) -> Value {
    let mut r = ctx.example("release");
    let tag = fields["tag_name"].as_str().unwrap_or("v0.0.0").to_owned();
    let api = format!("{}/repos/{owner}/{repo}/releases/{id}", ctx.api);
    r["id"] = json!(id);
    r["url"] = json!(api);
    r["assets_url"] = json!(format!("{api}/assets"));
    r["upload_url"] = json!(format!(
        "{}/repos/{owner}/{repo}/releases/{id}/assets{{?name,label}}",
        ctx.uploads
    ));
    r["html_url"] = json!(format!("{}/{owner}/{repo}/releases/tag/{tag}", ctx.api));
    r["tag_name"] = json!(tag);
    r["name"] = json!(tag);
    r["body"] = json!("");
    r["prerelease"] = json!(false);
    r["draft"] = json!(false);
    r["assets"] = json!([]);
    merge_release(&mut r, fields);
    r
}

/// Applies a create/update body to a stored release.
fn merge_release(r: &mut Value, fields: &Value) {
    for key in [
        "tag_name",
        "target_commitish",
        "name",
        "body",
        "draft",
        "prerelease",
    ] {
        if let Some(v) = fields.get(key) {
            r[key] = v.clone();
        }
    }
    // Not a field of the release GitHub answers with; kept for assertions.
    if let Some(v) = fields.get("make_latest") {
        r["x-make_latest"] = v.clone();
    }
}

/// Stateful default answers, one function per resource.
mod defaults {
    use super::*;

    pub fn release_routes(ctx: &Ctx, s: &mut State, c: &Call) -> Option<(u16, Value)> {
        let m = |p: &str| matches(p, c.path);
        let not_found = || (404, not_found());
        let find = |s: &State, id: &str| {
            id.parse::<u64>()
                .ok()
                .filter(|id| s.releases.contains_key(id))
        };
        if let Some(p) = m("/repos/{owner}/{repo}/releases") {
            return Some(match c.method {
                "GET" => (
                    200,
                    Value::Array(
                        s.releases
                            .iter()
                            .rev()
                            .map(|(id, r)| with_assets(r, s.assets.get(id)))
                            .collect(),
                    ),
                ),
                "POST" => {
                    let fields: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                    let Some(tag) = fields["tag_name"].as_str() else {
                        return Some((422, invalid("Release", "tag_name", "missing_field")));
                    };
                    if s.releases.values().any(|r| r["tag_name"] == tag) {
                        return Some((422, invalid("Release", "tag_name", "already_exists")));
                    }
                    let id = s.id();
                    let r = new_release(ctx, &p["owner"], &p["repo"], id, &fields);
                    s.releases.insert(id, r.clone());
                    (201, r)
                }
                _ => return None,
            });
        }
        if let Some(p) = m("/repos/{owner}/{repo}/releases/tags/{tag}") {
            if c.method != "GET" {
                return None;
            }
            let tag = percent_decode(&p["tag"]);
            return Some(
                match s
                    .releases
                    .iter()
                    .find(|(_, r)| r["tag_name"] == tag.as_str())
                {
                    Some((id, r)) => (200, with_assets(r, s.assets.get(id))),
                    None => not_found(),
                },
            );
        }
        if let Some(p) = m("/repos/{owner}/{repo}/releases/{release_id}") {
            let Some(id) = find(s, &p["release_id"]) else {
                return Some(not_found());
            };
            return Some(match c.method {
                "GET" => (200, with_assets(&s.releases[&id], s.assets.get(&id))),
                "PATCH" => {
                    let fields: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                    if let Some(r) = s.releases.get_mut(&id) {
                        merge_release(r, &fields);
                    }
                    (200, with_assets(&s.releases[&id], s.assets.get(&id)))
                }
                "DELETE" => {
                    s.releases.remove(&id);
                    s.assets.remove(&id);
                    (204, Value::Null)
                }
                _ => return None,
            });
        }
        if let Some(p) = m("/repos/{owner}/{repo}/releases/{release_id}/assets") {
            let Some(id) = find(s, &p["release_id"]) else {
                return Some(not_found());
            };
            return match (c.on, c.method) {
                (Host::Api, "GET") => Some((
                    200,
                    Value::Array(
                        s.assets
                            .get(&id)
                            .map(|a| a.iter().map(|a| a.json.clone()).collect())
                            .unwrap_or_default(),
                    ),
                )),
                (Host::Uploads, "POST") => Some(upload(ctx, s, c, &p, id)),
                _ => None,
            };
        }
        if let Some(p) = m("/repos/{owner}/{repo}/releases/assets/{asset_id}") {
            let wanted: u64 = p["asset_id"].parse().unwrap_or(0);
            let place = s.assets.iter().find_map(|(rid, list)| {
                list.iter()
                    .position(|a| a.json["id"] == wanted)
                    .map(|i| (*rid, i))
            });
            let Some((rid, i)) = place else {
                return Some(not_found());
            };
            return Some(match c.method {
                "GET" => (200, s.assets[&rid][i].json.clone()),
                "DELETE" => {
                    if let Some(list) = s.assets.get_mut(&rid) {
                        list.remove(i);
                    }
                    (204, Value::Null)
                }
                _ => return None,
            });
        }
        None
    }

    fn upload(
        ctx: &Ctx,
        s: &mut State,
        c: &Call,
        p: &BTreeMap<String, String>,
        release: u64,
    ) -> (u16, Value) {
        let name = c
            .query
            .split('&')
            .find_map(|kv| kv.strip_prefix("name="))
            .map(percent_decode)
            .unwrap_or_default();
        if name.is_empty() {
            return (422, invalid("ReleaseAsset", "name", "missing_field"));
        }
        if s.assets
            .get(&release)
            .is_some_and(|l| l.iter().any(|a| a.json["name"] == name.as_str()))
        {
            return (422, invalid("ReleaseAsset", "name", "already_exists"));
        }
        let id = s.id();
        let tag = s.releases[&release]["tag_name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let mut a = ctx.example("release-asset-response-for-successful-upload");
        a["id"] = json!(id);
        a["name"] = json!(name);
        a["label"] = Value::Null;
        a["size"] = json!(c.body.len());
        a["content_type"] = json!("application/octet-stream");
        a["digest"] = json!(format!("sha256:{:x}", Sha256::digest(c.body)));
        a["download_count"] = json!(0);
        a["url"] = json!(format!(
            "{}/repos/{}/{}/releases/assets/{id}",
            ctx.api, p["owner"], p["repo"]
        ));
        a["browser_download_url"] = json!(format!(
            "{}/{}/{}/releases/download/{tag}/{name}",
            ctx.api, p["owner"], p["repo"]
        ));
        s.assets.entry(release).or_default().push(Asset {
            json: a.clone(),
            bytes: c.body.to_vec(),
        });
        (201, a)
    }

    pub fn deployment_routes(ctx: &Ctx, s: &mut State, c: &Call) -> Option<(u16, Value)> {
        let m = |p: &str| matches(p, c.path);
        if let Some(p) = m("/repos/{owner}/{repo}/deployments") {
            return Some(match c.method {
                "GET" => (
                    200,
                    Value::Array(s.deployments.values().rev().cloned().collect()),
                ),
                "POST" => {
                    let f: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                    let Some(git_ref) = f["ref"].as_str() else {
                        return Some((422, invalid("Deployment", "ref", "missing_field")));
                    };
                    let id = s.id();
                    let url = format!(
                        "{}/repos/{}/{}/deployments/{id}",
                        ctx.api, p["owner"], p["repo"]
                    );
                    let mut d = ctx.example("deployment");
                    d["id"] = json!(id);
                    d["url"] = json!(url);
                    d["statuses_url"] = json!(format!("{url}/statuses"));
                    d["ref"] = json!(git_ref);
                    d["sha"] = json!(git_ref);
                    for key in ["task", "environment", "description", "payload"] {
                        if let Some(v) = f.get(key) {
                            d[key] = v.clone();
                        }
                    }
                    d["original_environment"] = d["environment"].clone();
                    for key in ["transient_environment", "production_environment"] {
                        d[key] = f.get(key).cloned().unwrap_or(json!(false));
                    }
                    s.deployments.insert(id, d.clone());
                    (201, d)
                }
                _ => return None,
            });
        }
        if let Some(p) = m("/repos/{owner}/{repo}/deployments/{deployment_id}") {
            let id: u64 = p["deployment_id"].parse().unwrap_or(0);
            return (c.method == "GET").then(|| match s.deployments.get(&id) {
                Some(d) => (200, d.clone()),
                None => (404, not_found()),
            });
        }
        if let Some(p) = m("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses") {
            let id: u64 = p["deployment_id"].parse().unwrap_or(0);
            if !s.deployments.contains_key(&id) {
                return Some((404, not_found()));
            }
            return Some(match c.method {
                "GET" => (
                    200,
                    Value::Array(
                        s.statuses
                            .get(&id)
                            .map(|l| l.iter().rev().cloned().collect())
                            .unwrap_or_default(),
                    ),
                ),
                "POST" => {
                    let f: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                    let Some(state) = f["state"].as_str() else {
                        return Some((422, invalid("DeploymentStatus", "state", "missing_field")));
                    };
                    let sid = s.id();
                    let deployment = s.deployments[&id].clone();
                    let mut st = ctx.example("deployment-status");
                    st["id"] = json!(sid);
                    st["state"] = json!(state);
                    st["url"] = json!(format!(
                        "{}/statuses/{sid}",
                        deployment["url"].as_str().unwrap_or("")
                    ));
                    st["deployment_url"] = deployment["url"].clone();
                    st["environment"] = f
                        .get("environment")
                        .cloned()
                        .unwrap_or(deployment["environment"].clone());
                    for key in ["description", "environment_url", "log_url", "target_url"] {
                        if let Some(v) = f.get(key) {
                            st[key] = v.clone();
                        }
                    }
                    s.statuses.entry(id).or_default().push(st.clone());
                    (201, st)
                }
                _ => return None,
            });
        }
        None
    }

    fn not_found() -> Value {
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
    }

    fn invalid(resource: &str, field: &str, code: &str) -> Value {
        json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": code, "field": field}],
            "documentation_url": "https://docs.github.com/rest"
        })
    }

    pub fn unknown() -> (u16, Value) {
        (404, not_found())
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
