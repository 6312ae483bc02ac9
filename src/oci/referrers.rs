//! OCI 1.1 referrers of a manifest, for every artifact attached that way (signature bundles,
//! unsigned SBOMs): one artifact manifest written from memory (empty config, its layers,
//! `subject`, `artifactType`, annotations) and listed by the registry's referrers API or,
//! without one (and in layouts), in the `sha256-<hex>` tag-schema index, which is appended to
//! and never replaced.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use serde_json::json;

use super::attach::referrers_tag;
use super::error::OciError;
use super::manifest::{Descriptor, Kind, Manifest, OCI_INDEX, OCI_MANIFEST};
use super::store::{Fetched, Store};

pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The OCI empty blob's bytes.
const EMPTY_BYTES: &[u8] = b"{}";

/// The OCI empty descriptor (`{}`, image-spec 1.1's empty JSON): the config of every
/// referrer, and the config and layer of annotation-only artifacts (promotion records).
pub fn empty_descriptor() -> Descriptor {
    Descriptor {
        media_type: EMPTY_MEDIA_TYPE.to_owned(),
        digest: super::digest::Digest::of(EMPTY_BYTES),
        size: EMPTY_BYTES.len() as u64,
        ..Descriptor::default()
    }
}

/// Stores the OCI empty blob in `store` (one `HEAD` when it is there already).
pub async fn put_empty(store: &Store) -> Result<Descriptor, OciError> {
    store
        .put_blob_bytes(EMPTY_MEDIA_TYPE, Bytes::from_static(EMPTY_BYTES))
        .await
}

/// What an artifact holds: its type, one layer and its annotations.
pub struct Artifact<'a> {
    pub artifact_type: &'a str,
    pub layer_media_type: &'a str,
    pub layer: &'a [u8],
    pub annotations: BTreeMap<String, String>,
}

/// Writes `artifact` as a referrer of `subject` and lists it where the registry has no
/// referrers API. Returns the artifact manifest.
pub async fn put(
    store: &Store,
    subject: &Descriptor,
    artifact: &Artifact<'_>,
) -> Result<Fetched, OciError> {
    let config = put_empty(store).await?;
    let layer = store
        .put_blob_bytes(
            artifact.layer_media_type,
            Bytes::copy_from_slice(artifact.layer),
        )
        .await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact.artifact_type,
        "config": config,
        "layers": [layer],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
        "annotations": artifact.annotations,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::Manifest(e.to_string()))?;
    let put = Fetched::new(bytes, OCI_MANIFEST);
    store.put_manifest(&put, None).await?;
    if matches!(store, Store::Layout(_)) {
        // An untagged manifest is still listed in index.json, so nothing looks like garbage.
        store.set_tag(&put, None).await?;
    }
    if api(store, subject).await?.is_none() {
        let entry = Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: put.digest.clone(),
            size: put.bytes.len() as u64,
            artifact_type: Some(artifact.artifact_type.into()),
            annotations: Some(artifact.annotations.clone()),
            ..Descriptor::default()
        };
        append_fallback(store, subject, entry).await?;
    }
    Ok(put)
}

/// Every referrer of `subject` listed by the referrers API, else by the fallback index.
pub async fn list(store: &Store, subject: &Descriptor) -> Result<Vec<Descriptor>, OciError> {
    // The referrers API and the fallback tag are asked at once (one round trip where the
    // registry has no API); the fallback answer is used only when the API has none.
    let fallback = referrers_tag(&subject.digest);
    let (from_api, from_tag) = tokio::join!(api(store, subject), store.manifest(&fallback));
    let bytes = match from_api? {
        Some(bytes) => bytes,
        None => match from_tag? {
            Some(m) => m.bytes,
            None => return Ok(Vec::new()),
        },
    };
    Ok(match Manifest::parse(&bytes, Some(OCI_INDEX))?.kind {
        Kind::Index(list) => list,
        Kind::Image { .. } => Vec::new(),
    })
}

/// The registry's referrers index for `subject`: `Ok(None)` where there is no referrers API
/// (every layout, and registries answering 404).
async fn api(store: &Store, subject: &Descriptor) -> Result<Option<Vec<u8>>, OciError> {
    match store {
        Store::Layout(_) => Ok(None),
        Store::Registry { registry, repo } => registry.referrers(repo, &subject.digest).await,
    }
}

/// The lock of one fallback index (`store` and `tag`) in this process: appending is a read,
/// an append and a `PUT`, and two appends at once (a signature and an attestation of the same
/// subject) would lose one of them.
fn fallback_lock(store: &Store, tag: &str) -> Arc<tokio::sync::Mutex<()>> {
    type Locks = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Locks::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    locks
        .entry(format!("{}:{tag}", store.describe()))
        .or_default()
        .clone()
}

/// Adds `entry` to the `sha256-<hex>` index, keeping every entry already listed (one
/// append at a time per index in this process: [`fallback_lock`]).
async fn append_fallback(
    store: &Store,
    subject: &Descriptor,
    entry: Descriptor,
) -> Result<(), OciError> {
    let tag = referrers_tag(&subject.digest);
    let lock = fallback_lock(store, &tag);
    let _one_at_a_time = lock.lock().await;
    let mut entries = match store.manifest(&tag).await? {
        Some(existing) => match existing.parse()?.kind {
            Kind::Index(list) => list,
            Kind::Image { .. } => {
                return Err(OciError::Manifest(format!(
                    "{tag} in {} is an image, not a referrers index; refusing to replace it",
                    store.describe()
                )));
            }
        },
        None => Vec::new(),
    };
    if entries.iter().any(|e| e.digest == entry.digest) {
        return Ok(());
    }
    entries.push(entry);
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    let bytes = serde_json::to_vec(&index).map_err(|e| OciError::Manifest(e.to_string()))?;
    store
        .put_manifest(&Fetched::new(bytes, OCI_INDEX), Some(&tag))
        .await
}
