//! A token service for docker-registry's `auth.token` mode: checks basic credentials and
//! answers with a real RS256 JWT (signed by `openssl dgst`, certificate in `x5c`) granting
//! the requested scopes. It can hand out expired tokens to test the client's recovery.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::registry::{PASSWORD, USER};
use super::require_tool;

pub const SERVICE: &str = "cicd-test-registry";
pub const ISSUER: &str = "cicd-test-issuer";
/// The refresh token the OAuth2 (POST) flow accepts, as `docker login` would store it.
pub const IDENTITY_TOKEN: &str = "refresh-7c1e-never-print-me";

/// The token server is one per test binary and its `expired` counter is shared state: tests
/// that use it hold this lock, so one test's expired tokens never reach another.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub struct TokenServer {
    pub realm: String,
    pub cert: PathBuf,
    /// The next N tokens handed out are already expired.
    pub expired: Arc<AtomicU32>,
    pub issued: Arc<AtomicU64>,
}

impl TokenServer {
    pub fn start(dir: &Path) -> Self {
        let openssl = require_tool("openssl", "apt-get install openssl");
        let key = dir.join("token.key");
        let cert = dir.join("token.pem");
        let out = Command::new(&openssl)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=cicd test token signer", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pem = std::fs::read_to_string(&cert).expect("cert");
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let realm = format!("http://{}/token", listener.local_addr().expect("addr"));
        let expired = Arc::new(AtomicU32::new(0));
        let issued = Arc::new(AtomicU64::new(0));
        let (e, i) = (expired.clone(), issued.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = serve(conn, &openssl, &key, &der, &e, &i);
            }
        });
        Self {
            realm,
            cert,
            expired,
            issued,
        }
    }
}

fn serve(
    mut conn: TcpStream,
    openssl: &Path,
    key: &Path,
    x5c: &str,
    expired: &AtomicU32,
    issued: &AtomicU64,
) -> std::io::Result<()> {
    let request = super::http::Request::read(&conn)?;
    let auth = request.header("authorization").map(str::to_owned);
    let body = &request.body;
    let target = request.target.as_str();
    let (allowed, scopes) = if request.method == "POST" {
        // OAuth2: a refresh token in a form body, scopes space-separated.
        let form = decode_form(&String::from_utf8_lossy(body));
        let ok = form
            .iter()
            .any(|(k, v)| k == "grant_type" && v == "refresh_token")
            && form
                .iter()
                .any(|(k, v)| k == "refresh_token" && v == IDENTITY_TOKEN);
        let scopes: Vec<String> = form
            .iter()
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        (ok, scopes)
    } else {
        let want = format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let scopes = decode_form(query)
            .into_iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v)
            .collect();
        (auth.as_deref() == Some(want.as_str()), scopes)
    };
    if !allowed {
        return conn.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let mut access = Vec::new();
    for scope in scopes.iter().filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = scope.split(':').collect();
        if parts.len() == 3 {
            access.push(serde_json::json!({
                "type": parts[0], "name": parts[1],
                "actions": parts[2].split(',').collect::<Vec<_>>(),
            }));
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stale = expired
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    // The registry allows 60 s of clock skew, so an expired token is well in the past.
    let (nbf, exp) = if stale {
        (now - 900, now - 600)
    } else {
        (now - 10, now + 300)
    };
    let n = issued.fetch_add(1, Ordering::Relaxed);
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": exp, "nbf": nbf, "iat": nbf,
        "jti": format!("cicd-{n}"), "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut child = Command::new(openssl)
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(signing_input.as_bytes())?;
    }
    let sig = child.wait_with_output()?.stdout;
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig));
    let body =
        serde_json::json!({"token": token, "access_token": token, "expires_in": 300}).to_string();
    conn.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// `application/x-www-form-urlencoded` pairs.
fn decode_form(s: &str) -> Vec<(String, String)> {
    let decode = |v: &str| {
        let bytes = v.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    s.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}
