//! `cicd pin`: rewrites mutable `uses:` refs to full commit SHAs with the version in a
//! trailing comment ([`actions`], refs resolved over Git smart HTTP by [`resolve`], moved
//! forward by [`update`]) and image tags to digests ([`images`]), then writes the files back
//! ([`files`]: through a symbolic link only when its target stays in the tree given) and keeps
//! `actions.lock` in step ([`lockfile`]). Edits are made by [`rewrite`], byte for byte.

pub mod actions;
pub mod files;
pub mod images;
pub mod lockfile;
pub mod resolve;
pub mod rewrite;
pub mod update;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::github::git::client::GitClient;
use crate::inputs::discover::Discovered;
use crate::inputs::document::Document;
use crate::inputs::input::Input;
use crate::report::InputProblem;

pub struct PinRequest {
    pub inputs: Discovered,
    /// `--update --min-age DAYS`: move SHA pins to the newest release at least DAYS old.
    pub update: Option<u32>,
    /// Unix seconds, for the cooldown.
    pub now: i64,
}

/// One reference rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub file: PathBuf,
    pub line: usize,
    pub from: String,
    pub to: String,
    pub comment: String,
    /// A branch was pinned to its current head.
    pub branch: bool,
}

/// Why a reference could not be pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    /// A server failed (exit 3); otherwise the reference itself is wrong (exit 2).
    pub external: bool,
}

impl Failure {
    /// The reference (or the file) is the problem: running again changes nothing.
    pub fn input(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            external: false,
        }
    }

    /// A server failed: running again may work.
    pub fn external(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            external: true,
        }
    }
}

/// A reference left as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub file: PathBuf,
    pub line: usize,
    pub reference: String,
    pub reason: String,
    /// A server failed, not the reference.
    pub external: bool,
}

#[derive(Debug, Default)]
pub struct PinOutcome {
    pub changes: Vec<Change>,
    pub unresolved: Vec<Unresolved>,
    pub problems: Vec<InputProblem>,
    pub files_written: Vec<PathBuf>,
    /// Repositories asked, one `ls-refs` each.
    pub repositories: usize,
    /// Things worth saying that are neither changes nor failures (lockfile handling).
    pub notes: Vec<String>,
}

/// Could not write a rewritten file.
#[derive(Debug, thiserror::Error)]
#[error("could not write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Pins actions (over Git) and images (through `resolver`, the registry).
pub async fn run<R: images::DigestResolver>(
    req: &PinRequest,
    client: &GitClient,
    resolver: Arc<R>,
) -> Result<PinOutcome, WriteError> {
    let mut outcome = PinOutcome {
        problems: req.inputs.missing.clone(),
        notes: req.inputs.notes(),
        ..PinOutcome::default()
    };
    let docs = read(&req.inputs.inputs, &mut outcome.problems);
    let update = req.update.is_some();
    let repos = actions::repositories(docs.iter().map(|(_, d)| d), update);
    outcome.repositories = repos.len();
    let refs = actions::fetch_all(client, repos).await;
    let all: Vec<&Document> = docs.iter().map(|(_, d)| d).collect();
    let digests = images::resolve_all(resolver, images::wanted(&all, update)).await;
    let times = match req.update {
        Some(_) => actions::fetch_times(client, &refs).await,
        None => HashMap::new(),
    };
    let answers = actions::Answers { refs, times };
    let mut locks = files::Locks::default();
    for (input, doc) in &docs {
        let mut plan = actions::plan(req, &answers, input, doc, &mut locks, &mut outcome);
        let (edits, changes, unresolved) = images::edits(doc, &digests, update);
        plan.edits.extend(edits);
        plan.changes.extend(changes);
        outcome.unresolved.extend(unresolved);
        files::apply(input, doc, plan, update, &mut locks, &mut outcome)?;
    }
    locks.write(&mut outcome)?;
    Ok(outcome)
}

/// Reads every input; documents reached through compose `extends` belong to other files and
/// are left out.
fn read<'a>(inputs: &'a [Input], problems: &mut Vec<InputProblem>) -> Vec<(&'a Input, Document)> {
    let mut docs = Vec::new();
    for input in inputs {
        match input.read() {
            Ok(found) => docs.extend(found.into_iter().next().map(|doc| (input, doc))),
            Err(p) => problems.push(p),
        }
    }
    docs
}

/// Changes grouped by file, for rendering.
pub fn by_file(changes: &[Change]) -> BTreeMap<&PathBuf, Vec<&Change>> {
    let mut out: BTreeMap<&PathBuf, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        out.entry(&c.file).or_default().push(c);
    }
    out
}
