//! SBOMs attached to an image unsigned, when no key or identity is configured: per platform
//! manifest an OCI 1.1 artifact (`artifactType` the document's media type, the document as
//! its one layer, `subject` the platform's manifest), as `oras attach` stores one and
//! referrer-aware tools list it. Read back by artifact type: the layer is digest-checked by
//! the store, capped in size, and the artifact's `subject` must be the manifest asked about.
//! Anyone who may push can attach one; provenance needs the signed attestation instead.

use std::collections::BTreeMap;

use futures_util::StreamExt;

use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::manifest::{Descriptor, Kind};
use crate::oci::referrers::{self, Artifact};
use crate::oci::store::Store;

pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";
pub const SPDX_JSON: &str = "application/spdx+json";
const CREATED: &str = "org.opencontainers.image.created";
/// The largest attached SBOM read back.
const MAX_BYTES: u64 = 256 << 20;

/// What attaching did: the artifact's digest, and whether it was already there.
pub struct Attached {
    pub manifest: Digest,
    pub written: bool,
}

/// Attaches `document` (of `media_type`) to `subject` unless the same document is attached.
pub async fn attach(
    store: &Store,
    subject: &Descriptor,
    media_type: &str,
    document: &[u8],
    created: &str,
) -> Result<Attached, OciError> {
    let layer = Digest::of(document);
    for found in artifacts(store, subject, media_type).await? {
        if found.1.digest == layer {
            return Ok(Attached {
                manifest: found.0,
                written: false,
            });
        }
    }
    let artifact = Artifact {
        artifact_type: media_type,
        layer_media_type: media_type,
        layer: document,
        annotations: BTreeMap::from([(CREATED.to_owned(), created.to_owned())]),
    };
    let put = referrers::put(store, subject, &artifact).await?;
    Ok(Attached {
        manifest: put.digest,
        written: true,
    })
}

/// One SBOM read back: the artifact it came from and the document's bytes.
pub struct Found {
    pub manifest: Digest,
    pub bytes: Vec<u8>,
}

/// Every SBOM of `media_type` attached to `subject`, in the order the registry lists them.
pub async fn read(
    store: &Store,
    subject: &Descriptor,
    media_type: &str,
) -> Result<Vec<Found>, OciError> {
    let mut out = Vec::new();
    for (manifest, layer) in artifacts(store, subject, media_type).await? {
        if layer.size > MAX_BYTES {
            return Err(OciError::Manifest(format!(
                "the SBOM {} attached to {} in {} is {} bytes, over {MAX_BYTES}",
                layer.digest,
                subject.digest,
                store.describe(),
                layer.size
            )));
        }
        let mut stream = store.open_blob(&layer).await?;
        let mut bytes = Vec::with_capacity(usize::try_from(layer.size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        out.push(Found { manifest, bytes });
    }
    Ok(out)
}

/// `(artifact manifest, its layer)` for each referrer of `subject` holding a `media_type`
/// layer whose own `subject` is `subject` (a listing can be stale or copied from elsewhere).
async fn artifacts(
    store: &Store,
    subject: &Descriptor,
    media_type: &str,
) -> Result<Vec<(Digest, Descriptor)>, OciError> {
    let mut out = Vec::new();
    for entry in referrers::list(store, subject).await? {
        if entry
            .artifact_type
            .as_deref()
            .is_some_and(|t| t != media_type)
        {
            continue;
        }
        let Some(m) = store.manifest(entry.digest.as_str()).await? else {
            continue; // Listed but deleted.
        };
        let parsed = m.parse()?;
        if parsed.subject.as_ref().map(|s| &s.digest) != Some(&subject.digest) {
            continue;
        }
        let Kind::Image { layers, .. } = parsed.kind else {
            continue;
        };
        if let Some(layer) = layers.into_iter().find(|l| l.media_type == media_type) {
            out.push((m.digest, layer));
        }
    }
    Ok(out)
}
