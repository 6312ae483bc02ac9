//! `cicd image inspect|copy|tag|login`: flags, environment and stdin → a [`Request`]; the
//! `oci` operations → an [`Outcome`]; rendered as plain text or JSON, plus the Actions
//! `digest` output.

use std::io::{Read, Write};
use std::path::PathBuf;

use secrecy::SecretString;

use crate::cli::ImageCommand;
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::oci::auth::{self, Credential, PASSWORD_ENV, USERNAME_ENV};
use crate::oci::copy::{Copied, Copier};
use crate::oci::error::OciError;
use crate::oci::inspect::{Inspection, inspect};
use crate::oci::manifest::Platform;
use crate::oci::progress::Progress;
use crate::oci::reference::registry_host;
use crate::oci::registry::Options;
use crate::oci::store::Context;
use crate::oci::tag::{self, Tagged};
use crate::oci::transport::Location;

/// One image command, validated.
pub struct Request {
    pub action: Action,
    pub opts: Options,
    pub json: bool,
}

pub enum Action {
    Inspect(Location),
    Copy {
        from: Location,
        to: Location,
        platform: Option<Platform>,
    },
    Tag {
        image: Location,
        tags: Vec<String>,
    },
    Login {
        host: String,
        credential: Credential,
    },
}

pub enum Outcome {
    Inspected(Inspection),
    Copied(Copied),
    Tagged(Tagged),
    LoggedIn { host: String, config: PathBuf },
}

impl Request {
    pub fn new(cmd: &ImageCommand, offline: bool) -> Result<Self, OciError> {
        let (action, registry, json) = match cmd {
            ImageCommand::Inspect(a) => (
                Action::Inspect(Location::parse(&a.reference)?),
                &a.registry,
                a.json,
            ),
            ImageCommand::Copy(a) => {
                let to = Location::parse(&a.destination)?;
                if to.digest().is_some() {
                    return Err(OciError::Unsupported(format!(
                        "destination {to} names a digest; give a repository or a tag (the digest is kept)"
                    )));
                }
                let platform = match &a.platform {
                    Some(p) => Some(Platform::parse(p).ok_or_else(|| {
                        OciError::Unsupported(format!(
                            "--platform `{p}`: expected os/arch[/variant]"
                        ))
                    })?),
                    None => None,
                };
                let from = Location::parse(&a.source)?;
                (Action::Copy { from, to, platform }, &a.registry, a.json)
            }
            ImageCommand::Tag(a) => {
                tag::validate(&a.tags)?;
                let image = Location::parse(&a.reference)?;
                let tags = a.tags.clone();
                (Action::Tag { image, tags }, &a.registry, a.json)
            }
            ImageCommand::Login(a) => {
                if offline {
                    return Err(OciError::Unsupported(
                        "cicd image login checks the credential with the registry; --offline forbids that".into(),
                    ));
                }
                let credential = login_credential(a.username.as_deref(), a.password_stdin)?;
                let host = registry_host(&a.registry_host).map_err(OciError::Syntax)?;
                (Action::Login { host, credential }, &a.registry, false)
            }
        };
        let req = Self {
            action,
            opts: super::registry::options(registry),
            json,
        };
        if offline && let Some(l) = req.locations().into_iter().find(|l| !l.is_layout()) {
            return Err(OciError::Unsupported(format!(
                "{l} is a registry and --offline forbids the network; use an oci:PATH layout"
            )));
        }
        Ok(req)
    }

    fn locations(&self) -> Vec<&Location> {
        match &self.action {
            Action::Inspect(l) | Action::Tag { image: l, .. } => vec![l],
            Action::Copy { from, to, .. } => vec![from, to],
            Action::Login { .. } => Vec::new(),
        }
    }
}

pub fn run(cmd: &ImageCommand, offline: bool) -> Result<Exit, Error> {
    let req = Request::new(cmd, offline)?;
    let runtime = Runtime::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))?;
    // No `::add-mask::` for a login password: cicd never prints it, and the mask command
    // itself would put the password in the log stream (and in any file stdout goes to).
    let mut out = Vec::new();
    let outcome = rt.block_on(execute(&req, Progress::new(show_progress(&runtime))))?;
    render(&outcome, req.json, &mut out).map_err(stdout_err)?;
    let digest = match &outcome {
        Outcome::Inspected(i) => Some(i.digest.as_str()),
        Outcome::Copied(c) => Some(c.digest.as_str()),
        Outcome::Tagged(t) => Some(t.digest.as_str()),
        Outcome::LoggedIn { .. } => None,
    };
    if let Some(d) = digest {
        runtime
            .set_output("digest", d)
            .map_err(|source| Error::Write {
                path: PathBuf::from("$GITHUB_OUTPUT"),
                source,
            })?;
    }
    super::deliver(None, &out)?;
    Ok(Exit::Ok)
}

fn stdout_err(source: std::io::Error) -> Error {
    Error::Write {
        path: PathBuf::from("<stdout>"),
        source,
    }
}

pub async fn execute(req: &Request, progress: Progress) -> Result<Outcome, OciError> {
    let context = || Context::new(req.opts.clone(), super::registry::credential_sources());
    Ok(match &req.action {
        Action::Inspect(loc) => {
            Outcome::Inspected(inspect(&context()?.store(loc, false)?, loc).await?)
        }
        Action::Copy { from, to, platform } => {
            let ctx = context()?;
            let src = ctx.store(from, false)?;
            let dst = ctx.store(to, true)?;
            let mut copier = Copier::new(&src, &dst);
            copier.progress = progress;
            Outcome::Copied(copier.run(from, to, platform.as_ref()).await?)
        }
        Action::Tag { image, tags } => {
            let store = context()?.store(image, false)?;
            Outcome::Tagged(tag::tag(&store, image, tags).await?)
        }
        Action::Login { host, credential } => {
            let config = auth::docker_config_path().ok_or_else(|| {
                OciError::Credentials("no HOME or DOCKER_CONFIG to find config.json in".into())
            })?;
            let config =
                crate::oci::login::login(host, credential.clone(), &req.opts, &config).await?;
            Outcome::LoggedIn {
                host: host.clone(),
                config,
            }
        }
    })
}

fn render(outcome: &Outcome, json: bool, out: &mut Vec<u8>) -> std::io::Result<()> {
    if json {
        match outcome {
            Outcome::Inspected(i) => serde_json::to_writer_pretty(&mut *out, i),
            Outcome::Copied(c) => serde_json::to_writer_pretty(&mut *out, c),
            Outcome::Tagged(t) => serde_json::to_writer_pretty(&mut *out, t),
            Outcome::LoggedIn { host, config } => serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({"registry": host, "config": config}),
            ),
        }?;
        return writeln!(out);
    }
    match outcome {
        Outcome::Inspected(found) => {
            writeln!(
                out,
                "{}\n  digest     {}\n  media type {}",
                found.reference, found.digest, found.media_type
            )?;
            for m in &found.manifests {
                let n = m.layers.len();
                writeln!(
                    out,
                    "  {:<16} {} ({n} layer{}, {} bytes)",
                    m.platform.as_deref().unwrap_or("-"),
                    m.digest,
                    if n == 1 { "" } else { "s" },
                    m.total_size
                )?;
            }
            for a in &found.attachments {
                writeln!(out, "  attached   {} -> {}", a.tag, a.digest)?;
            }
            Ok(())
        }
        Outcome::Copied(c) => writeln!(
            out,
            "copied {} -> {}\n  digest {}\n  manifests {}, blobs copied {}, already there {}, mounted {}, attachments {}",
            c.source,
            c.destination,
            c.digest,
            c.manifests.len(),
            c.blobs_copied,
            c.blobs_skipped,
            c.blobs_mounted,
            c.attachments.len()
        ),
        Outcome::Tagged(t) => writeln!(out, "tagged {} as {}", t.digest, t.tags.join(", ")),
        Outcome::LoggedIn { host, config } => writeln!(
            out,
            "logged in to {host}; credentials saved in {}",
            config.display()
        ),
    }
}

/// The user from `--username` or `CICD_REGISTRY_USERNAME`, the password from stdin or
/// `CICD_REGISTRY_PASSWORD`.
fn login_credential(username: Option<&str>, from_stdin: bool) -> Result<Credential, OciError> {
    let username = username
        .map(str::to_owned)
        .or_else(|| std::env::var(USERNAME_ENV).ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| {
            OciError::Credentials(format!(
                "no user name: pass --username or set {USERNAME_ENV}"
            ))
        })?;
    let password = if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| OciError::Io {
                path: PathBuf::from("<stdin>"),
                source: e,
            })?;
        s.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        std::env::var(PASSWORD_ENV).unwrap_or_default()
    };
    if password.is_empty() {
        return Err(OciError::Credentials(format!(
            "no password: pipe it to --password-stdin or set {PASSWORD_ENV}"
        )));
    }
    Ok(Credential {
        username,
        password: SecretString::from(password),
        source: "cicd image login".into(),
    })
}

/// Progress bars for people: stderr is a terminal and this is not CI.
fn show_progress(runtime: &Runtime) -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && !runtime.active
        && std::env::var_os("CI").is_none_or(|v| v.is_empty())
}
