//! `unpinned-image`: a container image named by tag (or by nothing, meaning `latest`) is
//! whatever the registry serves under that tag today.

use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Image;
use crate::oci::reference::Reference;
use crate::report::Severity;

pub struct UnpinnedImage;

static META: RuleMeta = RuleMeta {
    id: "unpinned-image",
    summary: "container image not pinned to a digest",
    help: "A tag is a mutable pointer: the registry can serve different content under it \
           tomorrow, and `latest` (or no tag) changes on every release. Add the manifest \
           digest — for multi-arch images the index digest — as `name:tag@sha256:<digest>`; \
           the tag stays for readers and is ignored when pulling.",
    help_url: "https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier",
    default_severity: Severity::Medium,
    online: false,
};

impl Rule for UnpinnedImage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, image: &Image, cx: &mut Context<'_>) {
        // Chosen at run time: `unverifiable-image` reports it.
        if image.dynamic.is_some() {
            return;
        }
        let what = image.origin.describe();
        let via = image
            .via
            .as_deref()
            .map(|v| format!(" (from `{v}`)"))
            .unwrap_or_default();
        if let Some(var) = &image.unresolved {
            cx.report(
                Severity::Medium,
                &image.location,
                &image.value,
                format!(
                    "{what} `{}` is chosen by `${{{var}}}`, which has no default here, so no digest pins it",
                    image.value
                ),
                format!("give `{var}` a default that ends in `@sha256:<digest>`, or write the digest after the variable"),
            );
            return;
        }
        let reference = match Reference::parse(&image.value) {
            Ok(r) => r,
            Err(e) => {
                cx.report(
                    Severity::High,
                    &image.location,
                    &image.value,
                    format!(
                        "{what} `{}`{via} is not a valid image reference: {e}",
                        image.value
                    ),
                    "write it as `[registry/]name[:tag]@sha256:<digest>`".into(),
                );
                return;
            }
        };
        if reference.digest.is_some() {
            return;
        }
        let name = reference.name();
        let short_name = match image.value.rfind(':') {
            Some(i) if !image.value[i..].contains('/') => &image.value[..i],
            _ => image.value.as_str(),
        };
        let fix = format!(
            "run `cicd pin`, or add the digest: `{}@sha256:<digest>` (`skopeo inspect --format '{{{{.Digest}}}}' docker://{}` prints it)",
            image.value, image.value
        );
        match reference.tag.as_deref() {
            None | Some("latest") => cx.report(
                Severity::High,
                &image.location,
                &image.value,
                format!(
                    "{what} `{}`{via} uses `latest`, which changes with every release",
                    image.value
                ),
                fix,
            ),
            Some(tag) => {
                if cx.settings.allows(&[&name, short_name]) {
                    return;
                }
                cx.report(
                    Severity::Medium,
                    &image.location,
                    &image.value,
                    format!(
                        "{what} `{}`{via} is pinned to tag `{tag}`, not a digest",
                        image.value
                    ),
                    fix,
                );
            }
        }
    }
}
