//! `cicd promote`, `--rollback`, `promote history` and `promote status`: turns flags and
//! `environments:` into requests for `promote`, then prints, writes `$GITHUB_OUTPUT` and the
//! step summary, and records GitHub deployments. Policy is decided in `promote`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::promote::{HistoryArgs, PromoteArgs, PromoteCommand, StatusArgs};
use crate::cli::{CheckCommand, Cli, Command};
use crate::config::Loaded;
use crate::config::environments::{self, Environment};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::github::api::ApiError;
use crate::github::deployments::{Deployer, Deployment};
use crate::oci::digest::Digest;
use crate::oci::transport::Location;
use crate::promote::evidence::Requirements;
use crate::promote::scan::ScanGate;
use crate::promote::trust::Verifiers;
use crate::promote::{self, Outcome, PromoteError, Stamp, flow, history, rollback, status};
use crate::report::escape::plain;

pub fn run(cli: &Cli, args: &PromoteArgs) -> Result<Exit, Error> {
    let loaded = load(cli)?;
    match &args.sub {
        Some(PromoteCommand::History(h)) => run_history(&loaded, h),
        Some(PromoteCommand::Status(s)) => run_status(&loaded, s),
        None if args.rollback.is_some() => run_rollback(cli, &loaded, args),
        None => run_promote(cli, &loaded, args),
    }
}

fn load(cli: &Cli) -> Result<Loaded, Error> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::Usage(format!("current directory: {e}")))?;
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    environments::validate(&loaded)?;
    Ok(loaded)
}

fn environment<'a>(loaded: &'a Loaded, name: &str) -> Result<&'a Environment, Error> {
    loaded.config.environments.get(name).ok_or_else(|| {
        let known: Vec<&str> = loaded
            .config
            .environments
            .keys()
            .map(String::as_str)
            .collect();
        let file = loaded
            .path
            .as_ref()
            .map_or("no cicd.yaml found".into(), |p| p.display().to_string());
        Error::Usage(format!(
            "no environment `{name}` under `environments:` in {file} (known: {})",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        ))
    })
}

/// `--image`: a repository reference, or an `images:` name whose `repository:` is used.
fn image_repository(loaded: &Loaded, image: Option<&str>) -> Result<Option<Location>, Error> {
    let Some(image) = image else {
        return Ok(None);
    };
    let repo = if image.contains(['/', ':']) {
        image.to_owned()
    } else {
        let spec = loaded
            .config
            .images
            .iter()
            .find(|i| i.name == image)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--image {image}: no image of that name under `images:`"
                ))
            })?;
        spec.repository.clone().ok_or_else(|| {
            Error::Usage(format!(
                "--image {image}: its `images:` entry has no `repository:`"
            ))
        })?
    };
    Ok(Some(promote::repository_of(&Location::parse(&repo)?)))
}

/// Where `name`'s history and tag live: its `repository:`, else `fallback`.
fn env_repository(
    env: &Environment,
    name: &str,
    fallback: Option<&Location>,
) -> Result<Location, Error> {
    match (&env.repository, fallback) {
        (Some(r), _) => Ok(promote::repository_of(&Location::parse(r)?)),
        (None, Some(f)) => Ok(promote::repository_of(f)),
        (None, None) => Err(Error::Usage(format!(
            "environment `{name}` has no `repository:`; name the image's repository with --image"
        ))),
    }
}

/// What every environment's checks share within one run: the trust root (loaded at most
/// once) and `cicd check trivy`'s gate policy (read once, when a scan is required).
struct Shared {
    verifiers: Arc<Verifiers>,
    gate: Option<ScanGate>,
}

impl Shared {
    fn new() -> Self {
        Self {
            verifiers: Verifiers::from_env(),
            gate: None,
        }
    }
}

/// The requirements of each environment `cicd release` promotes to (its root environments):
/// the same key, trust root and `policy.trivy` gate as promote, loaded once for all of them.
pub(crate) fn requirements_for(
    loaded: &Loaded,
) -> impl FnMut(&Environment) -> Result<Requirements, String> + '_ {
    let mut shared = Shared::new();
    move |env| requirements(loaded, env, false, &mut shared).map_err(|e| e.to_string())
}

fn requirements(
    loaded: &Loaded,
    env: &Environment,
    ignore_tlog: bool,
    shared: &mut Shared,
) -> Result<Requirements, Error> {
    let mut req = Requirements::from_config(env, &loaded.base, ignore_tlog, &shared.verifiers)
        .map_err(promote_error)?;
    if req.scan_max_age.is_some() {
        if shared.gate.is_none() {
            shared.gate = Some(scan_gate(loaded)?);
        }
        req.scan_gate = shared.gate.clone().unwrap_or_default();
    }
    Ok(req)
}

/// `policy.trivy` and the ignore files exactly as `cicd check trivy` reads them (its own
/// functions, given the flags an unflagged `cicd check trivy` has), so a scan that passes the
/// gate passes promotion and the other way round.
fn scan_gate(loaded: &Loaded) -> Result<ScanGate, Error> {
    let argv = ["cicd", "check", "trivy", "scan-attestation.json"];
    let parsed = Cli::try_parse_from(argv).map_err(|e| Error::Usage(e.to_string()))?;
    let Command::Check(check) = &parsed.command else {
        return Err(Error::Usage("internal: check trivy did not parse".into()));
    };
    let Some(CheckCommand::Trivy(args)) = &check.sub else {
        return Err(Error::Usage("internal: check trivy did not parse".into()));
    };
    let policy = super::check_trivy::policy(loaded, args)?;
    let mut notes = Vec::new();
    let ignores = super::check_trivy::ignores(loaded, args, &mut notes)?;
    Ok(ScanGate {
        policy,
        ignores,
        notes,
    })
}

fn promote_error(e: PromoteError) -> Error {
    match e {
        PromoteError::Input(m) => Error::Usage(m),
        PromoteError::Oci(e) => Error::Image(e),
    }
}

/// Refuses (exit 2) requirements this build cannot check: never a silent pass.
fn refuse_unsupported(req: &Requirements, env: &str) -> Result<(), Error> {
    let missing = req.unsupported();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "environment `{env}` requires evidence this build cannot check; nothing was promoted: {}",
        missing.join("; ")
    )))
}

fn stamp() -> Result<Stamp, Error> {
    Stamp::from_env("local").map_err(Error::Usage)
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))
}

/// The version a promotion records: `--version`, or REF's tag when it looks like one.
fn version_of(args: &PromoteArgs, source: &Location) -> Option<String> {
    if let Some(v) = &args.version {
        return Some(v.trim_start_matches('v').to_owned());
    }
    let tag = source.tag()?;
    let v = tag.strip_prefix('v').unwrap_or(tag);
    semver::Version::parse(v).ok().map(|_| v.to_owned())
}

/// The environments from the first to `name` along `after:`.
fn chain(loaded: &Loaded, name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    let mut at = name;
    while let Some(prev) = loaded
        .config
        .environments
        .get(at)
        .and_then(|e| e.after.as_deref())
    {
        if out.iter().any(|n| n == prev) {
            break;
        }
        out.push(prev.to_owned());
        at = prev;
    }
    out.reverse();
    out
}

fn run_promote(cli: &Cli, loaded: &Loaded, args: &PromoteArgs) -> Result<Exit, Error> {
    let name = args
        .to
        .as_deref()
        .ok_or_else(|| Error::Usage("say where to promote to: --to ENV".into()))?;
    let env = environment(loaded, name)?;
    let image_repo = image_repository(loaded, args.image.as_deref())?;
    let source = match (&args.reference, &args.version, &image_repo) {
        (Some(r), _, _) => Location::parse(r)?,
        (None, Some(v), Some(repo)) => {
            let v = v.trim_start_matches('v');
            let parsed = semver::Version::parse(v)
                .map_err(|e| Error::Usage(format!("--version {v}: not X.Y.Z ({e})")))?;
            // The exact tag the release tag engine pushes for this version.
            let tag = crate::release::tags::exact_tag(&parsed);
            Location::parse(&format!("{repo}:{tag}"))?
        }
        (None, Some(_), None) => {
            return Err(Error::Usage(
                "--version needs --image NAME (whose repository holds the vX.Y.Z tag)".into(),
            ));
        }
        _ => return Err(Error::Usage("give REF or --version X.Y.Z".into())),
    };
    let requirements = requirements(loaded, env, args.insecure_ignore_tlog, &mut Shared::new())?;
    refuse_unsupported(&requirements, name)?;
    let fallback = image_repo
        .clone()
        .unwrap_or_else(|| promote::repository_of(&source));
    let destination = env_repository(env, name, Some(&fallback))?;
    let after = match &env.after {
        Some(prev) => {
            let p = environment(loaded, prev)?;
            Some((prev.clone(), env_repository(p, prev, Some(&fallback))?))
        }
        None => None,
    };
    let req = flow::Request {
        version: version_of(args, &source),
        source,
        environment: name.to_owned(),
        destination,
        tag: env.tag_for(name),
        requirements,
        after,
        dry_run: args.dry_run,
        stamp: stamp()?,
    };
    let deployer = deployer(cli)?;
    let production = env.is_production(name);
    let out = runtime()?.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        let (mut out, image) = flow::verify(&ctx, &req).await.map_err(promote_error)?;
        let Some(image) = image.filter(|_| !req.dry_run) else {
            return Ok(out);
        };
        let deployment = match &deployer {
            Some(d) => Some(start_deployment(d, &out, env, production).await?),
            None => None,
        };
        let applied = flow::apply(&ctx, &req, &image, &mut out).await;
        if let (Some(d), Some(id)) = (&deployer, deployment) {
            end_deployment(d, id, &out, env, applied.is_ok()).await?;
        }
        applied.map_err(promote_error)?;
        Ok::<_, Error>(out)
    })?;
    finish(loaded, &out, args.json)
}

fn deployer(cli: &Cli) -> Result<Option<Deployer>, Error> {
    Deployer::from_env(&cli.api_url, &cli.server_url).map_err(github_error)
}

fn github_error(e: ApiError) -> Error {
    Error::Usage(format!("GitHub deployments: {e}"))
}

/// The deployment record for an outcome about to be applied: created (or this run's
/// reused) with status `in_progress`.
async fn start_deployment(
    d: &Deployer,
    out: &Outcome,
    env: &Environment,
    production: bool,
) -> Result<u64, Error> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    let git_ref = var("GITHUB_SHA")
        .or_else(|| var("GITHUB_REF"))
        .or_else(|| out.version.as_ref().map(|v| format!("v{v}")))
        .ok_or_else(|| {
            Error::Usage(
                "GitHub deployments need a ref: set GITHUB_SHA or GITHUB_REF, or pass --version"
                    .into(),
            )
        })?;
    let deployment = Deployment {
        environment: env.github_environment_for(&out.environment),
        git_ref,
        production,
        payload: serde_json::json!({
            "image": out.destination.trim_start_matches("docker://"),
            "digest": out.digest,
            "version": out.version,
            "previous_digest": out.previous_digest,
            "rolled_back_from": out.rolled_back_from,
            "kind": out.kind,
        }),
        description: match out.kind {
            "rollback" => format!("cicd rollback of {} to {}", out.environment, out.digest),
            _ => format!("cicd promote {} to {}", out.digest, out.environment),
        },
    };
    d.start(&deployment).await.map_err(deploy_failed)
}

async fn end_deployment(
    d: &Deployer,
    id: u64,
    out: &Outcome,
    env: &Environment,
    applied: bool,
) -> Result<(), Error> {
    let ok = applied && out.promoted();
    let (state, text) = if ok {
        (
            "success",
            format!("{} is at {}", out.environment, out.digest),
        )
    } else {
        (
            "failure",
            format!("promotion of {} to {} failed", out.digest, out.environment),
        )
    };
    d.status(id, state, env.url.as_deref().filter(|_| ok), &text)
        .await
        .map_err(deploy_failed)
}

/// GitHub not answering as it should is an external failure (exit 3).
fn deploy_failed(e: ApiError) -> Error {
    Error::Write {
        path: PathBuf::from("GitHub deployments"),
        source: std::io::Error::other(e.to_string()),
    }
}

fn run_rollback(cli: &Cli, loaded: &Loaded, args: &PromoteArgs) -> Result<Exit, Error> {
    let name = args.rollback.as_deref().unwrap_or_default();
    let env = environment(loaded, name)?;
    let image_repo = image_repository(loaded, args.image.as_deref())?;
    let repository = env_repository(env, name, image_repo.as_ref())?;
    let requirements = requirements(loaded, env, args.insecure_ignore_tlog, &mut Shared::new())?;
    if !args.force {
        refuse_unsupported(&requirements, name)?;
    }
    let target = match (&args.to, args.steps) {
        (Some(d), _) => rollback::Target::Digest(
            Digest::parse(d).map_err(|e| Error::Usage(format!("--to {d}: {e}")))?,
        ),
        (None, n) => rollback::Target::Steps(n.unwrap_or(1)),
    };
    let req = rollback::Request {
        environment: name.to_owned(),
        repository,
        tag: env.tag_for(name),
        requirements,
        target,
        force: args.force,
        dry_run: args.dry_run,
        stamp: stamp()?,
    };
    let deployer = deployer(cli)?;
    let production = env.is_production(name);
    let out = runtime()?.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        let out = rollback::rollback(&ctx, &req)
            .await
            .map_err(promote_error)?;
        // Recorded once the rollback is done: a refused one records nothing.
        if let Some(d) = &deployer
            && out.promoted()
            && !out.dry_run
        {
            let id = start_deployment(d, &out, env, production).await?;
            end_deployment(d, id, &out, env, true).await?;
        }
        Ok::<_, Error>(out)
    })?;
    finish(loaded, &out, args.json)
}

/// Prints, writes outputs (only when something was promoted) and the summary; maps to exit.
fn finish(loaded: &Loaded, out: &Outcome, json: bool) -> Result<Exit, Error> {
    let rt = Runtime::from_env();
    let text = if json {
        let v = serde_json::to_vec_pretty(out).map_err(|e| Error::Usage(e.to_string()))?;
        let mut v = crate::report::escape::json(v);
        v.push(b'\n');
        String::from_utf8_lossy(&v).into_owned()
    } else {
        render(out)
    };
    super::deliver(None, text.as_bytes())?;
    let write_err = |source| Error::Write {
        path: PathBuf::from("$GITHUB_OUTPUT"),
        source,
    };
    if out.promoted() && !out.dry_run {
        rt.set_output("digest", &out.digest).map_err(write_err)?;
        rt.set_output("environment", &out.environment)
            .map_err(write_err)?;
        rt.set_output(
            "previous-digest",
            out.previous_digest.as_deref().unwrap_or(""),
        )
        .map_err(write_err)?;
    }
    let summary = promote::summary::render(out, &chain(loaded, &out.environment));
    rt.append_summary(&summary).map_err(|source| Error::Write {
        path: PathBuf::from("$GITHUB_STEP_SUMMARY"),
        source,
    })?;
    if out.promoted() {
        return Ok(Exit::Ok);
    }
    for r in &out.refused {
        eprintln!(
            "error: {}",
            plain(&format!("{} refused: {r}", out.environment))
        );
    }
    Ok(Exit::Violation)
}

fn render(out: &Outcome) -> String {
    let mut s = String::new();
    let verb = match (out.promoted(), out.dry_run, out.kind) {
        (false, _, _) => "refused",
        (true, true, _) => "would promote",
        (true, false, "rollback") => "rolled back",
        (true, false, _) => "promoted",
    };
    s.push_str(&format!(
        "{verb} {} to {} ({})\n",
        out.digest,
        plain(&out.environment),
        plain(&out.destination)
    ));
    if let Some(v) = &out.version {
        s.push_str(&format!("  version {}\n", plain(v)));
    }
    for c in out.evidence.iter().chain(&out.evidence_at_destination) {
        let mark = if c.verified { "ok  " } else { "FAIL" };
        s.push_str(&format!(
            "  {mark} {}: {}\n",
            plain(&c.evidence),
            plain(&c.detail)
        ));
    }
    if let Some(c) = &out.copied {
        s.push_str(&format!(
            "  copied {} manifests, {} blobs ({} mounted, {} bytes uploaded)\n",
            c.manifests,
            c.blobs_copied + c.blobs_mounted,
            c.blobs_mounted,
            c.bytes_uploaded
        ));
    }
    if let Some(p) = &out.previous_digest {
        s.push_str(&format!("  previous {p}\n"));
    }
    if let Some(t) = &out.history_tag {
        s.push_str(&format!("  tagged {} and {}\n", plain(&out.tag), plain(t)));
    }
    if out.forced {
        s.push_str("  forced: evidence not re-verified\n");
    }
    s
}

fn run_history(loaded: &Loaded, args: &HistoryArgs) -> Result<Exit, Error> {
    let name = &args.environment;
    let env = environment(loaded, name)?;
    let image_repo = image_repository(loaded, args.image.as_deref())?;
    let repository = env_repository(env, name, image_repo.as_ref())?;
    let entries = runtime()?.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        let store = ctx.store(&repository, false)?;
        history::read(&store, name).await.map_err(Error::Image)
    })?;
    let text = if args.json {
        let v = serde_json::to_vec_pretty(&serde_json::json!({
            "environment": name, "repository": repository.to_string(), "entries": entries,
        }))
        .map_err(|e| Error::Usage(e.to_string()))?;
        let mut v = crate::report::escape::json(v);
        v.push(b'\n');
        String::from_utf8_lossy(&v).into_owned()
    } else {
        let mut s = String::new();
        for e in &entries {
            let mark = if e.rolled_back { " (rolled back)" } else { "" };
            let kind = if e.facts.kind == "rollback" {
                " rollback"
            } else {
                ""
            };
            s.push_str(&plain(&format!(
                "{} {} {} {} {}{kind}{mark}{}",
                e.tag,
                e.digest,
                e.facts.version.as_deref().unwrap_or("-"),
                if e.facts.time.is_empty() {
                    "-"
                } else {
                    &e.facts.time
                },
                if e.facts.actor.is_empty() {
                    "-"
                } else {
                    &e.facts.actor
                },
                e.problem
                    .as_deref()
                    .map(|p| format!(" [untrusted: {p}]"))
                    .unwrap_or_default(),
            )));
            s.push('\n');
        }
        s
    };
    super::deliver(None, text.as_bytes())?;
    Ok(Exit::Ok)
}

fn run_status(loaded: &Loaded, args: &StatusArgs) -> Result<Exit, Error> {
    let reference = Location::parse(&args.reference)?;
    let fallback = promote::repository_of(&reference);
    let mut envs = Vec::new();
    let mut shared = Shared::new();
    for (name, env) in &loaded.config.environments {
        envs.push(status::Environment {
            name: name.clone(),
            repository: env_repository(env, name, Some(&fallback))?,
            tag: env.tag_for(name),
            requirements: requirements(loaded, env, args.insecure_ignore_tlog, &mut shared)?,
        });
    }
    let now = crate::time::now().map_err(Error::Usage)?;
    let report = runtime()?.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        status::status(&ctx, &reference, &envs, now)
            .await
            .map_err(promote_error)
    })?;
    let text = if args.json {
        let v = serde_json::to_vec_pretty(&report).map_err(|e| Error::Usage(e.to_string()))?;
        let mut v = crate::report::escape::json(v);
        v.push(b'\n');
        String::from_utf8_lossy(&v).into_owned()
    } else {
        let mut s = format!("{} {}\n", plain(&report.reference), report.digest);
        for e in &report.environments {
            let at = match (e.current, &e.since) {
                (true, Some(t)) => format!("current since {t}"),
                (true, None) => "current (no history entry)".into(),
                (false, _) if !e.entries.is_empty() => {
                    format!("was here ({} entries)", e.entries.len())
                }
                (false, _) => "never here".into(),
            };
            s.push_str(&format!("{}: {at}\n", plain(&e.environment)));
            for c in &e.evidence {
                let mark = if c.verified { "ok  " } else { "FAIL" };
                s.push_str(&format!(
                    "  {mark} {}: {}\n",
                    plain(&c.evidence),
                    plain(&c.detail)
                ));
            }
        }
        s
    };
    super::deliver(None, text.as_bytes())?;
    Ok(Exit::Ok)
}
