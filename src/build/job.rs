//! One build: the native backend writes straight into the destination; buildah fills a
//! staging layout that is then published there; buildx pushes itself. The result is
//! described as an [`Outcome`].

use std::path::PathBuf;

use super::native::{self, Request as NativeRequest};
use super::publish::{Staging, publish};
use super::source::Source;
use super::{BuildError, Outcome, PlatformResult, buildah, buildx};
use crate::config::images::{DockerfileSpec, ImageSpec};
use crate::oci::error::OciError;
use crate::oci::manifest::{Kind, Platform};
use crate::oci::store::Context;
use crate::oci::transport::Location;

/// Which tool makes the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Native,
    Buildah,
    Buildx,
}

pub struct Job<'a> {
    pub name: &'a str,
    pub image: &'a ImageSpec,
    /// The directory holding cicd.yaml: sources are read from here.
    pub tree: PathBuf,
    pub platforms: Vec<Platform>,
    /// One platform for a fan-out runner: the root is its manifest, not an index.
    pub single: bool,
    pub backend: Backend,
    pub to: Location,
    pub tags: Vec<String>,
    pub source: Source,
}

pub async fn run(ctx: &Context, job: &Job<'_>) -> Result<Outcome, BuildError> {
    let (root, platforms, shared_layers, local_layers) = match job.backend {
        Backend::Native => {
            let spec = job.image.native.as_ref().ok_or_else(|| {
                BuildError::Usage(format!("image `{}` has no `native:` section", job.name))
            })?;
            let req = NativeRequest {
                spec,
                tree: job.tree.clone(),
                platforms: job.platforms.clone(),
                source: job.source.clone(),
                single: job.single,
            };
            // Written straight into the destination: only the names are left to set.
            let s = native::build(ctx, &req, &job.to).await?;
            s.dst.set_tag(&s.root, job.to.tag()).await?;
            for tag in &job.tags {
                s.dst.set_tag(&s.root, Some(tag)).await?;
            }
            (s.root, s.platforms, s.shared_layers, s.local)
        }
        Backend::Buildah => {
            let staging = Staging::new()?;
            let s = buildah::build(
                dockerfile(job)?,
                &job.tree,
                &job.platforms,
                job.single,
                job.source.epoch,
                &staging,
            )?;
            publish(ctx, &staging, &s.root, &job.to, &job.tags).await?;
            (s.root, s.platforms, 0, Vec::new())
        }
        Backend::Buildx => {
            let digest = buildx::build(
                dockerfile(job)?,
                &job.tree,
                &job.platforms,
                &job.to,
                &job.tags,
            )?;
            return pushed(ctx, job, &digest).await;
        }
    };
    Ok(Outcome {
        image: job.name.to_owned(),
        destination: job.to.to_string(),
        digest: root.digest.to_string(),
        media_type: root.media_type.clone(),
        platforms,
        tags: job.tags.clone(),
        shared_layers,
        local_layers,
    })
}

fn dockerfile<'a>(job: &Job<'a>) -> Result<&'a DockerfileSpec, BuildError> {
    job.image.dockerfile.as_ref().ok_or_else(|| {
        BuildError::Usage(format!("image `{}` has no `dockerfile:` section", job.name))
    })
}

/// The outcome for an image a tool pushed itself, read back from the registry.
async fn pushed(ctx: &Context, job: &Job<'_>, digest: &str) -> Result<Outcome, BuildError> {
    let store = ctx.store(&job.to, false)?;
    let root = store
        .manifest(digest)
        .await?
        .ok_or_else(|| OciError::NotFound {
            what: format!("the image buildx reported ({digest})"),
            place: store.describe(),
        })?;
    let platforms = match root.parse()?.kind {
        Kind::Index(children) => children
            .iter()
            .map(|c| PlatformResult {
                platform: c
                    .platform
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                digest: c.digest.to_string(),
                size: c.size,
            })
            .collect(),
        Kind::Image { .. } => Vec::new(),
    };
    Ok(Outcome {
        image: job.name.to_owned(),
        destination: job.to.to_string(),
        digest: root.digest.to_string(),
        media_type: root.media_type,
        platforms,
        tags: job.tags.clone(),
        shared_layers: 0,
        local_layers: Vec::new(),
    })
}
