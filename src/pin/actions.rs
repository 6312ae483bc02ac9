//! Pinning `uses:` references: which repositories to ask (one `ls-refs` each, concurrently),
//! and for each reference the commit to pin — its tag or branch resolved, the commit
//! `actions.lock` locked, or (`--update`) a newer release past its cooldown.

use std::collections::HashMap;
use std::sync::Arc;

use super::files::Locks;
use super::rewrite::{Edit, What};
use super::{Change, Failure, PinOutcome, PinRequest, Unresolved, resolve, update};
use crate::github::git::client::{GitClient, GitError};
use crate::github::git::refs::RefMap;
use crate::inputs::document::{Document, Uses};
use crate::inputs::input::Input;
use crate::inputs::uses::{ActionRef, RefKind, classify};

/// How many repositories are asked at once.
const PARALLEL: usize = 16;

/// `(owner, repo)`.
pub type Repo = (String, String);

/// What the Git server answered, asked before any file is edited.
pub struct Answers {
    pub refs: HashMap<Repo, Result<RefMap, Failure>>,
    /// Commit times of release tags, for `--update`'s cooldown.
    pub times: HashMap<Repo, HashMap<String, i64>>,
}

/// The edits to make in one file and the changes they report.
#[derive(Default)]
pub struct Plan {
    pub edits: Vec<Edit>,
    pub changes: Vec<Change>,
}

/// The repositories whose refs pin something: every one with a ref that is not a SHA, and
/// with `update` every one.
pub fn repositories<'a>(docs: impl Iterator<Item = &'a Document>, update: bool) -> Vec<Repo> {
    let mut repos: Vec<Repo> = Vec::new();
    for uses in docs.flat_map(|d| &d.uses) {
        if let ActionRef::Repository {
            owner,
            repo,
            git_ref: Some(r),
            ..
        } = &uses.target
            && (classify(r) != RefKind::FullSha || update)
            && !repos.iter().any(|(o, n)| o == owner && n == repo)
        {
            repos.push((owner.clone(), repo.clone()));
        }
    }
    repos
}

/// The refs of every repository, asked concurrently (at most [`PARALLEL`] at a time).
pub async fn fetch_all(
    client: &GitClient,
    repos: Vec<Repo>,
) -> HashMap<Repo, Result<RefMap, Failure>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for (owner, repo) in repos {
        let client = client.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let result = client.refs(&owner, &repo).await.map_err(|e| match e {
                // A repository that does not exist is a wrong reference, not an outage.
                GitError::NotFound { .. } => Failure::input(e.to_string()),
                _ => Failure::external(e.to_string()),
            });
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
pub async fn fetch_times(
    client: &GitClient,
    resolved: &HashMap<Repo, Result<RefMap, Failure>>,
) -> HashMap<Repo, HashMap<String, i64>> {
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

/// The pins of every `uses:` in `doc`; what cannot be pinned goes to `outcome.unresolved`.
pub fn plan(
    req: &PinRequest,
    answers: &Answers,
    input: &Input,
    doc: &Document,
    locks: &mut Locks,
    outcome: &mut PinOutcome,
) -> Plan {
    let mut plan = Plan::default();
    for uses in &doc.uses {
        match pin_one(req, answers, input, uses, locks, &mut outcome.notes) {
            Ok(Some((from, pin))) => record(&mut plan, uses, from, pin),
            Ok(None) => {}
            Err(failure) => outcome.unresolved.push(Unresolved {
                file: uses.location.file.clone(),
                line: uses.location.start.line,
                reference: uses.raw.clone(),
                reason: failure.reason,
                external: failure.external,
            }),
        }
    }
    plan
}

/// The pin for one reference (and how to show what it was), `None` when it stays.
fn pin_one(
    req: &PinRequest,
    answers: &Answers,
    input: &Input,
    uses: &Uses,
    locks: &mut Locks,
    notes: &mut Vec<String>,
) -> Result<Option<(String, resolve::Pin)>, Failure> {
    let (owner, repo, git_ref) = match &uses.target {
        ActionRef::Repository {
            owner,
            repo,
            git_ref,
            ..
        } => (owner, repo, git_ref),
        ActionRef::Invalid(_) => return Err(Failure::input("not `owner/repo[/path]@ref`")),
        ActionRef::Local(_) | ActionRef::Docker(_) => return Ok(None),
    };
    let git_ref = git_ref
        .as_deref()
        .ok_or_else(|| Failure::input("has no `@ref` to resolve"))?;
    let key = (owner.clone(), repo.clone());
    let refs = match answers.refs.get(&key) {
        Some(Ok(refs)) => refs,
        Some(Err(failure)) if classify(git_ref) != RefKind::FullSha => {
            return Err(failure.clone());
        }
        _ => return Ok(None),
    };
    if classify(git_ref) == RefKind::FullSha {
        return Ok(moved_forward(req, answers, &key, refs, uses, git_ref));
    }
    let locked = locks
        .lock_of(&input.path, notes)
        .and_then(|(_, lock)| lock.locked_commit(&uses.raw).map(str::to_owned));
    let pin = resolve::resolve(refs, git_ref).ok_or_else(|| {
        Failure::input(format!("{owner}/{repo} has no tag or branch `{git_ref}`"))
    })?;
    let Some(sha) = locked.filter(|l| *l != pin.sha) else {
        return Ok(Some((uses.raw.clone(), pin)));
    };
    // What runs today is the locked commit: pin that, not where the tag went.
    notes.push(format!(
        "{}: `{git_ref}` of {owner}/{repo} has moved since actions.lock locked it; pinned the locked commit {sha}",
        uses.raw
    ));
    let comment = resolve::tag_on(refs, &sha, git_ref).unwrap_or_else(|| git_ref.to_owned());
    let pin = resolve::Pin {
        comment,
        sha,
        branch: false,
    };
    Ok(Some((uses.raw.clone(), pin)))
}

/// `--update`: the release a SHA pin moves to, shown with its old comment.
fn moved_forward(
    req: &PinRequest,
    answers: &Answers,
    key: &Repo,
    refs: &RefMap,
    uses: &Uses,
    sha: &str,
) -> Option<(String, resolve::Pin)> {
    let min_age = req.update?;
    let no_times = HashMap::new();
    let times = answers.times.get(key).unwrap_or(&no_times);
    let comment = uses.comment.as_deref();
    let pin = update::choose(refs, times, sha, comment, min_age, req.now)?;
    let was = comment.map(|c| format!(" # {c}")).unwrap_or_default();
    Some((format!("{}{was}", uses.raw), pin))
}

/// Records one pin of `uses` (shown as `from`) as a change to report and an edit to make.
fn record(plan: &mut Plan, uses: &Uses, from: String, pin: resolve::Pin) {
    let loc = &uses.location;
    let prefix = uses
        .raw
        .rsplit_once('@')
        .map_or(uses.raw.as_str(), |(p, _)| p);
    plan.changes.push(Change {
        file: loc.file.clone(),
        line: loc.start.line,
        from,
        to: format!("{prefix}@{}", pin.sha),
        comment: pin.comment.clone(),
        branch: pin.branch,
    });
    plan.edits.push(Edit {
        start: loc.start,
        end: loc.end,
        what: What::Ref {
            new_ref: pin.sha,
            comment: pin.comment,
        },
    });
}
