//! Where registry credentials come from, in order: `CICD_REGISTRY_USERNAME`/`_PASSWORD`;
//! `REGISTRY_AUTH_FILE` or containers `auth.json`; Docker's `config.json` (`credHelpers`,
//! `auths`, `credsStore` via `docker-credential-*`); then fallbacks the caller passes in (the
//! command gives GitHub's token for ghcr.io). Passwords are [`SecretString`]s and never
//! reach Debug, Display or an error message.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::error::OciError;

pub const USERNAME_ENV: &str = "CICD_REGISTRY_USERNAME";
pub const PASSWORD_ENV: &str = "CICD_REGISTRY_PASSWORD";
/// When set, the two variables above are for this `host[:port]` only (so a pull from
/// Docker Hub does not send a private registry's password there).
pub const HOST_ENV: &str = "CICD_REGISTRY_HOST";
const IDENTITY_TOKEN_USER: &str = "<token>";
/// A Docker `config.json` holds a few credentials; a larger one is refused, not read on.
const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// The key Docker files Docker Hub credentials under.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Clone)]
pub struct Credential {
    pub username: String,
    pub password: SecretString,
    /// Where it came from, for error messages (`config.json`, an env var name …).
    pub source: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("source", &self.source)
            .finish()
    }
}

impl Credential {
    /// Docker marks an identity (OAuth refresh) token with the user name `<token>`.
    pub fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }

    /// `Basic base64(user:password)`.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password.expose_secret());
        format!("Basic {}", STANDARD.encode(raw))
    }
}

/// The environment credentials are looked up in; tests and `login` build one explicitly.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub env_username: Option<String>,
    pub env_password: Option<SecretString>,
    pub env_host: Option<String>,
    pub auth_file: Option<PathBuf>,
    pub docker_config: Option<PathBuf>,
    /// Credentials the caller knows of for particular hosts (the command passes GitHub's
    /// token for `ghcr.io`), tried after everything above.
    pub fallback: Vec<(String, Credential)>,
    /// The command that logs in (`cicd image login`), named by the caller for messages.
    pub login_command: Option<String>,
}

impl Sources {
    pub fn from_env() -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let auth_file = var("REGISTRY_AUTH_FILE").map(PathBuf::from).or_else(|| {
            var("XDG_RUNTIME_DIR").map(|d| PathBuf::from(d).join("containers/auth.json"))
        });
        Self {
            env_username: var(USERNAME_ENV),
            env_password: var(PASSWORD_ENV).map(SecretString::from),
            env_host: var(HOST_ENV),
            auth_file,
            docker_config: docker_config_path(),
            fallback: Vec::new(),
            login_command: None,
        }
    }

    /// Adds `credential` for `host`, used when no other source has one.
    pub fn with_fallback(mut self, host: &str, credential: Credential) -> Self {
        self.fallback.push((host.to_owned(), credential));
        self
    }

    /// The credential for `registry` (`host[:port]`), or `None` for anonymous access.
    pub fn lookup(&self, registry: &str) -> Result<Option<Credential>, OciError> {
        if let Some(password) = &self.env_password
            && self.env_host.as_deref().is_none_or(|h| h == registry)
        {
            return Ok(Some(Credential {
                username: self.env_username.clone().unwrap_or_default(),
                password: password.clone(),
                source: format!("{USERNAME_ENV}/{PASSWORD_ENV}"),
            }));
        }
        if let Some(path) = &self.auth_file
            && let Some(cfg) = read_json(path)?
            && let Some(c) = from_auths(&cfg, registry, path)?
        {
            return Ok(Some(c));
        }
        if let Some(path) = &self.docker_config
            && let Some(cfg) = read_json(path)?
        {
            let key = server_key(registry);
            if let Some(helper) = cfg
                .get("credHelpers")
                .and_then(|h| h.get(registry).or_else(|| h.get(&key)))
                .and_then(Value::as_str)
            {
                return helper_get(helper, &key);
            }
            if let Some(c) = from_auths(&cfg, registry, path)? {
                return Ok(Some(c));
            }
            if let Some(store) = cfg.get("credsStore").and_then(Value::as_str)
                && let Some(c) = helper_get(store, &key)?
            {
                return Ok(Some(c));
            }
        }
        Ok(self
            .fallback
            .iter()
            .find(|(host, _)| host == registry)
            .map(|(_, c)| c.clone()))
    }
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// How Docker names a registry in `config.json`.
pub fn server_key(registry: &str) -> String {
    if registry == super::reference::DEFAULT_REGISTRY {
        DOCKER_HUB_KEY.to_owned()
    } else {
        registry.to_owned()
    }
}

fn read_json(path: &Path) -> Result<Option<Value>, OciError> {
    match crate::fs::read_bounded(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            OciError::Credentials(format!("{} is not valid JSON: {e}", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // Unreadable or over the cap: the user's file to fix (exit 2), not an outside failure.
        Err(e) => Err(OciError::Credentials(format!("{}: {e}", path.display()))),
    }
}

/// An `auths` entry, matched on `host`, `https://host`, `http://host` or the Docker Hub key.
fn from_auths(cfg: &Value, registry: &str, path: &Path) -> Result<Option<Credential>, OciError> {
    let Some(auths) = cfg.get("auths").and_then(Value::as_object) else {
        return Ok(None);
    };
    let key = server_key(registry);
    let entry = auths.iter().find(|(k, _)| {
        let k = k.trim_end_matches('/');
        let bare = k
            .strip_prefix("https://")
            .or_else(|| k.strip_prefix("http://"))
            .unwrap_or(k);
        let bare = bare.strip_suffix("/v1").unwrap_or(bare);
        bare == registry || k == key.trim_end_matches('/')
    });
    let Some((_, entry)) = entry else {
        return Ok(None);
    };
    let source = path.display().to_string();
    if let Some(auth) = entry
        .get("auth")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        let decoded = STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                OciError::Credentials(format!(
                    "the `auth` entry for {registry} in {source} is not base64 of user:password"
                ))
            })?;
        let Some((user, pass)) = decoded.split_once(':') else {
            return Err(OciError::Credentials(format!(
                "the `auth` entry for {registry} in {source} is not base64 of user:password"
            )));
        };
        return Ok(Some(Credential {
            username: user.to_owned(),
            password: SecretString::from(pass.to_owned()),
            source,
        }));
    }
    let text = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let (Some(user), Some(pass)) = (text("username"), text("password")) {
        return Ok(Some(Credential {
            username: user.to_owned(),
            password: SecretString::from(pass.to_owned()),
            source,
        }));
    }
    if let Some(token) = text("identitytoken") {
        return Ok(Some(Credential {
            username: IDENTITY_TOKEN_USER.into(),
            password: SecretString::from(token.to_owned()),
            source,
        }));
    }
    Ok(None)
}

/// `docker-credential-<helper> get`, which reads the server URL on stdin.
fn helper_get(helper: &str, server: &str) -> Result<Option<Credential>, OciError> {
    if helper.is_empty() || helper.contains(['/', '\\']) {
        return Err(OciError::Credentials(format!(
            "credential helper name `{helper}` is not valid"
        )));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            OciError::Credentials(format!(
                "could not run {program} (named in the Docker config): {e}; install it or remove it from credHelpers/credsStore"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| OciError::Credentials(format!("{program} failed: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // Helpers say "credentials not found in native keychain" for an unknown server.
        if stdout.contains("not found")
            || String::from_utf8_lossy(&out.stderr).contains("not found")
        {
            return Ok(None);
        }
        return Err(OciError::Credentials(format!(
            "{program} get {server} failed with {}",
            out.status
        )));
    }
    let v: Value = serde_json::from_str(&stdout).map_err(|_| {
        OciError::Credentials(format!(
            "{program} get {server} did not print credentials JSON"
        ))
    })?;
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let secret = field("Secret");
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credential {
        username: field("Username"),
        password: SecretString::from(secret),
        source: program,
    }))
}

/// Records `cred` for `registry` in a Docker `config.json` (created when missing, mode 0600),
/// keeping every other entry; what `docker login` writes without a credential store.
pub fn save_to_docker_config(
    path: &Path,
    registry: &str,
    cred: &Credential,
) -> Result<(), OciError> {
    let mut cfg = read_json(path)?.unwrap_or_else(|| serde_json::json!({}));
    let Some(obj) = cfg.as_object_mut() else {
        return Err(OciError::Credentials(format!(
            "{} is not a JSON object",
            path.display()
        )));
    };
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    let Some(auths) = auths.as_object_mut() else {
        return Err(OciError::Credentials(format!(
            "`auths` in {} is not an object",
            path.display()
        )));
    };
    let raw = format!("{}:{}", cred.username, cred.password.expose_secret());
    auths.insert(
        server_key(registry),
        serde_json::json!({ "auth": STANDARD.encode(raw) }),
    );
    let bytes =
        serde_json::to_vec_pretty(&cfg).map_err(|e| OciError::Credentials(e.to_string()))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(OciError::io(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(OciError::io(dir))?;
    tmp.as_file_mut()
        .write_all(&bytes)
        .map_err(OciError::io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(OciError::io(path))?;
    }
    tmp.persist(path).map_err(|e| OciError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_docker_config_forms() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = dir.path().join("config.json");
        let auth = STANDARD.encode("alice:pw1");
        std::fs::write(
            &cfg,
            format!(
                r#"{{"auths":{{"https://reg.example:5000":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"username":"bob","password":"pw2"}}}}}}"#
            ),
        )
        .expect("write");
        let s = Sources {
            docker_config: Some(cfg),
            ..Sources::default()
        };
        let c = s.lookup("reg.example:5000").expect("ok").expect("found");
        assert_eq!(c.username, "alice");
        assert_eq!(c.password.expose_secret(), "pw1");
        assert!(!format!("{c:?}").contains("pw1"));
        assert_eq!(
            s.lookup("docker.io").expect("ok").expect("hub").username,
            "bob"
        );
        assert!(s.lookup("other.example").expect("ok").is_none());
    }

    #[test]
    fn login_round_trips_and_keeps_other_entries() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = dir.path().join("d/config.json");
        std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
        std::fs::write(
            &cfg,
            r#"{"credHelpers":{"x.example":"none"},"auths":{"o.example":{"auth":"bzpw"}}}"#,
        )
        .expect("write");
        let cred = Credential {
            username: "me".into(),
            password: SecretString::from("s3cret"),
            source: "test".into(),
        };
        save_to_docker_config(&cfg, "127.0.0.1:5000", &cred).expect("save");
        let s = Sources {
            docker_config: Some(cfg.clone()),
            ..Sources::default()
        };
        let back = s.lookup("127.0.0.1:5000").expect("ok").expect("found");
        assert_eq!(back.password.expose_secret(), "s3cret");
        assert_eq!(
            s.lookup("o.example").expect("ok").expect("kept").username,
            "o"
        );
        let text = std::fs::read_to_string(&cfg).expect("read");
        assert!(text.contains("credHelpers"));
    }

    #[test]
    fn env_credentials_can_be_scoped_to_one_host() {
        let s = Sources {
            env_username: Some("u".into()),
            env_password: Some(SecretString::from("p")),
            env_host: Some("ghcr.io".into()),
            ..Sources::default()
        };
        assert!(s.lookup("ghcr.io").expect("ok").is_some());
        assert!(s.lookup("docker.io").expect("ok").is_none());
    }

    #[test]
    fn env_wins_and_fallbacks_come_last() {
        let token = Credential {
            username: "actor".into(),
            password: SecretString::from("t"),
            source: "GITHUB_TOKEN".into(),
        };
        let s = Sources {
            env_username: Some("u".into()),
            env_password: Some(SecretString::from("p")),
            ..Sources::default()
        }
        .with_fallback("ghcr.io", token.clone());
        assert_eq!(s.lookup("ghcr.io").expect("ok").expect("env").username, "u");
        let s = Sources::default().with_fallback("ghcr.io", token);
        let c = s.lookup("ghcr.io").expect("ok").expect("token");
        assert_eq!(c.password.expose_secret(), "t");
        assert!(s.lookup("quay.io").expect("ok").is_none());
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = dir.path().join("config.json");
        std::fs::write(&cfg, r#"{"auths":{"r.example":{"auth":"!!"}}}"#).expect("write");
        let s = Sources {
            docker_config: Some(cfg.clone()),
            ..Sources::default()
        };
        assert!(s.lookup("r.example").is_err());
        std::fs::write(&cfg, "not json").expect("write");
        assert!(s.lookup("r.example").is_err());
    }
}
