//! `cicd pin`: rewrite mutable `uses:` refs to full commit SHAs with the version in a trailing
//! comment, resolving refs over Git smart HTTP.

pub mod images;
pub mod lockfile;
pub mod resolve;
pub mod rewrite;
pub mod update;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::github::git::client::GitClient;
use crate::github::git::refs::RefMap;
use crate::inputs::discover::Input;
use crate::inputs::document::{Document, Uses};
use crate::inputs::input;
use crate::inputs::uses::{ActionRef, RefKind, classify};
use crate::report::InputProblem;
use rewrite::{Edit, What};

/// How many repositories are asked at once.
const PARALLEL: usize = 16;

pub struct PinRequest {
    pub inputs: Vec<Input>,
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

/// A reference left as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub file: PathBuf,
    pub line: usize,
    pub reference: String,
    pub reason: String,
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
    let mut outcome = PinOutcome::default();
    let mut docs: Vec<(PathBuf, Document)> = Vec::new();
    for inp in &req.inputs {
        match input::read(&inp.path, &inp.shown, inp.kind) {
            // Documents reached through compose `extends` belong to other files: skip them.
            Ok(found) => {
                if let Some(doc) = found.into_iter().next() {
                    docs.push((inp.path.clone(), doc));
                }
            }
            Err(p) => outcome.problems.push(p),
        }
    }
    let mut repos: Vec<(String, String)> = Vec::new();
    for (_, doc) in &docs {
        for uses in &doc.uses {
            if let ActionRef::Repository {
                owner,
                repo,
                git_ref: Some(r),
                ..
            } = &uses.target
                && (classify(r) != RefKind::FullSha || req.update.is_some())
                && !repos.iter().any(|(o, n)| o == owner && n == repo)
            {
                repos.push((owner.clone(), repo.clone()));
            }
        }
    }
    outcome.repositories = repos.len();
    let resolved = fetch_all(client, repos).await;
    let all: Vec<&Document> = docs.iter().map(|(_, d)| d).collect();
    let digests = images::resolve_all(resolver, images::wanted(&all, req.update.is_some())).await;
    let times = match req.update {
        Some(_) => fetch_times(client, &resolved).await,
        None => HashMap::new(),
    };

    let mut locks = Locks::new();
    for (path, doc) in &docs {
        let mut edits = Vec::new();
        let mut changes = Vec::new();
        for uses in &doc.uses {
            let loc = &uses.location;
            let unresolved = |reason: String| Unresolved {
                file: loc.file.clone(),
                line: loc.start.line,
                reference: uses.raw.clone(),
                reason,
            };
            let (owner, repo, git_ref) = match &uses.target {
                ActionRef::Repository {
                    owner,
                    repo,
                    git_ref,
                    ..
                } => (owner, repo, git_ref),
                ActionRef::Invalid(_) => {
                    outcome
                        .unresolved
                        .push(unresolved("not `owner/repo[/path]@ref`".into()));
                    continue;
                }
                ActionRef::Local(_) | ActionRef::Docker(_) => continue,
            };
            let Some(git_ref) = git_ref else {
                outcome
                    .unresolved
                    .push(unresolved("has no `@ref` to resolve".into()));
                continue;
            };
            let key = (owner.clone(), repo.clone());
            if classify(git_ref) == RefKind::FullSha {
                let (Some(min_age), Some(Ok(refs))) = (req.update, resolved.get(&key)) else {
                    continue;
                };
                let no_times = HashMap::new();
                let repo_times = times.get(&key).unwrap_or(&no_times);
                let Some(pin) = update::choose(
                    refs,
                    repo_times,
                    git_ref,
                    uses.comment.as_deref(),
                    min_age,
                    req.now,
                ) else {
                    continue;
                };
                let was = uses
                    .comment
                    .as_deref()
                    .map(|c| format!(" # {c}"))
                    .unwrap_or_default();
                record(
                    &mut changes,
                    &mut edits,
                    uses,
                    format!("{}{was}", uses.raw),
                    pin,
                );
                continue;
            }
            let locked = lock_of(&mut locks, path, &mut outcome.notes)
                .and_then(|(_, lock)| lock.locked_commit(&uses.raw).map(str::to_owned));
            let pin = match resolved.get(&key) {
                Some(Ok(refs)) => match resolve::resolve(refs, git_ref) {
                    // What runs today is the locked commit: pin that, not where the tag went.
                    Some(pin) if locked.as_ref().is_some_and(|l| *l != pin.sha) => {
                        let sha = locked.unwrap_or_default();
                        outcome.notes.push(format!(
                            "{}: `{git_ref}` of {owner}/{repo} has moved since actions.lock locked it; pinned the locked commit {sha}",
                            uses.raw
                        ));
                        resolve::Pin {
                            comment: resolve::tag_on(refs, &sha, git_ref)
                                .unwrap_or_else(|| git_ref.clone()),
                            sha,
                            branch: false,
                        }
                    }
                    Some(pin) => pin,
                    None => {
                        outcome.unresolved.push(unresolved(format!(
                            "{owner}/{repo} has no tag or branch `{git_ref}`"
                        )));
                        continue;
                    }
                },
                Some(Err(e)) => {
                    outcome.unresolved.push(unresolved(e.clone()));
                    continue;
                }
                None => continue,
            };
            record(&mut changes, &mut edits, uses, uses.raw.clone(), pin);
        }
        let (image_edits, image_changes, unresolved) =
            images::edits(doc, &digests, req.update.is_some());
        edits.extend(image_edits);
        changes.extend(image_changes);
        outcome.unresolved.extend(unresolved);
        if edits.is_empty() {
            continue;
        }
        let original = doc.source.text.as_str();
        let (rewritten, skipped) = rewrite::apply(original, &edits);
        for s in &skipped {
            changes.retain(|c| c.line != s.start.line);
            outcome.unresolved.push(Unresolved {
                file: doc.source.path.clone(),
                line: s.start.line,
                reference: String::new(),
                reason: "the line is not laid out in a way cicd can rewrite safely; pin it by hand"
                    .into(),
            });
        }
        // Aliases repeat a reference; its one rewrite is reported once.
        changes.sort_by_key(|c| c.line);
        changes.dedup_by(|a, b| a.line == b.line && a.from == b.from);
        if rewritten != original {
            crate::fs::write_atomically(path, rewritten.as_bytes()).map_err(|source| {
                WriteError {
                    path: doc.source.path.clone(),
                    source,
                }
            })?;
            outcome.files_written.push(doc.source.path.clone());
            if let Some((key, lock)) = lock_of(&mut locks, path, &mut outcome.notes) {
                for c in &changes {
                    lock.rename(&key, &c.from, &c.to, &c.comment);
                }
                if req.update.is_some() && lock.workflows.contains_key(&key) {
                    outcome.notes.push(format!(
                        "{key} is in actions.lock: run `gh actions-lock` to lock what the updated pins depend on"
                    ));
                }
            }
        }
        outcome.changes.extend(changes);
    }
    for (lock_path, state) in locks {
        if let Ok((original, lock)) = state
            && lock.render() != original
        {
            crate::fs::write_atomically(&lock_path, lock.render().as_bytes()).map_err(
                |source| WriteError {
                    path: lock_path.clone(),
                    source,
                },
            )?;
            outcome.files_written.push(lock_path);
        }
    }
    Ok(outcome)
}

/// Records one pin of `uses` (shown as `from`) as a change to report and an edit to make.
fn record(
    changes: &mut Vec<Change>,
    edits: &mut Vec<Edit>,
    uses: &Uses,
    from: String,
    pin: resolve::Pin,
) {
    let loc = &uses.location;
    let prefix = uses
        .raw
        .rsplit_once('@')
        .map_or(uses.raw.as_str(), |(p, _)| p);
    changes.push(Change {
        file: loc.file.clone(),
        line: loc.start.line,
        from,
        to: format!("{prefix}@{}", pin.sha),
        comment: pin.comment.clone(),
        branch: pin.branch,
    });
    edits.push(Edit {
        start: loc.start,
        end: loc.end,
        what: What::Ref {
            new_ref: pin.sha,
            comment: pin.comment,
        },
    });
}

/// Lockfiles by path: the text read and the parsed file, or why it is left alone.
type Locks = HashMap<PathBuf, Result<(String, lockfile::Lockfile), ()>>;

/// The lockfile beside a workflow (`.github/workflows/actions.lock`) and the workflow's key
/// in it, loaded once; a lockfile cicd cannot read is noted and never written.
fn lock_of<'a>(
    locks: &'a mut Locks,
    workflow: &std::path::Path,
    notes: &mut Vec<String>,
) -> Option<(String, &'a mut lockfile::Lockfile)> {
    let dir = workflow.parent()?;
    if !dir.ends_with(".github/workflows") {
        return None;
    }
    let key = format!(
        ".github/workflows/{}",
        workflow.file_name()?.to_string_lossy()
    );
    let lock_path = dir.join(lockfile::FILE_NAME);
    let state = locks.entry(lock_path.clone()).or_insert_with(|| {
        let text = std::fs::read_to_string(&lock_path).map_err(|_| ())?;
        lockfile::Lockfile::parse(&text)
            .map(|l| (text, l))
            .map_err(|why| {
                notes.push(format!(
                    "{} left alone ({why}): run `gh actions-lock` after pinning",
                    lock_path.display()
                ));
            })
    });
    state.as_mut().ok().map(|(_, lock)| (key, lock))
}

/// The refs of every repository, asked concurrently (at most [`PARALLEL`] at a time);
/// errors are kept as text per repository.
async fn fetch_all(
    client: &GitClient,
    repos: Vec<(String, String)>,
) -> HashMap<(String, String), Result<RefMap, String>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for (owner, repo) in repos {
        let client = client.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let result = client.refs(&owner, &repo).await.map_err(|e| e.to_string());
            ((owner, repo), result)
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((key, result)) = joined {
            out.insert(key, result);
        }
    }
    out
}

/// Commit times of every release tag of every repository, one `fetch` per repository.
async fn fetch_times(
    client: &GitClient,
    resolved: &HashMap<(String, String), Result<RefMap, String>>,
) -> HashMap<(String, String), HashMap<String, i64>> {
    let mut set = tokio::task::JoinSet::new();
    for (key, refs) in resolved {
        let Ok(refs) = refs else { continue };
        let mut commits: Vec<String> = refs
            .tags
            .iter()
            .filter(|(name, _)| resolve::version(name).is_some())
            .map(|(_, sha)| sha.clone())
            .collect();
        commits.sort();
        commits.dedup();
        let (client, key) = (client.clone(), key.clone());
        set.spawn(async move {
            let times = client.commit_times(&key.0, &key.1, &commits).await;
            (key, times)
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((key, Ok(times))) = joined {
            out.insert(key, times);
        }
    }
    out
}

/// Changes grouped by file, for rendering.
pub fn by_file(changes: &[Change]) -> BTreeMap<&PathBuf, Vec<&Change>> {
    let mut out: BTreeMap<&PathBuf, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        out.entry(&c.file).or_default().push(c);
    }
    out
}
