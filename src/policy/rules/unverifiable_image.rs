//! `unverifiable-image`: a workflow image chosen by an expression only the run knows
//! (`inputs.*`, `vars.*`, `fromJSON(…)`, a step output); no digest can be checked here.

use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Image;
use crate::report::Severity;

pub struct UnverifiableImage;

static META: RuleMeta = RuleMeta {
    id: "unverifiable-image",
    summary: "container image chosen at run time",
    help: "An image named by `${{ inputs.image }}`, `${{ vars.IMAGE }}`, `fromJSON(…)` or a \
           step output is decided when the workflow runs, so no check can say whether it is \
           pinned. Pin it where it is chosen (the caller's input, the repository variable, \
           the JSON), or replace the expression with a matrix of digest-pinned references. \
           Turn this rule off in `cicd.yaml` when run-time images are intended.",
    help_url: "https://docs.github.com/en/actions/reference/workflows-and-actions/contexts",
    default_severity: Severity::Low,
    online: false,
};

impl Rule for UnverifiableImage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, image: &Image, cx: &mut Context<'_>) {
        let Some(expr) = &image.dynamic else { return };
        cx.report(
            Severity::Low,
            &image.location,
            &image.value,
            format!(
                "{} `{}` is chosen by `{expr}` at run time: whether it is pinned cannot be checked",
                image.origin.describe(),
                image.value
            ),
            format!("pin the image where `{expr}` is set (a reference ending in `@sha256:<digest>`), or list pinned images in a matrix"),
        );
    }
}
