//! `cicd pin [PATH…]`: config → inputs → resolve refs over Git → rewrite → report.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cli::{Cli, PinArgs};
use crate::config::Loaded;
use crate::error::{Error, Exit};
use crate::github::git::client::GitClient;
use crate::pin::{self, Failure, PinOutcome, PinRequest};
use crate::report::{plural, slash_path};

pub fn run(cli: &Cli, args: &PinArgs) -> Result<Exit, Error> {
    if cli.offline {
        return Err(Error::NeedsNetwork("pin"));
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let inputs = super::inputs(&loaded, &paths)?;
    let client = GitClient::new(&cli.server_url).map_err(|e| Error::Runtime(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))?;
    let outcome = runtime
        .block_on(pin::run(
            &PinRequest {
                inputs,
                update: args.update.then_some(args.min_age),
                now: now(),
            },
            &client,
            std::sync::Arc::new(RegistryResolver::new()?),
        ))
        .map_err(|e| Error::Write {
            path: e.path,
            source: e.source,
        })?;

    for problem in &outcome.problems {
        eprintln!("error: {problem}");
    }
    let mut out = Vec::new();
    let io = |source| Error::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    if args.json {
        render_json(&outcome, &mut out)
    } else {
        render(&outcome, &mut out)
    }
    .map_err(io)?;
    super::deliver(None, &out)?;

    Ok(exit(&outcome))
}

/// 2 when an input or a reference is wrong (running again would change nothing), 3 when a
/// server failed, 0 otherwise: the same on every run over the same files.
fn exit(outcome: &PinOutcome) -> Exit {
    if !outcome.problems.is_empty() || outcome.unresolved.iter().any(|u| !u.external) {
        Exit::BadInput
    } else if outcome.unresolved.iter().any(|u| u.external) {
        Exit::External
    } else {
        Exit::Ok
    }
}

fn render(o: &PinOutcome, out: &mut dyn Write) -> std::io::Result<()> {
    for (file, changes) in pin::by_file(&o.changes) {
        writeln!(out, "{}", slash_path(file))?;
        for c in changes {
            let note = if c.branch { " (branch head today)" } else { "" };
            let comment = if c.comment.is_empty() {
                String::new()
            } else {
                format!(" # {}", c.comment)
            };
            writeln!(
                out,
                "  {:>4}  {} -> {}{comment}{note}",
                c.line, c.from, c.to
            )?;
        }
    }
    for u in &o.unresolved {
        let what = if u.reference.is_empty() {
            String::new()
        } else {
            format!("{}: ", u.reference)
        };
        writeln!(
            out,
            "not pinned: {}:{}: {what}{}",
            slash_path(&u.file),
            u.line,
            u.reason
        )?;
    }
    for note in &o.notes {
        writeln!(out, "note: {note}")?;
    }
    let (changes, files, repos) = (o.changes.len(), o.files_written.len(), o.repositories);
    writeln!(
        out,
        "pinned {changes} {} in {files} {} from {repos} {}; {} not pinned",
        plural(changes, "reference"),
        plural(files, "file"),
        if repos == 1 {
            "repository"
        } else {
            "repositories"
        },
        o.unresolved.len()
    )
}

fn render_json(o: &PinOutcome, out: &mut dyn Write) -> std::io::Result<()> {
    let doc = json!({
        "changes": o.changes.iter().map(|c| json!({
            "file": slash_path(&c.file), "line": c.line, "from": c.from, "to": c.to,
            "comment": c.comment, "branch": c.branch,
        })).collect::<Vec<_>>(),
        "unresolved": o.unresolved.iter().map(|u| json!({
            "file": slash_path(&u.file), "line": u.line, "reference": u.reference, "reason": u.reason,
        })).collect::<Vec<_>>(),
        "errors": o.problems,
        "files_written": o.files_written.iter().map(|p| slash_path(p)).collect::<Vec<_>>(),
        "repositories": o.repositories,
        "notes": o.notes,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Image tags resolved by the registry client: the digest the registry serves for the tag
/// (for a multi-arch image, the index), checked against the bytes it sent.
struct RegistryResolver {
    context: crate::oci::store::Context,
}

impl RegistryResolver {
    fn new() -> Result<Self, Error> {
        let mut opts = crate::oci::registry::Options::default();
        if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
            opts.ca_certs.push(PathBuf::from(file));
        }
        let context = crate::oci::store::Context::new(opts, super::registry::credential_sources())?;
        Ok(Self { context })
    }
}

impl crate::pin::images::DigestResolver for RegistryResolver {
    async fn digest(&self, reference: crate::oci::reference::Reference) -> Result<String, Failure> {
        let failed = |e: crate::oci::error::OciError| {
            if e.is_bad_input() {
                Failure::input(e.to_string())
            } else {
                Failure::external(e.to_string())
            }
        };
        let registry = self.context.registry(&reference.registry).map_err(failed)?;
        let tag = reference.effective_tag().unwrap_or("latest");
        match registry.get_manifest(&reference.repository, tag).await {
            Ok(Some((_, _, digest))) => Ok(digest.to_string()),
            Ok(None) => Err(Failure::input(format!(
                "{reference}: the registry has no such tag"
            ))),
            Err(e) => Err(failed(e)),
        }
    }
}
