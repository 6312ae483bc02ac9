//! Where signatures live next to an image, written and read through `oci::Store`:
//! - bundles as OCI 1.1 referrers (empty config, `subject`, `artifactType` and cosign's
//!   annotations), listed by the registry's referrers API or, without one (and in layouts),
//!   in the `sha256-<hex>` tag-schema index, appended to and never replaced;
//! - legacy simple-signing layers in the `sha256-<hex>.sig` manifest, appended as layers.

use std::collections::BTreeMap;

use serde_json::json;

use super::oci_io as io;
use crate::oci::attach::Attachment;
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::manifest::{DOCKER_LIST, Descriptor, Kind, OCI_INDEX, OCI_MANIFEST, Platform};
use crate::oci::referrers::{self, Artifact};
use crate::oci::store::{Fetched, Store};

pub use crate::oci::referrers::EMPTY_MEDIA_TYPE;
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CONTENT: &str = "dev.sigstore.bundle.content";
pub const PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
pub const CREATED: &str = "org.opencontainers.image.created";
/// The most bytes of a simple-signing payload we read.
const MAX_PAYLOAD: u64 = 1 << 20;

/// The image a signature is about: its digest, media type and size (the referrer's subject).
#[derive(Clone, Debug)]
pub struct Subject {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

impl Subject {
    pub fn of(m: &Fetched) -> Self {
        Self {
            digest: m.digest.clone(),
            media_type: m.media_type.clone(),
            size: m.bytes.len() as u64,
        }
    }

    /// The manifest a descriptor (an index entry) names.
    pub fn from_descriptor(d: &Descriptor) -> Self {
        Self {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            size: d.size,
        }
    }

    /// The subject as a descriptor (what a referrer's `subject` field holds).
    pub fn as_descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            ..Descriptor::default()
        }
    }

    pub fn sig_tag(&self) -> String {
        Attachment::Signature.tag(&self.digest)
    }
}

/// The most levels of nested indexes `recursive` descends.
const MAX_DEPTH: usize = 4;

/// `image` and, when it is an index, every manifest it lists (nested indexes included), each
/// with the platform its index entry names: what `--recursive` signs. Nested indexes are
/// fetched by digest, so the store checks their bytes before their entries are trusted.
pub async fn recursive(
    store: &Store,
    image: &Fetched,
) -> Result<Vec<(Subject, Option<Platform>)>, OciError> {
    let mut out = vec![(Subject::of(image), None)];
    let mut queue = vec![(image.clone(), 0usize)];
    while let Some((m, depth)) = queue.pop() {
        let Kind::Index(entries) = m.parse()?.kind else {
            continue;
        };
        for entry in entries {
            if out.iter().any(|(s, _)| s.digest == entry.digest) {
                continue;
            }
            out.push((Subject::from_descriptor(&entry), entry.platform.clone()));
            let nested = matches!(entry.media_type.as_str(), OCI_INDEX | DOCKER_LIST);
            if nested && depth < MAX_DEPTH {
                let child = io::manifest(store, entry.digest.as_str())
                    .await?
                    .ok_or_else(|| {
                        OciError::Manifest(format!(
                            "{} lists {} but {} does not have it",
                            m.digest,
                            entry.digest,
                            store.describe()
                        ))
                    })?;
                queue.push((child, depth + 1));
            }
        }
    }
    Ok(out)
}

/// What writing a signature did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stored {
    /// The referrer manifest's digest, or the `.sig` manifest's.
    pub manifest: Digest,
    /// False when the same signature was already there (re-signing is idempotent).
    pub written: bool,
}

/// Stores a bundle as a referrer of `subject`, unless a referrer with the same bundle is
/// already there.
pub async fn put_bundle(
    store: &Store,
    subject: &Subject,
    bundle: &[u8],
    predicate_type: &str,
    created: &str,
) -> Result<Stored, OciError> {
    let layer_digest = Digest::of(bundle);
    for found in bundles(store, subject).await? {
        if found.layer_digest == layer_digest {
            return Ok(Stored {
                manifest: found.manifest,
                written: false,
            });
        }
    }
    let artifact = Artifact {
        artifact_type: super::bundle::MEDIA_TYPE,
        layer_media_type: super::bundle::MEDIA_TYPE,
        layer: bundle,
        annotations: BTreeMap::from([
            (CONTENT.to_owned(), "dsse-envelope".to_owned()),
            (PREDICATE_TYPE.to_owned(), predicate_type.to_owned()),
            (CREATED.to_owned(), created.to_owned()),
        ]),
    };
    let put = referrers::put(store, &subject.as_descriptor(), &artifact).await?;
    Ok(Stored {
        manifest: put.digest,
        written: true,
    })
}

/// A bundle found attached to an image.
#[derive(Clone, Debug)]
pub struct FoundBundle {
    /// The referrer manifest's digest.
    pub manifest: Digest,
    pub layer_digest: Digest,
    /// The manifest's own `subject` digest (a copied signature names another image).
    pub subject: Option<Digest>,
    /// The manifest's `org.opencontainers.image.created` annotation (the signer's word, unsigned).
    pub created: Option<String>,
    pub bytes: Vec<u8>,
}

/// Every bundle referrer of `subject`: the referrers API's list, else the fallback index.
/// Entries are selected by their layer's media type (some registries drop `artifactType`).
pub async fn bundles(store: &Store, subject: &Subject) -> Result<Vec<FoundBundle>, OciError> {
    bundles_of(store, subject, None).await
}

/// The bundle referrers of `subject` that may hold `predicate_type`: an entry whose
/// `dev.sigstore.bundle.predicateType` annotation names another type is not fetched (the
/// annotation is unsigned, so it only ever skips; the statement inside is what is checked).
pub async fn bundles_of(
    store: &Store,
    subject: &Subject,
    predicate_type: Option<&str>,
) -> Result<Vec<FoundBundle>, OciError> {
    let entries = referrers::list(store, &subject.as_descriptor()).await?;
    let mut found = Vec::new();
    for entry in entries {
        if let (Some(want), Some(said)) = (
            predicate_type,
            entry
                .annotations
                .as_ref()
                .and_then(|a| a.get(PREDICATE_TYPE)),
        ) && want != said
        {
            continue;
        }
        let Some(m) = io::manifest(store, entry.digest.as_str()).await? else {
            continue; // Listed but deleted: nothing to verify.
        };
        let parsed = m.parse()?;
        let Kind::Image { layers, .. } = &parsed.kind else {
            continue;
        };
        let Some(layer) = layers
            .iter()
            .find(|l| l.media_type == super::bundle::MEDIA_TYPE)
        else {
            continue;
        };
        let bytes = io::blob(store, layer, super::bundle::MAX_BYTES).await?;
        found.push(FoundBundle {
            manifest: m.digest,
            layer_digest: layer.digest.clone(),
            subject: parsed.subject.map(|s| s.digest),
            created: parsed.annotations.get(CREATED).cloned(),
            bytes,
        });
    }
    Ok(found)
}

/// Appends a simple-signing layer (payload + signature annotation) to `sha256-<hex>.sig`,
/// unless the same payload and signature are already there.
pub async fn put_legacy(
    store: &Store,
    subject: &Subject,
    payload: &[u8],
    annotations: BTreeMap<String, String>,
) -> Result<Stored, OciError> {
    let layer = Layer {
        tag: subject.sig_tag(),
        media_type: SIMPLE_SIGNING,
        payload,
        annotations,
        what: "cosign's signature image",
    };
    append_layer(store, &layer).await
}

/// One layer to append to a cosign tag-scheme image (`.sig` or `.att`).
pub(super) struct Layer<'a> {
    pub tag: String,
    pub media_type: &'static str,
    pub payload: &'a [u8],
    pub annotations: BTreeMap<String, String>,
    /// What the tag holds, for the error when it holds an index.
    pub what: &'static str,
}

/// Appends `layer` to the image under its tag, keeping every layer already there; nothing
/// is written when a layer with the same payload and signature annotation is there.
pub(super) async fn append_layer(store: &Store, layer: &Layer<'_>) -> Result<Stored, OciError> {
    let tag = &layer.tag;
    let payload_digest = Digest::of(layer.payload);
    let mut layers = Vec::new();
    if let Some(existing) = io::manifest(store, tag).await? {
        match existing.parse()?.kind {
            Kind::Image { layers: old, .. } => layers = old,
            Kind::Index(_) => {
                return Err(OciError::Manifest(format!(
                    "{tag} in {} is an index, not {}; refusing to replace it",
                    store.describe(),
                    layer.what
                )));
            }
        }
        let same = |l: &Descriptor| {
            l.digest == payload_digest
                && l.annotations
                    .as_ref()
                    .and_then(|a| a.get(SIGNATURE_ANNOTATION))
                    == layer.annotations.get(SIGNATURE_ANNOTATION)
        };
        if layers.iter().any(same) {
            return Ok(Stored {
                manifest: existing.digest,
                written: false,
            });
        }
    }
    let mut desc = io::put_blob(store, layer.media_type, layer.payload).await?;
    desc.annotations = Some(layer.annotations.clone());
    layers.push(desc);
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .map_err(|e| OciError::Manifest(e.to_string()))?;
    let config = io::put_blob(store, "application/vnd.oci.image.config.v1+json", &config).await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::Manifest(e.to_string()))?;
    let put = io::put_manifest(store, bytes, OCI_MANIFEST, Some(tag)).await?;
    Ok(Stored {
        manifest: put.digest,
        written: true,
    })
}

/// A simple-signing layer found in `sha256-<hex>.sig`.
#[derive(Clone, Debug)]
pub struct FoundLegacy {
    pub payload: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

/// Every simple-signing layer of `subject`'s `.sig` manifest.
pub async fn legacy(store: &Store, subject: &Subject) -> Result<Vec<FoundLegacy>, OciError> {
    layers_of(store, &subject.sig_tag(), SIMPLE_SIGNING, MAX_PAYLOAD).await
}

/// Every layer of `media_type` in the image under `tag` (none when the tag is absent).
pub(super) async fn layers_of(
    store: &Store,
    tag: &str,
    media_type: &str,
    max: u64,
) -> Result<Vec<FoundLegacy>, OciError> {
    let Some(m) = io::manifest(store, tag).await? else {
        return Ok(Vec::new());
    };
    let Kind::Image { layers, .. } = m.parse()?.kind else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for layer in layers.iter().filter(|l| l.media_type == media_type) {
        found.push(FoundLegacy {
            payload: io::blob(store, layer, max).await?,
            annotations: layer.annotations.clone().unwrap_or_default(),
        });
    }
    Ok(found)
}
