//! A fault-injecting HTTP reverse proxy between cicd and a registry: answers 5xx/429 with
//! `Retry-After`, cuts blob bodies off mid-way, truncates them, flips a byte of a blob or a
//! manifest, and counts the blob bytes uploaded through it. One request per connection.
//!
//! Opt-in (`Faults::serve_referrers`), it also plays a registry with the OCI 1.1 referrers API
//! (distribution-spec v1.1 "Listing Referrers") in front of docker-registry, which has none:
//! `GET /v2/<name>/referrers/<digest>` is answered by the proxy from manifests read back from
//! the real registry, and manifest `PUT`s with a `subject` get the `OCI-Subject` header.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Faults {
    /// The next requests get these answers (status, Retry-After) instead of the registry's.
    pub statuses: VecDeque<(u16, Option<u32>)>,
    /// The next N blob downloads stop after half the body (connection closed).
    pub cut_blobs: u32,
    /// The next N blob downloads are half as long as they should be (Content-Length too).
    pub truncate_blobs: u32,
    /// The next N manifest downloads lose their second half.
    pub truncate_manifests: u32,
    /// The PATCH request with this number (from 0) is answered 503 once.
    pub fail_patch: Option<u32>,
    /// Every blob download has one byte flipped.
    pub flip_blobs: bool,
    /// Every manifest download has one byte flipped.
    pub flip_manifests: bool,
    /// Answer the OCI 1.1 referrers API instead of passing it on (the registry's 404).
    pub serve_referrers: bool,
}

pub struct Proxy {
    pub addr: String,
    /// Upload chunks (`PATCH` requests) seen.
    pub patches: Arc<AtomicU64>,
    /// Requests carrying a `Range` header (resumed downloads).
    pub ranged: Arc<AtomicU64>,
    pub faults: Arc<Mutex<Faults>>,
    pub uploaded: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
    /// Referrers API requests the proxy answered itself.
    pub referrers_served: Arc<AtomicU64>,
    /// Per repository, the digests of manifests with a `subject` pushed through the proxy:
    /// where the referrers API looks for candidates (each is read back from the registry).
    pub with_subject: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>,
}

/// What the connection threads share.
#[derive(Clone)]
struct Shared {
    upstream: String,
    faults: Arc<Mutex<Faults>>,
    uploaded: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    ranged: Arc<AtomicU64>,
    patches: Arc<AtomicU64>,
    referrers_served: Arc<AtomicU64>,
    with_subject: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>,
}

impl Proxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("addr").to_string();
        let shared = Shared {
            upstream: upstream.to_owned(),
            faults: Arc::new(Mutex::new(Faults::default())),
            uploaded: Arc::new(AtomicU64::new(0)),
            requests: Arc::new(AtomicU64::new(0)),
            ranged: Arc::new(AtomicU64::new(0)),
            patches: Arc::new(AtomicU64::new(0)),
            referrers_served: Arc::new(AtomicU64::new(0)),
            with_subject: Arc::new(Mutex::new(BTreeMap::new())),
        };
        let proxy = Self {
            addr,
            patches: shared.patches.clone(),
            ranged: shared.ranged.clone(),
            faults: shared.faults.clone(),
            uploaded: shared.uploaded.clone(),
            requests: shared.requests.clone(),
            referrers_served: shared.referrers_served.clone(),
            with_subject: shared.with_subject.clone(),
        };
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &shared);
                });
            }
        });
        proxy
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().expect("faults")
    }
}

struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_message(
    r: &mut BufReader<TcpStream>,
    has_body: bool,
    until_eof: bool,
) -> std::io::Result<Option<Message>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let mut m = Message {
        start: start.trim_end().to_owned(),
        headers,
        body: Vec::new(),
    };
    if !has_body {
        return Ok(Some(m));
    }
    if m.header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            m.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = m
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        m.body = vec![0u8; n];
        r.read_exact(&mut m.body)?;
    } else if until_eof {
        r.read_to_end(&mut m.body)?;
    }
    Ok(Some(m))
}

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Shared {
        upstream,
        faults,
        uploaded,
        requests,
        ranged,
        patches,
        ..
    } = shared;
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(req) = read_message(&mut reader, true, false)? else {
        return Ok(());
    };
    requests.fetch_add(1, Ordering::Relaxed);
    if req.header("range").is_some() {
        ranged.fetch_add(1, Ordering::Relaxed);
    }
    let mut client = client;
    let mut parts = req.start.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    if let Some((status, after)) = faults.lock().expect("faults").statuses.pop_front() {
        let mut head =
            format!("HTTP/1.1 {status} Injected\r\nContent-Length: 0\r\nConnection: close\r\n");
        if let Some(a) = after {
            head.push_str(&format!("Retry-After: {a}\r\n"));
        }
        head.push_str("\r\n");
        return client.write_all(head.as_bytes());
    }
    if method == "GET"
        && faults.lock().expect("faults").serve_referrers
        && let Some((name, rest)) = split_v2(&path, "/referrers/")
    {
        shared.referrers_served.fetch_add(1, Ordering::Relaxed);
        return referrers(&mut client, upstream, shared, &name, &rest);
    }
    if method == "PATCH" {
        let n = patches.fetch_add(1, Ordering::Relaxed);
        let mut f = faults.lock().expect("faults");
        if f.fail_patch == Some(n as u32) {
            f.fail_patch = None;
            return client.write_all(
                b"HTTP/1.1 503 Injected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
    if (method == "PATCH" || method == "PUT") && path.contains("/blobs/uploads/") {
        uploaded.fetch_add(req.body.len() as u64, Ordering::Relaxed);
    }
    let mut up = TcpStream::connect(upstream)?;
    let mut out = format!("{}\r\n", req.start);
    for (k, v) in &req.headers {
        if !["content-length", "transfer-encoding", "connection"]
            .contains(&k.to_ascii_lowercase().as_str())
        {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    up.write_all(out.as_bytes())?;
    up.write_all(&req.body)?;
    let mut up_reader = BufReader::new(up);
    let Some(mut resp) = read_message(&mut up_reader, method != "HEAD", true)? else {
        return Ok(());
    };
    let status: u16 = resp
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut oci_subject = None;
    if method == "PUT"
        && (200..300).contains(&status)
        && let Some((name, _)) = split_v2(&path, "/manifests/")
        && let Some(subject) = subject_of(&req.body)
    {
        shared
            .with_subject
            .lock()
            .expect("with_subject")
            .entry(name)
            .or_default()
            .insert(cicd::oci::digest::sha256(&req.body));
        if faults.lock().expect("faults").serve_referrers {
            oci_subject = Some(subject);
        }
    }
    let is_blob = method == "GET" && path.contains("/blobs/sha256:") && status == 200;
    let is_manifest = method == "GET" && path.contains("/manifests/") && status == 200;
    let mut cut = false;
    {
        let mut f = faults.lock().expect("faults");
        if is_blob && f.flip_blobs && !resp.body.is_empty() {
            let mid = resp.body.len() / 2;
            resp.body[mid] ^= 0x01;
        }
        if is_manifest && f.flip_manifests && !resp.body.is_empty() {
            let mid = resp.body.len() / 2;
            resp.body[mid] ^= 0x01;
        }
        if is_manifest && f.truncate_manifests > 0 && resp.body.len() > 1 {
            f.truncate_manifests -= 1;
            let half = resp.body.len() / 2;
            resp.body.truncate(half);
        }
        if is_blob && f.truncate_blobs > 0 && resp.body.len() > 1 {
            f.truncate_blobs -= 1;
            let half = resp.body.len() / 2;
            resp.body.truncate(half);
        } else if is_blob && f.cut_blobs > 0 && resp.body.len() > 1 {
            f.cut_blobs -= 1;
            cut = true;
        }
    }
    let mut head = format!("{}\r\n", resp.start);
    for (k, v) in &resp.headers {
        let lower = k.to_ascii_lowercase();
        if lower == "transfer-encoding"
            || lower == "connection"
            || (lower == "content-length" && method != "HEAD")
        {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "HEAD" {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    if let Some(subject) = oci_subject {
        // A registry with the referrers API says it processed the subject.
        head.push_str(&format!("OCI-Subject: {subject}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    client.write_all(head.as_bytes())?;
    if cut {
        client.write_all(&resp.body[..resp.body.len() / 2])?;
        return client.shutdown(std::net::Shutdown::Both);
    }
    client.write_all(&resp.body)?;
    client.flush()
}

/// `/v2/<name><marker><rest>` → (name, rest), the name being everything before the last marker.
fn split_v2(path: &str, marker: &str) -> Option<(String, String)> {
    let inner = path.strip_prefix("/v2/")?;
    let at = inner.rfind(marker)?;
    Some((
        inner[..at].to_owned(),
        inner[at + marker.len()..].to_owned(),
    ))
}

/// The `subject.digest` of a manifest body, if it has one.
fn subject_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["subject"]["digest"].as_str().map(str::to_owned)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(x);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP answer: status, headers, body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// One plain HTTP/1.1 exchange (one request per connection): status, headers, body.
pub fn roundtrip(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut conn = TcpStream::connect(addr)?;
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    conn.write_all(out.as_bytes())?;
    conn.write_all(body)?;
    let mut r = BufReader::new(conn);
    let m = read_message(&mut r, method != "HEAD", true)?
        .ok_or_else(|| std::io::Error::other("no answer"))?;
    let status = m
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, m.headers, m.body))
}

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// `GET /v2/<name>/referrers/<digest>[?artifactType=…]` per distribution-spec v1.1: `200` and an
/// image index of descriptors (`mediaType`, `digest`, `size`, `artifactType` — the manifest's,
/// else its config's media type, omitted for an index without one — and its `annotations`) of
/// every manifest in `<name>` whose `subject.digest` is `<digest>`; an empty list when none;
/// `400` for a malformed digest; `OCI-Filters-Applied: artifactType` when the filter was
/// applied. Candidates are the manifests with a subject pushed through this proxy and those
/// listed in the registry's `sha256-<hex>` fallback tag ("Enabling the Referrers API"); each
/// is read back from the registry by digest and checked, so the answer is the registry's.
fn referrers(
    client: &mut TcpStream,
    upstream: &str,
    shared: &Shared,
    name: &str,
    rest: &str,
) -> std::io::Result<()> {
    let (digest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        let body = r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#;
        return client.write_all(
            format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
    let filter = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "artifactType")
        .map(|(_, v)| percent_decode(v))
        .filter(|v| !v.is_empty());
    let mut candidates: BTreeSet<String> = shared
        .with_subject
        .lock()
        .expect("with_subject")
        .get(name)
        .cloned()
        .unwrap_or_default();
    let tag_path = format!("/v2/{name}/manifests/sha256-{hex}");
    if let Ok((200, _, body)) = roundtrip(upstream, "GET", &tag_path, &[("Accept", OCI_INDEX)], b"")
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body)
    {
        for d in v["manifests"].as_array().into_iter().flatten() {
            if let Some(d) = d["digest"].as_str() {
                candidates.insert(d.to_owned());
            }
        }
    }
    let mut manifests = Vec::new();
    for candidate in candidates {
        let path = format!("/v2/{name}/manifests/{candidate}");
        let Ok((200, headers, body)) =
            roundtrip(upstream, "GET", &path, &[("Accept", MANIFEST_ACCEPT)], b"")
        else {
            continue; // deleted, or never made it
        };
        if cicd::oci::digest::sha256(&body) != candidate {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
            continue;
        };
        if v["subject"]["digest"].as_str() != Some(digest) {
            continue;
        }
        let media_type = v["mediaType"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, t)| t.clone())
            })
            .unwrap_or_default();
        let artifact_type = v["artifactType"]
            .as_str()
            .filter(|t| !t.is_empty())
            .or_else(|| v["config"]["mediaType"].as_str())
            .map(str::to_owned);
        if let Some(f) = &filter
            && artifact_type.as_deref() != Some(f.as_str())
        {
            continue;
        }
        let mut d = serde_json::json!({
            "mediaType": media_type,
            "digest": candidate,
            "size": body.len(),
        });
        if let Some(t) = artifact_type {
            d["artifactType"] = t.into();
        }
        if let Some(a) = v["annotations"].as_object().filter(|a| !a.is_empty()) {
            d["annotations"] = a.clone().into();
        }
        manifests.push(d);
    }
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    })
    .to_string();
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {OCI_INDEX}\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Length: {}\r\n",
        body.len()
    );
    if filter.is_some() {
        head.push_str("OCI-Filters-Applied: artifactType\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    client.write_all(head.as_bytes())?;
    client.write_all(body.as_bytes())?;
    client.flush()
}
