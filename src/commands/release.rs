//! `cicd release`: cicd.yaml, the version tag, `--to`, the scan reports, the signing key and
//! GitHub's environment → a [`pipeline::Request`]; its record → text or JSON, and (only after
//! everything succeeded) `$GITHUB_OUTPUT` and the step summary. `--dry-run` stops at the plan
//! and writes nothing.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::cli::Cli;
use crate::cli::release::ReleaseArgs;
use crate::config::Loaded;
use crate::config::release::Signing as ConfigSigning;
use crate::error::{Error, Exit};
use crate::release::PipelineError;
use crate::release::evidence::Signing;
use crate::release::pipeline::{self, GithubTarget, step};
use crate::release::plan::{self, ImagePlan, Plan};
use crate::release::{assets, existing, tags};

pub fn run(cli: &Cli, args: &ReleaseArgs) -> Result<Exit, Error> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::Usage(format!("current directory: {e}")))?;
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    crate::config::images::validate(&loaded)?;
    crate::config::release::validate(&loaded)?;
    if loaded.config.images.is_empty() {
        return Err(Error::Usage(
            "cicd.yaml lists no `images:`: nothing to release".into(),
        ));
    }
    let rcfg = &loaded.config.release;
    let prefix = rcfg.git_prefix();
    let github_ref = std::env::var("GITHUB_REF").ok().filter(|r| !r.is_empty());
    let version = plan::resolve_version(
        args.version.as_deref(),
        github_ref.as_deref(),
        &loaded.base,
        &prefix,
    )
    .map_err(|e| Error::Usage(e.0))?;
    let mut released = plan::released_versions(&loaded.base, &prefix);
    let mut notes_out = Vec::new();
    let destinations = destinations(&loaded, args.to.as_deref(), cli.offline)?;
    let github = github_target(cli, args, &mut notes_out)?;
    let (signing_label, signing) = signing(&loaded, args.dry_run, cli.offline, &mut notes_out)?;
    let promotion = first_environment(cli, &loaded, github.is_some())?;
    let gate = super::release_gate::evaluate(cli, &args.scan_reports, &mut notes_out)?;
    let extra_assets =
        assets::from_globs(&loaded.base, &rcfg.assets).map_err(|e| Error::Usage(e.0))?;
    let dist = if args.dist.is_absolute() {
        args.dist.clone()
    } else {
        cwd.join(&args.dist)
    };
    // git is read (the changelog, the source labels) on its own thread while the registry
    // and GitHub are asked what they hold; joined only when the release goes ahead.
    let git = {
        let (base, rcfg, v) = (loaded.base.clone(), rcfg.clone(), version.version.clone());
        let to = match version.source {
            plan::VersionSource::Flag => "HEAD".to_owned(),
            _ => version.git_tag.clone(),
        };
        std::thread::spawn(move || read_git(&base, &rcfg, &v, &to))
    };
    let ctx = super::registry::context(&args.registry)?;
    let rt = runtime()?;
    if let Some(gh) = &github {
        released.extend(github_versions(&rt, gh, &prefix)?);
    }
    // Every destination's tags at once (what the plan shows, and what the tags are set from).
    let listed = rt.block_on(futures_util::future::try_join_all(destinations.iter().map(
        |destination| {
            let ctx = &ctx;
            async move {
                if cli.offline && !destination.starts_with("oci:") {
                    return Ok(Vec::new());
                }
                let loc = pipeline::location(destination).map_err(pipe)?;
                Ok::<_, Error>(existing::tags(ctx, &loc).await?)
            }
        },
    )))?;
    let mut images = Vec::new();
    for ((spec, destination), existing) in
        loaded.config.images.iter().zip(&destinations).zip(listed)
    {
        images.push(ImagePlan {
            name: spec.name.clone(),
            destination: destination.clone(),
            platforms: spec.platforms.clone(),
            tags: tags::plan(
                &version.version,
                &existing,
                &rcfg.tags,
                &tags::Context::default(),
            ),
            existing,
        });
    }
    let mut asset_names: Vec<String> = images
        .iter()
        .flat_map(|i| {
            i.platforms
                .iter()
                .map(|p| format!("{}.{}.cdx.json", i.name, p.replace('/', "-")))
                .collect::<Vec<_>>()
        })
        .collect();
    asset_names.extend(
        extra_assets
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
    );
    asset_names.push(assets::SUMS.into());
    if signing_label != "unsigned" {
        asset_names.push(crate::release::sums_bundle::NAME.into());
    }
    let plan = Plan {
        version: version.version.to_string(),
        git_tag: version.git_tag.clone(),
        prerelease: !version.version.pre.is_empty(),
        make_latest: plan::make_latest(&version.version, &released),
        images,
        dist,
        assets: asset_names,
        github: github.as_ref().map(|g| g.repository.clone()),
        signing: signing_label,
        scan_reports: args.scan_reports.clone(),
        environment: promotion.as_ref().map(|t| t.name.clone()),
        notes: notes_out,
    };
    if args.dry_run {
        return super::release_render::dry_run(&plan, args.json);
    }
    say_notes(&plan);
    let (changelog, source) = git
        .join()
        .map_err(|_| Error::Runtime("reading git panicked".into()))??;
    let records = read_records(&args.records)?;
    let signing = signing.wait()?;
    let req = pipeline::Request {
        specs: loaded.config.images.iter().collect(),
        tree: loaded.base.clone(),
        ctx,
        tags: rcfg.tags.clone(),
        signing,
        gate,
        github,
        replace: args.replace,
        extra_assets,
        changelog,
        created: created()?,
        source,
        records,
        promotion,
        stamp: crate::release::promote::stamp().map_err(Error::Usage)?,
        plan,
    };
    let record = rt.block_on(pipeline::run(req)).map_err(pipe)?;
    super::release_render::report(&record, args.json)
}

/// The release's changelog (commits up to `to`) and the build's source labels, from git in
/// `base`.
fn read_git(
    base: &Path,
    rcfg: &crate::config::release::ReleaseConfig,
    version: &semver::Version,
    to: &str,
) -> Result<(String, crate::build::source::Source), Error> {
    let repo = crate::release::git::Repo::open(base).map_err(|e| Error::Usage(e.to_string()))?;
    let links = crate::release::changelog::Links::from_env();
    let changelog =
        crate::release::changelog::for_version(&repo, rcfg, version, to, links.as_ref()).map_err(
            |e| match e.exit() {
                Exit::External => Error::External(e.to_string()),
                _ => Error::Usage(e.to_string()),
            },
        )?;
    let source = crate::build::source::Source::detect(base)?;
    Ok((changelog, source))
}

/// Each image's destination: `--to oci:PATH` → `oci:PATH/NAME` for every image; `--to
/// docker://…` only for a one-image project; else the image's `repository`.
fn destinations(loaded: &Loaded, to: Option<&str>, offline: bool) -> Result<Vec<String>, Error> {
    let images = &loaded.config.images;
    let mut out = Vec::new();
    for image in images {
        let d = match to {
            Some(t) if t.starts_with("oci:") => {
                let path = t.trim_start_matches("oci:").trim_end_matches('/');
                if path.is_empty() || path.contains(['@']) {
                    return Err(Error::Usage(format!(
                        "--to {t}: name a layout directory, oci:PATH (each image goes to PATH/NAME)"
                    )));
                }
                format!("oci:{path}/{}", image.name)
            }
            Some(t) if images.len() == 1 => {
                let repo = t.trim_start_matches("docker://");
                format!("docker://{repo}")
            }
            Some(t) => {
                return Err(Error::Usage(format!(
                    "--to {t}: a registry destination names one repository, and cicd.yaml has {} images; use each image's `repository:` or --to oci:PATH",
                    images.len()
                )));
            }
            None => match &image.repository {
                Some(r) => format!("docker://{r}"),
                None => {
                    return Err(Error::Usage(format!(
                        "image `{}` has no `repository:` in cicd.yaml: add one, or pass --to oci:PATH",
                        image.name
                    )));
                }
            },
        };
        let loc = pipeline::location(&d).map_err(pipe)?;
        if !loc.is_layout() && (loc.tag().is_some() || loc.digest().is_some()) {
            return Err(Error::Usage(format!(
                "{d}: a release destination is a repository; tags come from the tag scheme"
            )));
        }
        if offline && !loc.is_layout() {
            return Err(Error::Usage(format!(
                "{d} is a registry and --offline forbids the network; use --to oci:PATH"
            )));
        }
        out.push(d);
    }
    Ok(out)
}

/// The first environment when `environments:` is configured (checked before anything runs);
/// GitHub deployments are recorded for it when the GitHub release is made.
fn first_environment(
    cli: &Cli,
    loaded: &Loaded,
    github: bool,
) -> Result<Option<crate::release::promote::Target>, Error> {
    if loaded.config.environments.is_empty() {
        return Ok(None);
    }
    crate::config::environments::validate(loaded)?;
    let deployer = if github {
        crate::github::deployments::Deployer::from_env(&cli.api_url, &cli.server_url)
            .map_err(|e| Error::Usage(format!("GitHub deployments: {e}")))?
    } else {
        None
    };
    crate::release::promote::first(
        loaded,
        loaded.config.images.len(),
        deployer,
        super::promote::requirements_for(loaded),
    )
    .map_err(Error::Usage)
}

/// The GitHub release target when `GITHUB_TOKEN` and `GITHUB_REPOSITORY` are both set.
fn github_target(
    cli: &Cli,
    args: &ReleaseArgs,
    notes: &mut Vec<String>,
) -> Result<Option<GithubTarget>, Error> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    let (Some(token), Some(repository)) = (var("GITHUB_TOKEN"), var("GITHUB_REPOSITORY")) else {
        notes.push(format!(
            "no GitHub release: GITHUB_TOKEN and GITHUB_REPOSITORY are not both set; notes and assets are written to {}",
            args.dist.display()
        ));
        return Ok(None);
    };
    if cli.offline {
        notes.push("no GitHub release: --offline".into());
        return Ok(None);
    }
    if repository.split('/').count() != 2 || repository.contains(char::is_whitespace) {
        return Err(Error::Usage(format!(
            "GITHUB_REPOSITORY={repository:?}: expected OWNER/REPO"
        )));
    }
    let client = crate::github::releases::Releases::new(
        &cli.api_url,
        &repository,
        SecretString::from(token),
    )
    .map_err(|e| Error::Runtime(e.to_string()))?;
    Ok(Some(GithubTarget { client, repository }))
}

/// The versions of the releases already on GitHub (drafts and prereleases left out), so
/// `make_latest` is never set on a version below one GitHub already shows as released.
fn github_versions(
    rt: &tokio::runtime::Runtime,
    gh: &GithubTarget,
    prefix: &str,
) -> Result<Vec<semver::Version>, Error> {
    let list = rt
        .block_on(gh.client.list())
        .map_err(|e| Error::External(format!("GitHub releases: {e}")))?;
    Ok(list
        .iter()
        .filter(|r| !r.draft && !r.prerelease)
        .filter_map(|r| r.tag_name.strip_prefix(prefix))
        .filter_map(|v| semver::Version::parse(v).ok())
        .collect())
}

/// `release.signing`: the key it names, decrypted with `CICD_KEY_PASSWORD`/`COSIGN_PASSWORD`
/// (not read for a dry run) with the Rekor `CICD_TRUST_CONFIG` names (public-good's without
/// one) unless `tlog-upload: false`, or keyless with the trust config `CICD_TRUST_CONFIG` names
/// (Sigstore's public-good instance without one); none configured → a note, and the
/// release goes on unsigned. Returns what the plan says, and the signing to use (the key
/// decrypted on its own thread: [`Pending::wait`]).
fn signing(
    loaded: &Loaded,
    dry_run: bool,
    offline: bool,
    notes: &mut Vec<String>,
) -> Result<(String, Pending), Error> {
    let Some(mode) = loaded
        .config
        .release
        .signing
        .as_ref()
        .and_then(|s| s.mode())
    else {
        notes.push(
            "release.signing is not set in cicd.yaml: the images are released unsigned".into(),
        );
        return Ok(("unsigned".into(), Pending::Ready(None)));
    };
    let path = match mode {
        ConfigSigning::Keyless => {
            if offline && !dry_run {
                return Err(Error::NeedsNetwork(
                    "keyless release signing (Fulcio, Rekor)",
                ));
            }
            let config = super::keyless::trust_config_from_env();
            let trust = crate::sign::keyless::trust::load(config.as_deref())?;
            let services = trust.services()?;
            return Ok((
                format!("keyless ({})", trust.source),
                Pending::Ready(Some(Signing::Keyless(services))),
            ));
        }
        ConfigSigning::Key(k) => resolve(&loaded.base, k),
    };
    let tlog_upload = loaded
        .config
        .release
        .signing
        .as_ref()
        .is_none_or(|s| s.tlog_upload);
    let mut label = format!("key {}", path.display());
    let log = if tlog_upload {
        if offline && !dry_run {
            return Err(Error::Usage(
                "release.signing logs each signature in Rekor, which --offline cannot reach: set `tlog-upload: false` under release.signing for an offline release (verify then needs --insecure-ignore-tlog)".into(),
            ));
        }
        let log = super::keyless::rekor_log(super::keyless::trust_config_from_env().as_deref())?;
        label.push_str(&format!(", logged in Rekor {}", log.url));
        Some(log)
    } else {
        label.push_str(", not logged (tlog-upload: false)");
        None
    };
    let pem = crate::sign::keys::read_pem(&path).map_err(|e| Error::BadInput {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if dry_run {
        // The plan names the key; a dry run needs no password.
        return Ok((label, Pending::Ready(None)));
    }
    let password = crate::sign::keys::password_from_env()
        .ok_or_else(|| super::keygen::key_error(&path, crate::sign::keys::KeyError::NoPassword))?;
    let key = std::thread::spawn(move || crate::sign::keys::decrypt(&pem, &password));
    Ok((label, Pending::Key { path, log, key }))
}

/// The release's signing, its key perhaps still being decrypted on its own thread (scrypt
/// takes a tenth of a second or more: it runs while the tags are listed and git is read).
enum Pending {
    Ready(Option<Signing>),
    Key {
        path: PathBuf,
        log: Option<crate::sign::keyless::rekor::Log>,
        key: std::thread::JoinHandle<Result<p256::ecdsa::SigningKey, crate::sign::keys::KeyError>>,
    },
}

impl Pending {
    /// The signing to use, once the key is decrypted: a wrong password is said here, before
    /// anything is built or pushed (exit 2).
    fn wait(self) -> Result<Option<Signing>, Error> {
        match self {
            Pending::Ready(signing) => Ok(signing),
            Pending::Key { path, log, key } => {
                let key = key
                    .join()
                    .map_err(|_| Error::Runtime("decrypting the signing key panicked".into()))?
                    .map_err(|e| super::keygen::key_error(&path, e))?;
                Ok(Some(Signing::Key(key, log)))
            }
        }
    }
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn pipe(e: PipelineError) -> Error {
    match e {
        PipelineError::Oci(o) => Error::Image(o),
        PipelineError::Build(b) => Error::Build(b),
        e => match e.exit() {
            Exit::BadInput => Error::Usage(e.to_string()),
            _ => Error::External(e.to_string()),
        },
    }
}

fn created() -> Result<String, Error> {
    let secs = crate::time::now().map_err(Error::Usage)?;
    let ts = jiff::Timestamp::from_second(secs).map_err(|e| Error::Usage(e.to_string()))?;
    Ok(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))
}

/// Said once, before anything runs.
pub fn say_notes(plan: &Plan) {
    for n in &plan.notes {
        step(&format!("note: {n}"));
    }
}

/// `--records`: files, or directories of `*.json` files, each a `cicd build --record` record.
fn read_records(
    paths: &[std::path::PathBuf],
) -> Result<Vec<(std::path::PathBuf, crate::build::record::Record)>, Error> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| Error::BadInput {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let mut found: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut out = Vec::new();
    for file in files {
        let record = crate::build::record::Record::read(&file)?;
        out.push((file, record));
    }
    Ok(out)
}
