//! A loopback stand-in for GitHub's release downloads: `GET /OWNER/NAME/releases/download/
//! TAG/ASSET` answers `302` to an object URL on the same server (as github.com redirects to its
//! object host), which serves the bytes. Every request is recorded, so a test can prove the
//! second run of the action made none.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use crate::harness::http::Request;

pub struct ReleaseServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ReleaseServer {
    /// Serves `assets` (file name → bytes) as the release `tag` of `repository`.
    pub fn start(repository: &str, tag: &str, assets: BTreeMap<String, Vec<u8>>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let prefix = format!("/{repository}/releases/download/{tag}/");
        let assets = Arc::new(assets);
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (prefix, assets, log) = (prefix.clone(), Arc::clone(&assets), Arc::clone(&log));
                std::thread::spawn(move || serve(conn, &prefix, &assets, &log));
            }
        });
        Self { url, requests }
    }

    /// `METHOD PATH` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

fn serve(
    mut conn: TcpStream,
    prefix: &str,
    assets: &BTreeMap<String, Vec<u8>>,
    log: &Mutex<Vec<String>>,
) {
    while let Ok(req) = Request::read(&conn) {
        if req.method.is_empty() {
            return;
        }
        log.lock()
            .expect("lock")
            .push(format!("{} {}", req.method, req.target));
        let (path, _) = req.path_and_query();
        let head = if let Some(name) = path.strip_prefix(prefix) {
            if assets.contains_key(name) {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: /objects/{name}?token=signed\r\nContent-Length: 0\r\n\r\n"
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found".to_owned()
            }
        } else if let Some(bytes) = path.strip_prefix("/objects/").and_then(|n| assets.get(n)) {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                bytes.len()
            );
            if conn
                .write_all(head.as_bytes())
                .and_then(|()| conn.write_all(bytes))
                .is_err()
            {
                return;
            }
            continue;
        } else {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found".to_owned()
        };
        if conn.write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}
