//! `cicd build`, `cicd build merge`, `cicd plan matrix`: flags and `images:` → a build request
//! for `crate::build`; its outcome → plain text or JSON, `$GITHUB_OUTPUT` (`digest`,
//! `platform-digests`), the step summary table and the digest record.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use crate::build::job::{Backend, Job};
use crate::build::record::Record;
use crate::build::source::Source;
use crate::build::{BuildError, Outcome, merge, plan, platform};
use crate::cli::Cli;
use crate::cli::build::{self as flags, BuildArgs, BuildCommand, MergeArgs, PlanArgs, PlanCommand};
use crate::config::Loaded;
use crate::config::images::{ImageSpec, validate};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::oci::manifest::Platform;
use crate::oci::transport::Location;

pub fn run(cli: &Cli, args: &BuildArgs) -> Result<Exit, Error> {
    if let Some(BuildCommand::Merge(m)) = &args.sub {
        return run_merge(cli, m);
    }
    let loaded = load(cli)?;
    let name = args.name.as_deref().unwrap_or_default();
    let image = find(&loaded, name)?;
    let platforms = platforms(image, &args.platform)?;
    let single = args.platform.len() == 1;
    if args.record.is_some() && !single {
        return Err(usage(
            "--record needs exactly one --platform (one record per runner)",
        ));
    }
    let to = destination(image, args.to.as_deref(), cli.offline)?;
    let backend = match (args.backend, &image.native, &image.dockerfile) {
        (Some(flags::Backend::Native), _, _) | (None, Some(_), _) => Backend::Native,
        (Some(flags::Backend::Buildx), _, _) => Backend::Buildx,
        (None, None, Some(d)) if d.backend == "buildx" => Backend::Buildx,
        _ => Backend::Buildah,
    };
    let source = Source::detect(&loaded.base)?;
    let ctx = super::registry::context(&args.registry)?;
    let job = Job {
        name,
        image,
        tree: loaded.base.clone(),
        platforms,
        single,
        backend,
        to: to.clone(),
        tags: args.tag.clone(),
        source: source.clone(),
    };
    let outcome = runtime()?.block_on(crate::build::job::run(&ctx, &job))?;
    if let Some(path) = &args.record {
        let p = outcome.platforms.first().ok_or_else(|| {
            usage("the build produced no platform image to record (was --platform given?)")
        })?;
        Record {
            repository: to.to_string(),
            platform: p.platform.clone(),
            digest: p.digest.clone(),
            size: p.size,
            media_type: outcome.media_type.clone(),
            revision: source.revision.clone(),
        }
        .write(path)?;
    }
    report(&outcome, args.json)
}

fn run_merge(cli: &Cli, args: &MergeArgs) -> Result<Exit, Error> {
    let mut records = Vec::new();
    for path in &args.records {
        records.push((path.clone(), Record::read(path)?));
    }
    let to = Location::parse(&args.to).map_err(BuildError::from)?;
    refuse_offline(&to, cli.offline)?;
    let ctx = super::registry::context(&args.registry)?;
    let outcome = runtime()?.block_on(merge::merge(&ctx, &records, &to, &args.tag))?;
    report(&outcome, args.json)
}

pub fn run_plan(cli: &Cli, args: &PlanArgs) -> Result<Exit, Error> {
    let PlanCommand::Matrix { image, .. } = &args.command;
    let loaded = load(cli)?;
    if let Some(name) = image {
        find(&loaded, name)?;
    }
    let m = plan::matrix(&loaded.config.images, image.as_deref());
    let json = serde_json::to_string(&m).map_err(|e| usage(&e.to_string()))?;
    Runtime::from_env()
        .set_output("matrix", &json)
        .map_err(output_err)?;
    super::deliver(None, format!("{json}\n").as_bytes())?;
    Ok(Exit::Ok)
}

fn load(cli: &Cli) -> Result<Loaded, Error> {
    let cwd = std::env::current_dir().map_err(|e| usage(&format!("current directory: {e}")))?;
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    validate(&loaded)?;
    Ok(loaded)
}

fn find<'a>(loaded: &'a Loaded, name: &str) -> Result<&'a ImageSpec, Error> {
    loaded
        .config
        .images
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = loaded
                .config
                .images
                .iter()
                .map(|i| i.name.as_str())
                .collect();
            let file = loaded
                .path
                .as_ref()
                .map_or("no cicd.yaml found".into(), |p| p.display().to_string());
            usage(&format!(
                "no image `{name}` under `images:` in {file} (known: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ))
        })
}

fn platforms(image: &ImageSpec, wanted: &[String]) -> Result<Vec<Platform>, Error> {
    let listed = if wanted.is_empty() {
        &image.platforms
    } else {
        wanted
    };
    let mut out = Vec::new();
    for p in listed {
        let parsed = platform::parse(p).map_err(|e| usage(&format!("--platform: {e}")))?;
        if !image.platforms.iter().any(|q| q == p) {
            return Err(usage(&format!(
                "image `{}` does not list platform {p} (it lists {})",
                image.name,
                image.platforms.join(", ")
            )));
        }
        out.push(parsed);
    }
    Ok(out)
}

fn destination(image: &ImageSpec, to: Option<&str>, offline: bool) -> Result<Location, Error> {
    let given = match (to, &image.repository) {
        (Some(t), _) => t.to_owned(),
        (None, Some(r)) => format!("docker://{r}"),
        (None, None) => {
            return Err(usage(&format!(
                "image `{}` has no `repository`: pass --to docker://HOST/REPO or --to oci:PATH",
                image.name
            )));
        }
    };
    let loc = Location::parse(&given).map_err(BuildError::from)?;
    if !loc.is_layout() && (loc.tag().is_some() || loc.digest().is_some()) {
        return Err(usage(&format!(
            "--to {given}: cicd build pushes by digest; give the repository and pass --tag TAG to also tag"
        )));
    }
    refuse_offline(&loc, offline)?;
    Ok(loc)
}

fn refuse_offline(loc: &Location, offline: bool) -> Result<(), Error> {
    if offline && !loc.is_layout() {
        return Err(usage(&format!(
            "{loc} is a registry and --offline forbids the network; use --to oci:PATH"
        )));
    }
    Ok(())
}

/// Prints the outcome, then — only after everything succeeded — the Actions outputs.
fn report(outcome: &Outcome, json: bool) -> Result<Exit, Error> {
    let mut out = Vec::new();
    if json {
        serde_json::to_writer_pretty(&mut out, outcome).map_err(|e| usage(&e.to_string()))?;
        out.push(b'\n');
    } else {
        let _ = writeln!(out, "built {} -> {}", outcome.image, outcome.destination);
        let _ = writeln!(out, "  digest {}", outcome.digest);
        for p in &outcome.platforms {
            let _ = writeln!(out, "  {:<14} {} ({} bytes)", p.platform, p.digest, p.size);
        }
        for t in &outcome.tags {
            let _ = writeln!(out, "  tagged {t}");
        }
    }
    let rt = Runtime::from_env();
    let by_platform: BTreeMap<&str, &str> = outcome
        .platforms
        .iter()
        .map(|p| (p.platform.as_str(), p.digest.as_str()))
        .collect();
    let map = serde_json::to_string(&by_platform).map_err(|e| usage(&e.to_string()))?;
    rt.set_output("digest", &outcome.digest)
        .and_then(|()| rt.set_output("platform-digests", &map))
        .and_then(|()| rt.append_summary(&summary(outcome)))
        .map_err(output_err)?;
    super::deliver(None, &out)?;
    Ok(Exit::Ok)
}

/// The step summary: one row per platform. Every value is a validated platform or digest;
/// the destination is user text and goes in a code span with backticks removed.
fn summary(o: &Outcome) -> String {
    let dest = o.destination.replace(['`', '\n', '\r', '|'], "");
    let mut s = format!(
        "### cicd build `{}`\n\n`{dest}` @ `{}`\n\n| platform | digest | size |\n|---|---|---|\n",
        o.image.replace(['`', '|'], ""),
        o.digest
    );
    for p in &o.platforms {
        s.push_str(&format!(
            "| {} | `{}` | {} |\n",
            p.platform, p.digest, p.size
        ));
    }
    s
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))
}

fn usage(message: &str) -> Error {
    Error::Usage(message.to_owned())
}

fn output_err(source: std::io::Error) -> Error {
    Error::Write {
        path: PathBuf::from("$GITHUB_OUTPUT"),
        source,
    }
}
