//! `cicd version next` and `cicd version changelog`: wiring from flags and `cicd.yaml` to
//! `release::version` and `release::changelog`, then stdout, `$GITHUB_OUTPUT` and exit code.

use std::path::Path;

use serde::Serialize;

use crate::cli::Cli;
use crate::cli::version::{ChangelogArgs, NextArgs, VersionArgs, VersionCommand};
use crate::config::Loaded;
use crate::config::release::ReleaseConfig;
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::release::changelog::{self, Links, Section};
use crate::release::commits::Commit;
use crate::release::git::Repo;
use crate::release::version::{self, Next, Nothing};
use crate::release::{ReleaseError, version::version_tags};
use crate::report::escape;

pub fn run(cli: &Cli, args: &VersionArgs) -> Result<Exit, Error> {
    let (repo, loaded) = open(cli)?;
    let config = &loaded.config.release;
    match &args.command {
        VersionCommand::Next(a) => next(&repo, config, a),
        VersionCommand::Changelog(a) => changelog_cmd(&repo, config, a),
    }
}

/// The repository in the current directory and its validated `cicd.yaml`.
pub fn open(cli: &Cli) -> Result<(Repo, Loaded), Error> {
    let cwd = Path::new(".");
    let loaded = Loaded::find(cli.config.as_deref(), cwd)?;
    crate::config::release::validate(&loaded)?;
    Ok((Repo::open(cwd)?, loaded))
}

/// `version next --json`.
#[derive(Serialize)]
struct NextJson<'a> {
    /// `""` when nothing is releasable.
    version: String,
    tag: Option<&'a str>,
    previous: Option<String>,
    previous_tag: Option<&'a str>,
    /// `major`, `minor`, `patch`, `initial`, `release-as`, or `none`.
    bump: serde_json::Value,
    commits: &'a [Commit],
}

fn next(repo: &Repo, config: &ReleaseConfig, args: &NextArgs) -> Result<Exit, Error> {
    let outcome = version::next(repo, config, args.pre.map(|p| p.id()), "HEAD")?;
    let runtime = Runtime::from_env();
    let version = outcome
        .as_ref()
        .map(|n| n.version.to_string())
        .unwrap_or_default();
    output(&runtime, "version", &version)?;
    if let Ok(n) = &outcome {
        output(&runtime, "tag", &n.tag)?;
    }
    if args.json {
        let json = match &outcome {
            Ok(n) => NextJson {
                version: version.clone(),
                tag: Some(&n.tag),
                previous: n.previous.as_ref().map(|p| p.version.to_string()),
                previous_tag: n.previous.as_ref().map(|p| p.tag.as_str()),
                bump: serde_json::to_value(n.bump).unwrap_or_default(),
                commits: &n.commits,
            },
            Err(nothing) => NextJson {
                version: String::new(),
                tag: None,
                previous: nothing
                    .since
                    .as_deref()
                    .and_then(|t| t.strip_prefix(config.git_prefix().as_str()))
                    .map(str::to_owned),
                previous_tag: nothing.since.as_deref(),
                bump: serde_json::Value::from("none"),
                commits: &[],
            },
        };
        let mut bytes =
            serde_json::to_vec_pretty(&json).map_err(|e| Error::Runtime(e.to_string()))?;
        bytes.push(b'\n');
        super::deliver(None, &escape::json(bytes))?;
    } else if let Ok(n) = &outcome {
        super::deliver(None, format!("{}\n", n.version).as_bytes())?;
    }
    let said = describe(&outcome);
    summary(
        &runtime,
        &format!("### cicd version next\n\n{}\n", escape::markdown(&said)),
    )?;
    note(&said);
    Ok(Exit::Ok)
}

/// One line on stderr for people: what was decided, or why nothing.
fn describe(outcome: &Result<Next, Nothing>) -> String {
    match outcome {
        Ok(n) => format!(
            "next version {} ({}, {} releasable commit{} since {})",
            n.version,
            serde_json::to_value(n.bump)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            n.commits.len(),
            if n.commits.len() == 1 { "" } else { "s" },
            n.previous
                .as_ref()
                .map_or("the first commit", |p| p.tag.as_str())
        ),
        Err(nothing) => nothing_text(nothing),
    }
}

pub fn nothing_text(nothing: &Nothing) -> String {
    format!(
        "nothing to release: {} commit{} since {}, none is a feat, fix, perf or breaking change (or has a Release-As footer)",
        nothing.commits,
        if nothing.commits == 1 { "" } else { "s" },
        nothing.since.as_deref().unwrap_or("the first commit")
    )
}

pub fn note(text: &str) {
    eprint!(
        "{}",
        escape::plain_lines(&format!("{}\n", escape::plain(text)))
    );
}

pub fn output(runtime: &Runtime, name: &str, value: &str) -> Result<(), Error> {
    runtime
        .set_output(name, value)
        .map_err(|source| Error::Write {
            path: "$GITHUB_OUTPUT".into(),
            source,
        })
}

pub fn summary(runtime: &Runtime, markdown: &str) -> Result<(), Error> {
    runtime
        .append_summary(markdown)
        .map_err(|source| Error::Write {
            path: "$GITHUB_STEP_SUMMARY".into(),
            source,
        })
}

/// The changelog section for `to` (a version tag, or the next version at a ref).
pub fn section_for(
    repo: &Repo,
    config: &ReleaseConfig,
    from: Option<&str>,
    to: &str,
    pre: Option<&str>,
) -> Result<(String, String), Error> {
    let prefix = config.git_prefix();
    repo.resolve(to)?;
    if let Some(f) = from {
        repo.resolve(f)?;
    }
    let links = Links::from_env();
    // `--to v1.3.0`: that version's own changelog.
    let tagged = to
        .strip_prefix(prefix.as_str())
        .and_then(|v| semver::Version::parse(v).ok())
        .filter(|_| {
            repo.run(&[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("refs/tags/{to}"),
            ])
            .is_ok()
        });
    if let (Some(v), None) = (&tagged, from) {
        let md = changelog::for_version(repo, config, v, to, links.as_ref())?;
        return Ok((v.to_string(), md));
    }
    let (title, tag, previous) = match (&tagged, version::next(repo, config, pre, to)?) {
        (Some(v), _) => (v.to_string(), to.to_owned(), None),
        (None, Ok(n)) => (n.version.to_string(), n.tag, n.previous.map(|p| p.tag)),
        (None, Err(_)) => {
            let (reachable, _) = version_tags(repo, &prefix, Some(to))?;
            let newest = reachable.last().map(|t| t.tag.clone());
            ("Unreleased".to_owned(), to.to_owned(), newest)
        }
    };
    let start = from.map(str::to_owned).or(previous);
    let commits: Vec<Commit> = repo
        .commits(start.as_deref(), to)?
        .iter()
        .map(Commit::parse)
        .collect();
    let date = repo.date(to)?;
    let md = changelog::render(
        &Section {
            title: &title,
            date: Some(&date),
            previous_tag: start.as_deref(),
            tag: &tag,
            commits: &commits,
        },
        links.as_ref(),
    );
    Ok((title, md))
}

/// The largest `CHANGELOG.md` `--prepend` rewrites (years of releases are a few MiB).
const MAX_CHANGELOG_BYTES: u64 = 64 << 20;

fn changelog_cmd(repo: &Repo, config: &ReleaseConfig, args: &ChangelogArgs) -> Result<Exit, Error> {
    let (title, md) = section_for(
        repo,
        config,
        args.from.as_deref(),
        &args.to,
        args.pre.map(|p| p.id()),
    )?;
    if let Some(path) = &args.prepend {
        // Rewritten in place: only a regular file (a FIFO or device is refused, not read
        // for ever), and of a size a changelog has.
        let existing = match crate::fs::read_found(path, MAX_CHANGELOG_BYTES).and_then(|b| {
            String::from_utf8(b)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::BadInput {
                    path: path.clone(),
                    reason: e.to_string(),
                });
            }
        };
        let updated = changelog::prepend(existing.as_deref(), &md, &title).map_err(|reason| {
            ReleaseError::Changelog {
                path: path.display().to_string(),
                reason,
            }
        })?;
        super::write_atomically(path, updated.as_bytes())?;
        note(&format!("{}: added {title}", path.display()));
    }
    let runtime = Runtime::from_env();
    output(&runtime, "changelog", &md)?;
    super::deliver(None, escape::plain_lines(&md).as_bytes())?;
    Ok(Exit::Ok)
}
