//! Image references in workflows, Dockerfiles and compose files gain the digest their tag
//! resolves to (for a multi-arch image, the index digest), written where the reference is
//! written; references assembled from variables are reported, not guessed at.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use super::rewrite::{Edit, What, with_digest};
use super::{Change, Failure, Unresolved};
use crate::inputs::document::{Document, Image};
use crate::oci::reference::Reference;

/// How many registries' answers are awaited at once.
const PARALLEL: usize = 8;

/// Resolves `name:tag` to the manifest digest the registry serves for it.
pub trait DigestResolver: Send + Sync + 'static {
    fn digest(&self, reference: Reference) -> impl Future<Output = Result<String, Failure>> + Send;
}

/// The image references worth resolving in `docs`: without a digest, or (with `update`)
/// with one that may be stale.
pub fn wanted(docs: &[&Document], update: bool) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::new();
    for doc in docs {
        for image in &doc.images {
            if let Some(reference) = pinnable(doc, image, update).ok().flatten()
                && !out.contains(&reference)
            {
                out.push(reference);
            }
        }
    }
    out
}

/// The reference to resolve for `image` (its tag, digest dropped); `Ok(None)` when there is
/// nothing to do, `Err` when it cannot be rewritten where it is written.
fn pinnable(doc: &Document, image: &Image, update: bool) -> Result<Option<Reference>, String> {
    if let Some(var) = &image.unresolved {
        return Err(format!(
            "chosen by `${{{var}}}`: give the variable a default with a digest"
        ));
    }
    let Ok(mut reference) = Reference::parse(&image.value) else {
        return Ok(None);
    };
    if reference.digest.is_some() && !update {
        return Ok(None);
    }
    if reference.digest.is_some() && reference.tag.is_none() {
        // Digest only: no tag to follow.
        return Ok(None);
    }
    if written(doc, image).is_none() {
        let via = image.via.as_deref().unwrap_or("an expression");
        return Err(format!(
            "written through `{via}`: pin it where the value is written"
        ));
    }
    reference.digest = None;
    if reference.tag.is_none() {
        reference.tag = Some("latest".into());
    }
    Ok(Some(reference))
}

/// The text at the image's location when it is the reference itself (not `${BASE}`).
fn written<'d>(doc: &'d Document, image: &Image) -> Option<&'d str> {
    let loc = &image.location;
    if loc.start.line != loc.end.line {
        return None;
    }
    let line = doc.source.text.line(loc.start.line)?;
    let from = line.char_indices().nth(loc.start.column - 1)?.0;
    let to = line
        .char_indices()
        .nth(loc.end.column - 1)
        .map_or(line.len(), |(i, _)| i);
    let text = line.get(from..to)?;
    let bare = text.strip_prefix("docker://").unwrap_or(text);
    (bare == image.value && !text.contains('$')).then_some(text)
}

/// Digests for every wanted reference, asked concurrently.
pub async fn resolve_all<R: DigestResolver>(
    resolver: Arc<R>,
    wanted: Vec<Reference>,
) -> HashMap<Reference, Result<String, Failure>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for reference in wanted {
        let (resolver, limit) = (resolver.clone(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let digest = resolver.digest(reference.clone()).await;
            (reference, digest)
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((reference, digest)) = joined {
            out.insert(reference, digest);
        }
    }
    out
}

/// Edits (and what they change) for the images of one document.
pub fn edits(
    doc: &Document,
    digests: &HashMap<Reference, Result<String, Failure>>,
    update: bool,
) -> (Vec<Edit>, Vec<Change>, Vec<Unresolved>) {
    let (mut edits, mut changes, mut unresolved) = (Vec::new(), Vec::new(), Vec::new());
    for image in &doc.images {
        let loc = &image.location;
        let reference = match pinnable(doc, image, update) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(reason) => {
                unresolved.push(Unresolved {
                    file: loc.file.clone(),
                    line: loc.start.line,
                    reference: image.value.clone(),
                    reason,
                    external: false,
                });
                continue;
            }
        };
        let Some(text) = written(doc, image) else {
            continue;
        };
        match digests.get(&reference) {
            Some(Ok(digest)) => {
                let new = with_digest(text, digest);
                if new == text {
                    continue;
                }
                changes.push(Change {
                    file: loc.file.clone(),
                    line: loc.start.line,
                    from: text.to_owned(),
                    to: new.clone(),
                    comment: String::new(),
                    branch: false,
                });
                edits.push(Edit {
                    start: loc.start,
                    end: loc.end,
                    what: What::Value(new),
                });
            }
            Some(Err(failure)) => unresolved.push(Unresolved {
                file: loc.file.clone(),
                line: loc.start.line,
                reference: image.value.clone(),
                reason: failure.reason.clone(),
                external: failure.external,
            }),
            None => {}
        }
    }
    (edits, changes, unresolved)
}
