//! A stand-in for GitHub's REST API on 127.0.0.1, answering only what cicd asks
//! (`GET /repos/{owner}/{repo}/compare/{base}...{head}`). Answers are GitHub's own example
//! response from its OpenAPI description with `status` computed by real git on the test's
//! bare repositories; every exchange is recorded so a test can validate it against that
//! description.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// GitHub's OpenAPI description (`@octokit/openapi`), installed by `scripts/test`.
pub fn openapi_path() -> PathBuf {
    let path = std::env::var_os("CICD_GITHUB_OPENAPI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            super::repo_root().join(
                "target/test-tools/npm/node_modules/@octokit/openapi/generated/api.github.com.json",
            )
        });
    assert!(
        path.is_file(),
        "GitHub's OpenAPI description is needed: run `scripts/test` (npm install @octokit/openapi) — not at {}",
        path.display()
    );
    path
}

/// One request and the answer it got.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub status: u16,
    pub body: Value,
}

pub struct StubApi {
    pub url: String,
    pub log: Arc<Mutex<Vec<Exchange>>>,
}

impl StubApi {
    /// Serves compare answers for the bare repositories under `git_root` (`owner/repo.git`).
    pub fn start(git_root: PathBuf) -> Self {
        let spec: Value =
            serde_json::from_slice(&std::fs::read(openapi_path()).expect("read OpenAPI"))
                .expect("OpenAPI JSON");
        let example = spec["components"]["examples"]["commit-comparison"]["value"].clone();
        assert!(
            example.is_object(),
            "the OpenAPI description has no commit-comparison example"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let thread_log = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = serve(conn, &git_root, &example, &thread_log);
            }
        });
        Self { url, log }
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn serve(
    mut conn: TcpStream,
    root: &Path,
    example: &Value,
    log: &Mutex<Vec<Exchange>>,
) -> std::io::Result<()> {
    let request = super::http::Request::read(&conn)?;
    let (path, query) = request.path_and_query();
    let (status, body) = answer(root, path, example);
    let text = body.to_string();
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nX-RateLimit-Remaining: 4999\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    if let Ok(mut log) = log.lock() {
        log.push(Exchange {
            method: request.method.clone(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: request.headers.clone(),
            status,
            body,
        });
    }
    Ok(())
}

fn answer(root: &Path, path: &str, example: &Value) -> (u16, Value) {
    let not_found = || {
        (
            404,
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/commits/commits#compare-two-commits", "status": "404"}),
        )
    };
    let parts: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    let ["repos", owner, repo, "compare", basehead] = parts.as_slice() else {
        return not_found();
    };
    let basehead = percent_decode(basehead);
    let Some((base, head)) = basehead.split_once("...") else {
        return not_found();
    };
    let bare = root.join(owner).join(format!("{repo}.git"));
    let rev = |r: &str| {
        let out = Command::new("git")
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{r}^{{commit}}"),
            ])
            .current_dir(&bare)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let (Some(b), Some(h)) = (rev(base), rev(head)) else {
        return not_found();
    };
    let ancestor = |a: &str, d: &str| {
        Command::new("git")
            .args(["merge-base", "--is-ancestor", a, d])
            .current_dir(&bare)
            .status()
            .is_ok_and(|s| s.success())
    };
    let status = if b == h {
        "identical"
    } else if ancestor(&h, &b) {
        "behind"
    } else if ancestor(&b, &h) {
        "ahead"
    } else {
        "diverged"
    };
    let mut body = example.clone();
    body["status"] = json!(status);
    (200, body)
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
