//! A real CNCF distribution registry (`docker-registry`) on a random loopback port, in three
//! variants (plain, htpasswd, TLS with a CA made here), started once per test binary and
//! killed when the test process ends (its shell wrapper waits on our stdin).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::require_tool;

pub const USER: &str = "tester";
pub const PASSWORD: &str = "Pw-9f2c-never-print-me";

pub struct Registry {
    pub addr: String,
    /// The CA that signed the TLS variant's certificate.
    pub ca: Option<PathBuf>,
    pub dir: tempfile::TempDir,
    /// The token service of the bearer variant.
    pub token: Option<super::token::TokenServer>,
    _child: Mutex<(Child, ChildStdin)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Plain,
    Htpasswd,
    Tls,
    Token,
}

pub fn plain() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::start(Variant::Plain))
}

pub fn htpasswd() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::start(Variant::Htpasswd))
}

pub fn tls() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::start(Variant::Tls))
}

pub fn token() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::start(Variant::Token))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Registry {
    fn start(variant: Variant) -> Self {
        let bin = require_tool("docker-registry", "apt-get install docker-registry");
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("store").display()
        );
        let mut ca = None;
        if variant == Variant::Htpasswd {
            let htpasswd = require_tool("htpasswd", "apt-get install apache2-utils");
            let file = dir.path().join("htpasswd");
            let ok = Command::new(htpasswd)
                .args(["-Bbc"])
                .arg(&file)
                .args([USER, PASSWORD])
                .output()
                .expect("run htpasswd")
                .status
                .success();
            assert!(ok, "htpasswd failed");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: cicd-test\n    path: {}\n",
                file.display()
            ));
        }
        let mut token = None;
        if variant == Variant::Token {
            let server = super::token::TokenServer::start(dir.path());
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                server.realm,
                super::token::SERVICE,
                super::token::ISSUER,
                server.cert.display()
            ));
            token = Some(server);
        }
        if variant == Variant::Tls {
            let (ca_pem, cert, key) = make_certs(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
            ca = Some(ca_pem);
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).expect("write config");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("\"$0\" serve \"$1\" >\"$2\" 2>&1 & p=$!; read _ignored; kill $p")
            .arg(&bin)
            .arg(&cfg)
            .arg(dir.path().join("registry.log"))
            .stdin(Stdio::piped())
            .spawn()
            .expect("start docker-registry");
        let stdin = child.stdin.take().expect("stdin");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start: {}",
                std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            addr,
            ca,
            dir,
            token,
            _child: Mutex::new((child, stdin)),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Ok(mut c) = self._child.lock() {
            let _ = c.1.write_all(b"\n");
            let _ = c.0.wait();
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 it signed, made with openssl.
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = require_tool("openssl", "apt-get install openssl");
    let p = |n: &str| dir.join(n);
    let run = |args: &[&str]| {
        let out = Command::new(&openssl)
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=cicd test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    (p("ca.pem"), p("server.pem"), p("server.key"))
}
