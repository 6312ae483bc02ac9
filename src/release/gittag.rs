//! Creating a release's annotated git tag at HEAD, with the checks that keep it honest: a
//! clean tree, a tag that does not exist yet, HEAD on the default branch; then pushing it.

use super::ReleaseError;
use super::git::Repo;

/// What to tag and how.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub tag: &'a str,
    /// The tag message (the changelog).
    pub message: &'a str,
    /// Tag even when HEAD is not on the default branch.
    pub allow_branch: bool,
    /// The default branch when the caller knows it (GitHub's event payload); else it is
    /// read from the repository ([`default_branch`]).
    pub default_branch: Option<&'a str>,
}

/// Refuses a dirty tree, an existing tag or HEAD off the default branch; returns HEAD's SHA.
pub fn check(repo: &Repo, req: &Request<'_>) -> Result<String, ReleaseError> {
    let dirty = repo.dirty()?;
    if !dirty.is_empty() {
        let mut shown: Vec<String> = dirty.iter().take(3).cloned().collect();
        if dirty.len() > 3 {
            shown.push(format!("and {} more", dirty.len() - 3));
        }
        return Err(ReleaseError::Dirty(shown.join(", ")));
    }
    let tag_ref = format!("refs/tags/{}", req.tag);
    if repo
        .run(&["rev-parse", "--verify", "--quiet", &tag_ref])
        .is_ok()
    {
        return Err(ReleaseError::TagExists(req.tag.to_owned()));
    }
    let head = repo.resolve("HEAD")?;
    if !req.allow_branch {
        let branch = req
            .default_branch
            .map_or_else(|| default_branch(repo), str::to_owned);
        let on = [
            format!("refs/remotes/origin/{branch}"),
            format!("refs/heads/{branch}"),
        ]
        .iter()
        .any(|r| {
            repo.run(&["merge-base", "--is-ancestor", "HEAD", r])
                .is_ok()
        });
        if !on {
            return Err(ReleaseError::NotOnDefaultBranch { branch });
        }
    }
    Ok(head)
}

/// Creates the annotated tag at HEAD (after [`check`]); the message is kept verbatim, so
/// Markdown headings (`## …`) are not taken for comments.
pub fn create(repo: &Repo, req: &Request<'_>) -> Result<String, ReleaseError> {
    let head = check(repo, req)?;
    repo.run_with_input(
        &[
            "tag",
            "--annotate",
            "--cleanup=verbatim",
            "--file=-",
            "--",
            req.tag,
            &head,
        ],
        Some(req.message),
    )?;
    Ok(head)
}

/// Pushes the tag (only the tag) to `remote`.
pub fn push(repo: &Repo, tag: &str, remote: &str) -> Result<(), ReleaseError> {
    let refspec = format!("refs/tags/{tag}:refs/tags/{tag}");
    repo.run_remote(&["push", "--", remote, &refspec])
        .map(|_| ())
        .map_err(|e| ReleaseError::Push {
            tag: tag.to_owned(),
            remote: remote.to_owned(),
            message: match e {
                ReleaseError::Git { message, .. } => message,
                other => other.to_string(),
            },
        })
}

/// `origin/HEAD`'s branch, else `init.defaultBranch`, else `main`.
pub fn default_branch(repo: &Repo) -> String {
    if let Ok(r) = repo.run(&["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"])
        && let Some(b) = r.trim().strip_prefix("refs/remotes/origin/")
        && !b.is_empty()
    {
        return b.to_owned();
    }
    repo.run(&["config", "--get", "init.defaultBranch"])
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "main".into())
}
