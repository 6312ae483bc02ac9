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
    verify_known(ctx, req, None).await
}

/// The image a run already resolved and the checks of its evidence under one `require:`.
pub type Known = (Fetched, Vec<evidence::Check>);

/// [`verify`], given what this run already resolved and checked for the same source under the
/// same requirements (another environment of one release): neither is asked again.
pub async fn verify_known(
    ctx: &Context,
    req: &Request,
    known: Option<&Known>,
) -> Result<(Outcome, Option<Fetched>), PromoteError> {
    let src = ctx.store(&req.source, false)?;
    let image = match known {
        Some((image, _)) => image.clone(),
        None => src.resolve(&req.source).await?,
    };
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
    // The checks, the `after:` history and (in a registry) the environment tag are reads that
    // do not depend on each other: asked at once. A layout destination is created only once
    // the checks pass, so its tag is read after them.
    let registry_dst = match &req.destination {
        Location::Registry(_) => Some(ctx.store(&req.destination, false)?),
        Location::Layout { .. } => None,
    };
    // A promotion that will be applied also reads ahead what its history claim starts with
    // (`history::prepare`: reads only, nothing is written before the checks pass).
    let (checks, after, previous, prepared) = tokio::try_join!(
        async {
            match known {
                Some((_, checks)) => Ok(checks.clone()),
                None => Ok(evidence::check(&src, &image, &req.requirements, req.stamp.now).await?),
            }
        },
        after_refusal(ctx, req, &image),
        async {
            match &registry_dst {
                Some(dst) => current(dst, &req.tag).await,
                None => Ok(None),
            }
        },
        async {
            match &registry_dst {
                Some(dst) if !req.dry_run => {
                    Ok(history::prepare(dst, &req.environment, req.stamp.now).await?)
                }
                _ => Ok(history::Prepared::default()),
            }
        },
    )?;
    out.prepared = prepared;
    out.evidence = checks;
    out.refused = evidence::failures(&out.evidence);
    out.refused.extend(after);
    if !out.refused.is_empty() {
        return Ok((out, None));
    }
    out.previous_digest = match registry_dst {
        Some(_) => previous,
        None => current(&ctx.store(&req.destination, true)?, &req.tag).await?,
    };
    Ok((out, Some(image)))
}

/// Why `after:` refuses `image` (it was never promoted to the previous environment), if it does.
async fn after_refusal(
    ctx: &Context,
    req: &Request,
    image: &Fetched,
) -> Result<Option<String>, PromoteError> {
    let Some((prev, repo)) = &req.after else {
        return Ok(None);
    };
    let store = ctx.store(repo, false)?;
    let entries = history::read(&store, prev).await?;
    Ok((!history::contains(&entries, &image.digest)).then(|| {
        format!(
            "after: {} was never promoted to `{prev}` ({} has no {prev}-<time> entry for it); promote it to {prev} first",
            image.digest, repo
        )
    }))
}

/// Copies (when the environment lives elsewhere) and re-verifies there while claiming a
/// history slot (`history::hold`, its first reads made during `verify`), then moves the
/// environment tag and tags the entry at once (`history::enter`). A failed re-verification or claim leaves the environment tag where it
/// was.
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
    let prepared = std::mem::take(&mut out.prepared);
    let hold = history::hold(dst, image, &facts, req.stamp.now, &prepared);
    let slot = if cross {
        out.copied = Some(copy(&src, dst, &req.source, &req.destination, image).await?);
        // The re-verification and the slot claim are independent: run at once. The claim
        // writes only the slot's scratch and record tags; a slot whose promotion is then
        // refused is never entered (no history tag), which readers skip.
        let (checks, slot) = tokio::try_join!(
            async { Ok(evidence::check(dst, image, &req.requirements, req.stamp.now).await?) },
            async { Ok::<_, PromoteError>(hold.await?) },
        )?;
        out.evidence_at_destination = checks;
        out.refused = evidence::failures(&out.evidence_at_destination)
            .into_iter()
            .map(|r| format!("at {}: {r}", req.destination))
            .collect();
        if !out.refused.is_empty() {
            return Ok(());
        }
        slot
    } else {
        hold.await?
    };
    // The environment tag moves only now (with the history tag, at once: `history::enter`):
    // the evidence holds and the history slot is held.
    history::enter(dst, image, &req.tag, &slot).await?;
    out.history_tag = Some(slot);
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
