//! A real Git smart-HTTP server on 127.0.0.1: `git http-backend` run as CGI behind a tiny
//! HTTP/1.1 front, serving bare repositories made by the test, counting every request.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct GitServer {
    pub url: String,
    root: tempfile::TempDir,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl GitServer {
    pub fn start() -> Self {
        super::require_tool("git", "apt-get install git");
        let root = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (project_root, log, stopping) =
            (root.path().to_path_buf(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (project_root, log) = (project_root.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &project_root, &log);
                });
            }
        });
        Self {
            url: format!("http://{addr}"),
            root,
            requests,
            stop,
            addr,
        }
    }

    /// The bare repository behind `owner/name`.
    pub fn bare(&self, owner: &str, name: &str) -> PathBuf {
        self.root.path().join(owner).join(format!("{name}.git"))
    }

    /// `METHOD /path?query` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// A bare repository `owner/name` served by this server, filled by `fill` which gets a
    /// work tree whose pushes go to it.
    pub fn repo(&self, owner: &str, name: &str, fill: impl FnOnce(&Repo)) {
        self.repo_with(owner, name, false, fill);
    }

    /// Like [`GitServer::repo`]; `filters` lets clients fetch with `filter` (as GitHub does).
    pub fn repo_with(&self, owner: &str, name: &str, filters: bool, fill: impl FnOnce(&Repo)) {
        let bare = self.root.path().join(owner).join(format!("{name}.git"));
        std::fs::create_dir_all(&bare).expect("mkdir");
        git(&bare, &["init", "--quiet", "--bare"], &[]);
        if filters {
            git(&bare, &["config", "uploadpack.allowFilter", "true"], &[]);
        }
        let work = tempfile::tempdir().expect("work tree");
        git(work.path(), &["init", "--quiet", "-b", "main"], &[]);
        let repo = Repo {
            dir: work.path().to_path_buf(),
        };
        fill(&repo);
        git(
            work.path(),
            &["push", "--quiet", "--mirror", bare.to_str().expect("utf-8")],
            &[],
        );
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// A work tree being filled with commits, tags and branches.
pub struct Repo {
    dir: PathBuf,
}

impl Repo {
    /// A commit dated `date` (e.g. `2026-01-01T00:00:00Z`); returns its id.
    pub fn commit(&self, message: &str, date: &str) -> String {
        std::fs::write(self.dir.join("file"), message).expect("write");
        let env = [("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)];
        git(&self.dir, &["add", "file"], &env);
        git(&self.dir, &["commit", "--quiet", "-m", message], &env);
        self.rev("HEAD")
    }

    pub fn tag(&self, name: &str) {
        git(&self.dir, &["tag", name], &[]);
    }

    pub fn annotated_tag(&self, name: &str) {
        git(&self.dir, &["tag", "-a", name, "-m", name], &[]);
    }

    pub fn branch(&self, name: &str) {
        git(&self.dir, &["branch", "-f", name], &[]);
    }

    /// Points any ref (e.g. `refs/pull/1/head`, as a fork's pull request leaves behind) at `sha`.
    pub fn update_ref(&self, name: &str, sha: &str) {
        git(&self.dir, &["update-ref", name, sha], &[]);
    }

    pub fn reset_hard(&self, rev: &str) {
        git(&self.dir, &["reset", "--quiet", "--hard", rev], &[]);
    }

    pub fn checkout_new(&self, name: &str) {
        git(&self.dir, &["checkout", "--quiet", "-b", name], &[]);
    }

    pub fn rev(&self, rev: &str) -> String {
        let out = Command::new("git")
            .args(["rev-parse", rev])
            .current_dir(&self.dir)
            .output()
            .expect("git rev-parse");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

fn git(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=cicd tests",
            "-c",
            "user.email=tests@cicd.invalid",
            "-c",
            "tag.gpgSign=false",
            "-c",
            "commit.gpgSign=false",
        ])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn serve(mut conn: TcpStream, root: &Path, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let request = super::http::Request::read(&conn)?;
    let (method, target, body) = (&request.method, &request.target, &request.body);
    let header = |name: &str| request.header(name).unwrap_or_default().to_owned();
    let length = body.len();
    if let Ok(mut log) = log.lock() {
        log.push(format!("{method} {target}"));
    }
    let (path, query) = request.path_and_query();
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", length.to_string())
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(body)?;
    }
    let out = child.wait_with_output()?;
    let raw = out.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, payload) = match split {
        Some((i, n)) => (
            String::from_utf8_lossy(&raw[..i]).into_owned(),
            &raw[i + n..],
        ),
        None => (String::new(), &raw[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut response = Vec::new();
    let mut extra = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_owned(),
            Some(_) => {
                extra.push_str(line.trim_end());
                extra.push_str("\r\n");
            }
            None => {}
        }
    }
    write!(
        response,
        "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    response.extend_from_slice(payload);
    conn.write_all(&response)?;
    conn.flush()
}
