//! A fault-injecting HTTP reverse proxy between cicd and a registry: answers 5xx/429 with
//! `Retry-After`, cuts blob bodies off mid-way, truncates them, flips a byte of a blob or a
//! manifest, and counts the blob bytes uploaded through it. One request per connection.

use std::collections::VecDeque;
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
}

impl Proxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("addr").to_string();
        let faults = Arc::new(Mutex::new(Faults::default()));
        let uploaded = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let patches = Arc::new(AtomicU64::new(0));
        let ranged = Arc::new(AtomicU64::new(0));
        let (f, u, r, p, up) = (
            faults.clone(),
            uploaded.clone(),
            (requests.clone(), ranged.clone()),
            patches.clone(),
            upstream.to_owned(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (f, u, r, p, up) = (f.clone(), u.clone(), r.clone(), p.clone(), up.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &up, &f, &u, &r, &p);
                });
            }
        });
        Self {
            addr,
            patches,
            ranged,
            faults,
            uploaded,
            requests,
        }
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

fn serve(
    client: TcpStream,
    upstream: &str,
    faults: &Mutex<Faults>,
    uploaded: &AtomicU64,
    (requests, ranged): &(Arc<AtomicU64>, Arc<AtomicU64>),
    patches: &AtomicU64,
) -> std::io::Result<()> {
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
    head.push_str("Connection: close\r\n\r\n");
    client.write_all(head.as_bytes())?;
    if cut {
        client.write_all(&resp.body[..resp.body.len() / 2])?;
        return client.shutdown(std::net::Shutdown::Both);
    }
    client.write_all(&resp.body)?;
    client.flush()
}
