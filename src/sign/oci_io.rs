//! The few `oci::Store` operations signing needs, shaped for small documents: a blob read
//! whole (digest checked by the store's verified stream, size capped before a byte is read),
//! blobs and manifests written from memory.

use bytes::Bytes;
use futures_util::StreamExt;

use crate::oci::error::OciError;
use crate::oci::manifest::Descriptor;
use crate::oci::store::{Fetched, Store};

/// A manifest by tag or digest (the store checks a digest it was asked for).
pub async fn manifest(store: &Store, reference: &str) -> Result<Option<Fetched>, OciError> {
    store.manifest(reference).await
}

/// A blob's bytes, refused when `desc` says it is larger than `max`; the store's stream
/// checks the digest and size before the last chunk is handed over.
pub async fn blob(store: &Store, desc: &Descriptor, max: u64) -> Result<Vec<u8>, OciError> {
    if desc.size > max {
        return Err(OciError::Manifest(format!(
            "blob {} in {} is {} bytes, over the {max} a signature may have; refusing it",
            desc.digest,
            store.describe(),
            desc.size
        )));
    }
    let mut stream = store.open_blob(desc).await?;
    let mut out = Vec::with_capacity(usize::try_from(desc.size).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Stores `bytes` as a blob (nothing sent when it is already there).
pub async fn put_blob(
    store: &Store,
    media_type: &str,
    bytes: &[u8],
) -> Result<Descriptor, OciError> {
    store
        .put_blob_bytes(media_type, Bytes::copy_from_slice(bytes))
        .await
}

/// Stores a manifest by digest and, with `tag`, under that tag. An untagged manifest is
/// still listed in a layout's `index.json`, so nothing it refers to looks like garbage.
pub async fn put_manifest(
    store: &Store,
    bytes: Vec<u8>,
    media_type: &str,
    tag: Option<&str>,
) -> Result<Fetched, OciError> {
    let m = Fetched::new(bytes, media_type);
    store.put_manifest(&m, tag).await?;
    if tag.is_none() && matches!(store, Store::Layout(_)) {
        store.set_tag(&m, None).await?;
    }
    Ok(m)
}
