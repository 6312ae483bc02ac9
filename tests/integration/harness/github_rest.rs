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
    let (body, link) = match (request.method.as_str(), status) {
        ("GET", 200) => paging::page(ctx.api, &path, &query, body),
        _ => (body, String::new()),
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
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nX-RateLimit-Remaining: 4999\r\n{link}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
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

mod defaults;
mod paging;

pub(crate) fn percent_decode(s: &str) -> String {
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
