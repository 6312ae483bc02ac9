//! What `cicd image inspect` reports about an image: digest, media type, size, each
//! platform's manifest, config, layers, annotations and the artifacts attached to it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::attach;
use super::digest::Digest;
use super::error::OciError;
use super::manifest::{Descriptor, ImageConfig, Kind};
use super::store::Store;
use super::transport::Location;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    pub reference: String,
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// One entry per platform: an index's children, or the image itself.
    pub manifests: Vec<PlatformManifest>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformManifest {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// `os/arch[/variant]`, or null for an artifact without one.
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
    /// Sum of config and layer sizes.
    pub total_size: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The manifest it is attached to.
    pub subject: Digest,
    /// `sha256-<hex>.sig` and the like.
    pub tag: String,
    pub digest: Digest,
    pub media_type: String,
}

pub async fn inspect(store: &Store, loc: &Location) -> Result<Inspection, OciError> {
    let root = store.resolve(loc).await?;
    let parsed = root.parse()?;
    let mut manifests = Vec::new();
    let mut subjects = vec![root.digest.clone()];
    match &parsed.kind {
        Kind::Index(children) => {
            for child in children {
                subjects.push(child.digest.clone());
                manifests.push(inspect_child(store, &root.digest, child).await?);
            }
        }
        Kind::Image { config, layers } => {
            let platform = platform_of(store, config).await?;
            manifests.push(PlatformManifest {
                digest: root.digest.clone(),
                media_type: root.media_type.clone(),
                size: root.bytes.len() as u64,
                platform,
                total_size: total(&Some((**config).clone()), layers),
                config: Some((**config).clone()),
                layers: layers.clone(),
            });
        }
    }
    let mut attachments = Vec::new();
    for subject in subjects {
        for tag in attach::tags(&subject) {
            if let Some(found) = store.manifest(&tag).await? {
                attachments.push(Attachment {
                    subject: subject.clone(),
                    tag,
                    digest: found.digest,
                    media_type: found.media_type,
                });
            }
        }
    }
    Ok(Inspection {
        reference: loc.to_string(),
        digest: root.digest.clone(),
        media_type: root.media_type.clone(),
        size: root.bytes.len() as u64,
        manifests,
        annotations: parsed.annotations,
        attachments,
    })
}

/// One platform of an index. A child the index lists must be there: showing it empty would
/// hide that.
async fn inspect_child(
    store: &Store,
    index: &Digest,
    child: &Descriptor,
) -> Result<PlatformManifest, OciError> {
    let platform = child.platform.as_ref().map(ToString::to_string);
    let fetched = store
        .manifest(child.digest.as_str())
        .await
        .map_err(|e| match e {
            OciError::Layout { path, message } => OciError::Layout {
                path,
                message: format!(
                    "the {} manifest the index lists: {message}",
                    platform.as_deref().unwrap_or("platform")
                ),
            },
            other => other,
        })?
        .ok_or_else(|| OciError::NotFound {
            what: format!("platform manifest {} listed by {index}", child.digest),
            place: store.describe(),
        })?;
    let (config, layers) = match fetched.parse()?.kind {
        Kind::Image { config, layers } => (Some(*config), layers),
        Kind::Index(_) => (None, Vec::new()),
    };
    Ok(PlatformManifest {
        digest: child.digest.clone(),
        media_type: child.media_type.clone(),
        size: child.size,
        platform,
        total_size: total(&config, &layers),
        config,
        layers,
    })
}

fn total(config: &Option<Descriptor>, layers: &[Descriptor]) -> u64 {
    config.as_ref().map_or(0, |c| c.size) + layers.iter().map(|l| l.size).sum::<u64>()
}

/// `os/arch[/variant]` from an image config blob (skipped for non-image artifacts).
async fn platform_of(store: &Store, config: &Descriptor) -> Result<Option<String>, OciError> {
    if !(config.media_type.contains("image.config")
        || config.media_type.contains("container.image"))
    {
        return Ok(None);
    }
    let bytes = match store {
        Store::Layout(l) => l.read_verified(&config.digest)?,
        Store::Registry { .. } => {
            use futures_util::TryStreamExt;
            let chunks: Vec<bytes::Bytes> = store.open_blob(config).await?.try_collect().await?;
            chunks.concat()
        }
    };
    let cfg: ImageConfig = serde_json::from_slice(&bytes).unwrap_or_default();
    if cfg.os.is_empty() || cfg.architecture.is_empty() {
        return Ok(None);
    }
    let mut p = format!("{}/{}", cfg.os, cfg.architecture);
    if let Some(v) = cfg.variant {
        p.push('/');
        p.push_str(&v);
    }
    Ok(Some(p))
}
