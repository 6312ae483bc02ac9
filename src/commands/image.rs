//! `cicd image inspect|copy|tag|login`: flags → request → `oci` → plain text or JSON.

use std::io::{Read, Write};
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::cli::{ImageCommand, RegistryArgs};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::oci::auth::{self, Credential, PASSWORD_ENV, Sources, USERNAME_ENV};
use crate::oci::copy::Copier;
use crate::oci::error::OciError;
use crate::oci::inspect::inspect;
use crate::oci::manifest::Platform;
use crate::oci::progress::Progress;
use crate::oci::registry::Options;
use crate::oci::store::Context;
use crate::oci::transport::Location;

pub fn run(cmd: &ImageCommand, offline: bool) -> Result<Exit, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| Error::Image(OciError::Unsupported(format!("could not start: {e}"))))?;
    let mut out = Vec::new();
    let result = rt.block_on(dispatch(cmd, offline, &mut out));
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        })?;
    result.map_err(Error::Image).map(|()| Exit::Ok)
}

/// `--offline` allows image layouts only.
fn refuse_offline(offline: bool, locations: &[&Location]) -> Result<(), OciError> {
    match locations
        .iter()
        .find(|l| matches!(l, Location::Registry(_)))
    {
        Some(l) if offline => Err(OciError::Unsupported(format!(
            "{l} is a registry and --offline forbids the network; use an oci:PATH layout"
        ))),
        _ => Ok(()),
    }
}

/// Progress bars for people: stderr is a terminal and this is not CI.
fn show_progress(runtime: &Runtime) -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && !runtime.active
        && std::env::var_os("CI").is_none_or(|v| v.is_empty())
}

fn options(args: &RegistryArgs) -> Options {
    let mut ca_certs = args.ca_cert.clone();
    if ca_certs.is_empty()
        && let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty())
    {
        ca_certs.push(PathBuf::from(file));
    }
    Options {
        insecure: args.insecure_registry.clone(),
        ca_certs,
        retry: Default::default(),
        chunk_size: args.chunk_size_mib.map(|m| m.saturating_mul(1 << 20)),
    }
}

async fn dispatch(cmd: &ImageCommand, offline: bool, out: &mut Vec<u8>) -> Result<(), OciError> {
    let runtime = Runtime::from_env();
    let io = |e: std::io::Error| OciError::Io {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    match cmd {
        ImageCommand::Inspect(args) => {
            let ctx = Context::new(options(&args.registry), Sources::from_env())?;
            let loc = Location::parse(&args.reference)?;
            refuse_offline(offline, &[&loc])?;
            let store = ctx.store(&loc, false)?;
            let found = inspect(&store, &loc).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &found).map_err(|e| io(e.into()))?;
                writeln!(out).map_err(io)?;
            } else {
                writeln!(
                    out,
                    "{}\n  digest     {}\n  media type {}",
                    found.reference, found.digest, found.media_type
                )
                .map_err(io)?;
                for m in &found.manifests {
                    writeln!(
                        out,
                        "  {:<16} {} ({} layers, {} bytes)",
                        m.platform.as_deref().unwrap_or("-"),
                        m.digest,
                        m.layers.len(),
                        m.total_size
                    )
                    .map_err(io)?;
                }
                for a in &found.attachments {
                    writeln!(out, "  attached   {} -> {}", a.tag, a.digest).map_err(io)?;
                }
            }
            runtime.set_output("digest", &found.digest).map_err(io)?;
        }
        ImageCommand::Copy(args) => {
            let ctx = Context::new(options(&args.registry), Sources::from_env())?;
            let from = Location::parse(&args.source)?;
            let to = Location::parse(&args.destination)?;
            refuse_offline(offline, &[&from, &to])?;
            if to.digest().is_some() {
                return Err(OciError::Unsupported(format!(
                    "destination {to} names a digest; give a repository or a tag (the digest is kept)"
                )));
            }
            let platform = match &args.platform {
                Some(p) => Some(Platform::parse(p).ok_or_else(|| {
                    OciError::Unsupported(format!("--platform `{p}`: expected os/arch[/variant]"))
                })?),
                None => None,
            };
            let src = ctx.store(&from, false)?;
            let dst = ctx.store(&to, true)?;
            let mut copier = Copier::new(&src, &dst);
            copier.progress = Progress::new(show_progress(&runtime));
            let copied = copier.run(&from, &to, platform.as_ref()).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &copied).map_err(|e| io(e.into()))?;
                writeln!(out).map_err(io)?;
            } else {
                writeln!(
                    out,
                    "copied {} -> {}\n  digest {}\n  manifests {}, blobs copied {}, already there {}, mounted {}, attachments {}",
                    copied.source,
                    copied.destination,
                    copied.digest,
                    copied.manifests.len(),
                    copied.blobs_copied,
                    copied.blobs_skipped,
                    copied.blobs_mounted,
                    copied.attachments.len()
                )
                .map_err(io)?;
            }
            runtime.set_output("digest", &copied.digest).map_err(io)?;
        }
        ImageCommand::Tag(args) => {
            let ctx = Context::new(options(&args.registry), Sources::from_env())?;
            let loc = Location::parse(&args.reference)?;
            refuse_offline(offline, &[&loc])?;
            let store = ctx.store(&loc, false)?;
            let root = store.resolve(&loc).await?;
            let mut tagged = Vec::new();
            for tag in &args.tags {
                // Same syntax rules as a reference's tag.
                crate::oci::reference::Reference::parse(&format!("x:{tag}")).map_err(|source| {
                    OciError::Reference {
                        input: tag.clone(),
                        source,
                    }
                })?;
                store.set_tag(&root, Some(tag)).await?;
                tagged.push(tag.clone());
            }
            if args.json {
                let v =
                    json!({"digest": root.digest, "mediaType": root.media_type, "tags": tagged});
                serde_json::to_writer_pretty(&mut *out, &v).map_err(|e| io(e.into()))?;
                writeln!(out).map_err(io)?;
            } else {
                writeln!(out, "tagged {} as {}", root.digest, tagged.join(", ")).map_err(io)?;
            }
            runtime.set_output("digest", &root.digest).map_err(io)?;
        }
        ImageCommand::Login(args) => {
            if offline {
                return Err(OciError::Unsupported(
                    "cicd image login checks the credential with the registry; --offline forbids that".into(),
                ));
            }
            let username = args
                .username
                .clone()
                .or_else(|| std::env::var(USERNAME_ENV).ok().filter(|v| !v.is_empty()))
                .ok_or_else(|| {
                    OciError::Credentials(format!(
                        "no user name: pass --username or set {USERNAME_ENV}"
                    ))
                })?;
            let password = if args.password_stdin {
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
            let password = SecretString::from(password);
            let mut mask = Vec::new();
            runtime
                .mask(password.expose_secret(), &mut mask)
                .map_err(io)?;
            std::io::stdout().write_all(&mask).map_err(io)?;
            let cred = Credential {
                username,
                password,
                source: "cicd image login".into(),
            };
            let opts = options(&args.registry);
            let http = crate::oci::registry::http_client(&opts)?;
            let host = &args.registry_host;
            let registry =
                crate::oci::registry::Registry::new(host, http, &opts, Some(cred.clone()));
            registry.check_login().await?;
            let path = auth::docker_config_path().ok_or_else(|| {
                OciError::Credentials("no HOME or DOCKER_CONFIG to find config.json in".into())
            })?;
            auth::save_to_docker_config(&path, host, &cred)?;
            writeln!(
                out,
                "logged in to {host}; credentials saved in {}",
                path.display()
            )
            .map_err(io)?;
        }
    }
    Ok(())
}
