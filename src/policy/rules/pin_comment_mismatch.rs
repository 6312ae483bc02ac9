//! `pin-comment-mismatch`: a SHA pin whose trailing `# vX.Y.Z` names a tag that points at a
//! different commit. Reviewers and Dependabot trust the comment; it must not lie.

use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Uses;
use crate::pin::resolve::{tag_on, version};
use crate::report::Severity;

pub struct PinCommentMismatch;

static META: RuleMeta = RuleMeta {
    id: "pin-comment-mismatch",
    summary: "SHA pin whose version comment names a tag on another commit",
    help: "The comment after a SHA pin (`uses: o/r@<sha> # v4.2.2`) is what reviewers read \
           and what Dependabot and Renovate update from. When the tag it names points at a \
           different commit, the pin runs code nobody reviewed under that version. Fix the \
           comment to the tag on the pinned commit, or pin the commit the tag names.",
    help_url: "https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions",
    default_severity: Severity::Medium,
    online: true,
};

impl Rule for PinCommentMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_uses(&self, uses: &Uses, cx: &mut Context<'_>) {
        let Some((owner, repo, sha)) = uses.sha_pin() else {
            return;
        };
        // The comment's first word, as Dependabot writes it (`# v4.2.2`) or older Renovate
        // (`# tag=v4.2.2`).
        let Some(named) = uses
            .comment
            .as_deref()
            .and_then(|c| c.split_whitespace().next())
            .map(|w| w.strip_prefix("tag=").unwrap_or(w))
        else {
            return;
        };
        let Some(refs) = cx.facts().and_then(|f| f.refs(owner, repo)) else {
            return;
        };
        let sha = sha.to_ascii_lowercase();
        let on_commit = tag_on(refs, &sha, named);
        match refs.tags.get(named) {
            Some(target) if *target == sha => {}
            Some(target) => {
                let fix = match &on_commit {
                    Some(tag) => format!(
                        "change the comment to `# {tag}`, or pin `{target}` if `{named}` is what you meant"
                    ),
                    None => format!(
                        "pin `{owner}/{repo}@{target} # {named}`, the commit `{named}` names"
                    ),
                };
                cx.report(
                    Severity::Medium,
                    &uses.location,
                    &uses.raw,
                    format!("the comment says `{named}`, but `{named}` of {owner}/{repo} is {target}, not the pinned commit"),
                    fix,
                );
            }
            // Branch names in comments say where a pin came from; they move, so no check.
            None if refs.heads.contains_key(named) => {}
            None if version(named).is_some() => cx.report(
                Severity::Medium,
                &uses.location,
                &uses.raw,
                format!("the comment says `{named}`, but {owner}/{repo} has no tag `{named}`"),
                match on_commit {
                    Some(tag) => format!("change the comment to `# {tag}`"),
                    None => "check which release this commit belongs to and name it in the comment"
                        .into(),
                },
            ),
            None => {}
        }
    }
}
