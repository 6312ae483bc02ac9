//! `impostor-commit`: a SHA pin to a commit that no branch or tag of the named repository
//! reaches. GitHub serves commits from any fork in a repository's network under the parent's
//! name, so a commit pushed to a fork looks like the real action.

use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Uses;
use crate::policy::online::Reach;
use crate::report::Severity;

pub struct ImpostorCommit;

static META: RuleMeta = RuleMeta {
    id: "impostor-commit",
    summary: "SHA pin to a commit on no branch or tag of the repository it names",
    help: "A commit pushed to any fork can be fetched through the parent repository's name, \
           so `owner/repo@<sha>` may run code the owner never published. Pin a commit that \
           a branch or release tag of the repository contains.",
    help_url: "https://www.chainguard.dev/unchained/what-the-fork-imposter-commits-in-github-actions-and-ci-cd",
    default_severity: Severity::High,
    online: true,
};

impl Rule for ImpostorCommit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_uses(&self, uses: &Uses, cx: &mut Context<'_>) {
        let Some((owner, repo, sha)) = uses.sha_pin() else {
            return;
        };
        let Some(Reach::Impostor) = cx
            .facts()
            .and_then(|f| f.reach(owner, repo, &sha.to_ascii_lowercase()))
        else {
            return;
        };
        cx.report(
            Severity::High,
            &uses.location,
            &uses.raw,
            format!("{sha} is not on any branch or tag of {owner}/{repo}: it may come from a fork"),
            format!("pin a commit of a release of {owner}/{repo} (`cicd pin` on `{owner}/{repo}@<tag>` finds it)"),
        );
    }
}
