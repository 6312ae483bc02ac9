//! The few registry/layout operations signing needs, over `oci::Store`: read a manifest or a
//! blob (digest checked, size capped), write a blob or a manifest, ask for referrers. An
//! adapter until `oci::Store` grows `open_blob`/`put_blob_bytes` of its own (issue 9).

use sha2::{Digest as _, Sha256};

use crate::oci::error::OciError;
use crate::oci::store::{Fetched, Store};

/// A manifest by tag or digest (the store checks a digest it was asked for).
pub async fn manifest(store: &Store, reference: &str) -> Result<Option<Fetched>, OciError> {
    store.manifest(reference).await
}

/// A blob's bytes, refused when larger than `max` or when they do not hash to `digest`.
pub async fn blob(store: &Store, digest: &str, max: u64) -> Result<Vec<u8>, OciError> {
    let bytes = match store {
        Store::Layout(l) => l.read_verified(digest)?,
        Store::Registry { registry, repo } => {
            let mut resp = registry.get_blob(repo, digest).await?;
            let mut out = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| OciError::Network {
                registry: registry.host.clone(),
                action: format!("GET blob {digest}"),
                message: e.to_string(),
            })? {
                out.extend_from_slice(&chunk);
                if out.len() as u64 > max {
                    return Err(OciError::Manifest(format!(
                        "blob {digest} in {}/{repo} is over {max} bytes; refusing it",
                        registry.host
                    )));
                }
            }
            out
        }
    };
    let actual = format!("sha256:{:x}", Sha256::digest(&bytes));
    if actual != digest {
        return Err(OciError::DigestMismatch {
            what: "blob".into(),
            place: store.describe(),
            expected: digest.to_owned(),
            actual,
        });
    }
    if bytes.len() as u64 > max {
        return Err(OciError::Manifest(format!(
            "blob {digest} in {} is over {max} bytes; refusing it",
            store.describe()
        )));
    }
    Ok(bytes)
}

/// Stores `bytes` as a blob (nothing sent when it is already there).
pub async fn put_blob(store: &Store, bytes: &[u8]) -> Result<String, OciError> {
    let digest = format!("sha256:{:x}", Sha256::digest(bytes));
    match store {
        Store::Layout(l) => l.write_blob(&digest, bytes)?,
        Store::Registry { registry, repo } => {
            if !registry.has_blob(repo, &digest).await? {
                let location = registry.start_upload(repo, None).await?.ok_or_else(|| {
                    OciError::Unsupported("registry mounted a blob nobody asked to mount".into())
                })?;
                registry
                    .finish_upload(
                        repo,
                        &location,
                        &digest,
                        bytes.len() as u64,
                        reqwest::Body::from(bytes.to_vec()),
                    )
                    .await?;
            }
        }
    }
    Ok(digest)
}

/// Stores a manifest by digest and, with `tag`, under that tag (a layout also lists an
/// untagged manifest in `index.json`, so nothing it refers to is garbage).
pub async fn put_manifest(
    store: &Store,
    bytes: Vec<u8>,
    media_type: &str,
    tag: Option<&str>,
) -> Result<Fetched, OciError> {
    let m = Fetched {
        digest: format!("sha256:{:x}", Sha256::digest(&bytes)),
        bytes,
        media_type: media_type.to_owned(),
    };
    store.put_manifest(&m).await?;
    store.set_tag(&m, tag).await?;
    Ok(m)
}

/// The registry's referrers index for `digest`: `Ok(None)` where there is no referrers API
/// (every layout, and registries answering 404).
pub async fn referrers(store: &Store, digest: &str) -> Result<Option<Vec<u8>>, OciError> {
    match store {
        Store::Layout(_) => Ok(None),
        Store::Registry { registry, repo } => registry.referrers(repo, digest).await,
    }
}
