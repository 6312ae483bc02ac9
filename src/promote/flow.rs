//! One promotion: resolve the digest, check the evidence, check `after:`, and only then copy
//! (with every attachment) when the environment lives elsewhere, re-verify there, claim a
//! history slot, move the environment tag and tag the entry. A refusal writes nothing.

use std::sync::atomic::Ordering;

use crate::oci::copy::Copier;
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

use super::evidence::{self, Requirements};
use super::history::{self, Facts};
use super::{Copied, Outcome, PromoteError, Stamp, at_digest, same_repository};

/// A promotion as asked.
pub struct Request {
    pub source: Location,
    pub environment: String,
    /// The environment's repository (no tag).
    pub destination: Location,
    pub tag: String,
    pub requirements: Requirements,
    /// `after:`: the previous environment's name and repository.
    pub after: Option<(String, Location)>,
    pub version: Option<String>,
    pub dry_run: bool,
    pub stamp: Stamp,
}

/// Resolves and checks: the outcome (with `refused` filled when it must not go ahead) and,
/// when it may, the image to [`apply`]. Writes nothing.
pub async fn verify(
    ctx: &Context,
    req: &Request,
) -> Result<(Outcome, Option<Fetched>), PromoteError> {
    let src = ctx.store(&req.source, false)?;
    let image = src.resolve(&req.source).await?;
    let mut out = Outcome {
        environment: req.environment.clone(),
        kind: "promote",
        digest: image.digest.to_string(),
        version: req.version.clone(),
        source: req.source.to_string(),
        destination: req.destination.to_string(),
        tag: req.tag.clone(),
        dry_run: req.dry_run,
        ..Outcome::default()
    };
    out.evidence = evidence::check(&src, &image, &req.requirements, req.stamp.now).await?;
    out.refused = evidence::failures(&out.evidence);
    if let Some((prev, repo)) = &req.after {
        let store = ctx.store(repo, false)?;
        let entries = history::read(&store, prev).await?;
        if !history::contains(&entries, &image.digest) {
            out.refused.push(format!(
                "after: {} was never promoted to `{prev}` ({} has no {prev}-<time> entry for it); promote it to {prev} first",
                image.digest, repo
            ));
        }
    }
    if !out.refused.is_empty() {
        return Ok((out, None));
    }
    let dst = ctx.store(&req.destination, true)?;
    out.previous_digest = current(&dst, &req.tag).await?;
    Ok((out, Some(image)))
}

/// Copies (when the environment lives elsewhere) and re-verifies there, then claims a history
/// slot, moves the environment tag and tags the entry (`history::append`). A failed
/// re-verification or claim leaves the environment tag where it was.
pub async fn apply(
    ctx: &Context,
    req: &Request,
    image: &Fetched,
    out: &mut Outcome,
) -> Result<(), PromoteError> {
    let src = ctx.store(&req.source, false)?;
    let cross = !same_repository(&req.source, &req.destination);
    let dst_owned;
    let dst: &Store = if cross {
        dst_owned = ctx.store(&req.destination, true)?;
        &dst_owned
    } else {
        &src
    };
    if cross {
        out.copied = Some(copy(&src, dst, &req.source, &req.destination, image).await?);
        out.evidence_at_destination =
            evidence::check(dst, image, &req.requirements, req.stamp.now).await?;
        out.refused = evidence::failures(&out.evidence_at_destination)
            .into_iter()
            .map(|r| format!("at {}: {r}", req.destination))
            .collect();
        if !out.refused.is_empty() {
            return Ok(());
        }
    }
    let facts = Facts {
        environment: req.environment.clone(),
        digest: image.digest.to_string(),
        version: req.version.clone(),
        time: crate::time::rfc3339(req.stamp.now),
        actor: req.stamp.actor.clone(),
        kind: "promote".into(),
        rolled_back_from: None,
        forced: false,
        previous_digest: out.previous_digest.clone(),
        run: req.stamp.run.clone(),
    };
    // The environment tag moves inside `append`, once a history slot is held.
    out.history_tag = Some(history::append(dst, image, &facts, req.stamp.now, &req.tag).await?);
    Ok(())
}

/// The digest `tag` points at in `store`, if it exists.
pub async fn current(store: &Store, tag: &str) -> Result<Option<String>, PromoteError> {
    Ok(store.manifest(tag).await?.map(|m| m.digest.to_string()))
}

async fn copy(
    src: &Store,
    dst: &Store,
    from: &Location,
    to: &Location,
    image: &Fetched,
) -> Result<Copied, PromoteError> {
    let copier = Copier::new(src, dst);
    let from = at_digest(from, image.digest.as_str());
    // The image was resolved (and its digest checked) by `verify`: not fetched again.
    let done = copier
        .run_resolved(image.clone(), &from, &super::repository_of(to), None)
        .await?;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    Ok(Copied {
        manifests: done.manifests.len(),
        blobs_copied: load(&copier.stats.blobs_copied),
        blobs_mounted: load(&copier.stats.blobs_mounted),
        blobs_skipped: load(&copier.stats.blobs_skipped),
        bytes_uploaded: load(&copier.stats.bytes_uploaded),
        attachments: done.attachments,
    })
}
