//! The one HTTP/1.1 request reader the harness's small loopback servers share (Git server,
//! REST stand-in, token server): request line, headers, and a `Content-Length` body.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;

pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn read(conn: &TcpStream) -> std::io::Result<Self> {
        let mut reader = BufReader::new(conn.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or("/").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let mut request = Self {
            method,
            target,
            headers,
            body: Vec::new(),
        };
        let length: usize = request
            .header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        request.body = vec![0; length];
        reader.read_exact(&mut request.body)?;
        Ok(request)
    }

    /// A header's value; `name` in lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(path, query)`.
    pub fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }
}

/// A loopback server that misbehaves slowly, for the timeout tests: it accepts every
/// connection and either never answers, or answers each request's headers (promising a long
/// body) and then stalls. Connections stay open until the test binary exits.
pub struct StallServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl StallServer {
    /// Accepts and never sends a byte.
    pub fn silent() -> Self {
        Self::start(None)
    }

    /// Answers `200` with this content type and a 1 MB `Content-Length`, sends 10 bytes of
    /// the body and then nothing more.
    pub fn stalling_body(content_type: &'static str) -> Self {
        Self::start(Some(content_type))
    }

    /// Answers `200` with this content type and a chunked body of zeros that never ends
    /// (a broken or hostile server streaming as fast as the client reads).
    pub fn endless_body(content_type: &'static str) -> Self {
        Self::serve(move |conn| flood(conn, content_type))
    }

    fn start(content_type: Option<&'static str>) -> Self {
        Self::serve(move |conn| hold(conn, content_type))
    }

    fn serve(handle: impl Fn(TcpStream) + Clone + Send + 'static) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let handle = handle.clone();
                std::thread::spawn(move || handle(conn));
            }
        });
        Self { addr }
    }
}

fn flood(mut conn: TcpStream, content_type: &'static str) {
    use std::io::Write;
    if Request::read(&conn).is_err() {
        return;
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut chunk = b"10000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b'0', 0x10000));
    chunk.extend_from_slice(b"\r\n");
    // Until the client hangs up.
    while conn.write_all(&chunk).is_ok() {}
}

fn hold(mut conn: TcpStream, content_type: Option<&'static str>) {
    use std::io::Write;
    if let Some(content_type) = content_type {
        // TLS handshakes never parse as a request: those connections just wait.
        while Request::read(&conn).is_ok() {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: 1000000\r\n\r\n0123456789"
            );
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            let _ = conn.flush();
        }
    }
    // Keep the connection open (and silent) until the client gives up.
    let mut sink = [0u8; 4096];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}
