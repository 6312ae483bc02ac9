//! `unpinned-action`: a `uses:` that names another repository by anything but a full commit
//! SHA runs whatever that ref points to on the day the workflow runs.

use super::{Context, Rule, RuleMeta};
use crate::inputs::document::{Uses, UsesContext};
use crate::inputs::uses::{ActionRef, RefKind, classify};
use crate::report::Severity;

pub struct UnpinnedAction;

static META: RuleMeta = RuleMeta {
    id: "unpinned-action",
    summary: "action or reusable workflow not pinned to a full commit SHA",
    help: "Tags and branches can be moved to other code by anyone who can push to the action's \
           repository, including an attacker who took it over. Pin `uses:` to the full \
           40-character commit SHA and keep the version in a trailing comment \
           (`uses: actions/checkout@<sha> # v4.2.2`) so Dependabot and Renovate can update it.",
    help_url: "https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions",
    default_severity: Severity::Medium,
    online: false,
};

impl Rule for UnpinnedAction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_uses(&self, uses: &Uses, cx: &mut Context<'_>) {
        let what = match uses.context {
            UsesContext::ReusableWorkflow => "reusable workflow",
            UsesContext::Step | UsesContext::CompositeStep => "action",
        };
        let (target, git_ref) = match &uses.target {
            ActionRef::Local(_) | ActionRef::Docker(_) => return,
            ActionRef::Invalid(raw) => {
                cx.report(
                    Severity::High,
                    &uses.location,
                    &uses.raw,
                    format!("`{raw}` is not `owner/repo[/path]@ref`, so what runs cannot be told"),
                    "write the reference as `owner/repo@<40-character commit SHA>`".into(),
                );
                return;
            }
            ActionRef::Repository {
                owner,
                repo,
                git_ref,
                ..
            } => (format!("{owner}/{repo}"), git_ref),
        };
        let Some(git_ref) = git_ref else {
            cx.report(
                Severity::High,
                &uses.location,
                &uses.raw,
                format!("{what} `{}` has no `@ref`", uses.raw),
                format!("pin it: `{}@<40-character commit SHA>`", uses.raw),
            );
            return;
        };
        let path_name = uses.raw.split('@').next().unwrap_or(&uses.raw);
        let fix_with = |version: &str| {
            format!(
                "run `cicd pin`, or pin `{path_name}` to the full commit SHA `{git_ref}` points to: `{path_name}@<sha> # {version}`"
            )
        };
        match classify(git_ref) {
            RefKind::FullSha => {}
            RefKind::Tag => {
                if cx.settings.allows(&[&target, path_name]) {
                    return;
                }
                cx.report(
                    Severity::Medium,
                    &uses.location,
                    &uses.raw,
                    format!("{what} `{}` is pinned to tag `{git_ref}`, which can be moved", uses.raw),
                    fix_with(git_ref),
                );
            }
            RefKind::Branch => cx.report(
                Severity::High,
                &uses.location,
                &uses.raw,
                format!("{what} `{}` follows branch `{git_ref}`: every push to it changes what runs", uses.raw),
                fix_with(git_ref),
            ),
            RefKind::ShortSha => cx.report(
                Severity::High,
                &uses.location,
                &uses.raw,
                format!("{what} `{}` uses an abbreviated SHA, which GitHub refuses and which can collide", uses.raw),
                format!("write all 40 characters of the commit SHA that starts with `{git_ref}`"),
            ),
        }
    }
}
