//! One place images are read from or written to — an image layout or a repository in a
//! registry — behind one set of operations (manifests by tag or digest, blobs as verified
//! streams, writes that check every digest before anything is committed), plus the
//! [`Context`] that shares registry clients (and their tokens) between the places of one
//! command. Builders and signers write through [`Store`], never beside it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

use super::auth::Sources;
use super::blob::{self, BlobStream};
use super::digest::{Digest, Mismatch};
use super::error::OciError;
use super::layout::Layout;
use super::manifest::{Descriptor, Manifest};
use super::registry::{Options, Registry, http_client};
use super::transport::Location;
use super::upload::Upload;

/// Blobs in memory up to this size go to a registry in one `PUT` (signatures, attestations,
/// configs, SBOMs); larger ones are streamed.
pub const SMALL_BLOB: u64 = 1 << 20;

pub struct Context {
    opts: Options,
    sources: Sources,
    http: reqwest::Client,
    registries: Mutex<HashMap<String, Arc<Registry>>>,
}

impl Context {
    pub fn new(opts: Options, sources: Sources) -> Result<Self, OciError> {
        Ok(Self {
            http: http_client(&opts)?,
            opts,
            sources,
            registries: Mutex::new(HashMap::new()),
        })
    }

    /// The client for `host`, shared so tokens are reused.
    pub fn registry(&self, host: &str) -> Result<Arc<Registry>, OciError> {
        let mut map = self
            .registries
            .lock()
            .map_err(|_| OciError::Unsupported("internal lock poisoned".into()))?;
        if let Some(r) = map.get(host) {
            return Ok(r.clone());
        }
        let credential = self.sources.lookup(host)?;
        let mut r = Registry::new(host, self.http.clone(), &self.opts, credential);
        r.login_command = self.sources.login_command.clone();
        let r = Arc::new(r);
        map.insert(host.to_owned(), r.clone());
        Ok(r)
    }

    /// The store `loc` names; a layout is created when `create` (a copy destination).
    pub fn store(&self, loc: &Location, create: bool) -> Result<Store, OciError> {
        Ok(match loc {
            Location::Registry(r) => Store::Registry {
                registry: self.registry(&r.registry)?,
                repo: r.repository.clone(),
            },
            Location::Layout { path, .. } => Store::Layout(if create {
                Layout::create(path)?
            } else {
                Layout::open(path)?
            }),
        })
    }
}

pub enum Store {
    Layout(Layout),
    Registry {
        registry: Arc<Registry>,
        repo: String,
    },
}

/// A manifest: verbatim bytes, media type and digest (verified when fetched, computed when
/// made with [`Fetched::new`]).
#[derive(Clone, Debug)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

impl Fetched {
    /// A manifest about to be written: its digest is computed from the bytes.
    pub fn new(bytes: Vec<u8>, media_type: &str) -> Self {
        Self {
            digest: Digest::of(&bytes),
            bytes,
            media_type: media_type.to_owned(),
        }
    }

    pub fn parse(&self) -> Result<Manifest, OciError> {
        Manifest::parse(&self.bytes, Some(&self.media_type))
    }

    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            ..Descriptor::default()
        }
    }

    /// Refuses bytes that do not hash to the digest they are sent under.
    fn check(&self, place: &str) -> Result<(), OciError> {
        let actual = Digest::of(&self.bytes);
        if actual != self.digest {
            return Err(OciError::DigestMismatch {
                what: "manifest".into(),
                place: place.to_owned(),
                expected: self.digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }
}

impl Store {
    pub fn describe(&self) -> String {
        match self {
            Store::Layout(l) => l.describe(),
            Store::Registry { registry, repo } => format!("{}/{repo}", registry.host),
        }
    }

    /// The manifest a tag or digest names, or `None` when no tag has that name (a digest
    /// missing from a layout is an error: the layout said it was there).
    pub async fn manifest(&self, reference: &str) -> Result<Option<Fetched>, OciError> {
        match self {
            Store::Registry { registry, repo } => Ok(registry
                .get_manifest(repo, reference)
                .await?
                .map(|(bytes, media_type, digest)| Fetched {
                    bytes,
                    media_type,
                    digest,
                })),
            Store::Layout(l) => {
                let desc = if reference.contains(':') {
                    l.resolve(None, Some(&Digest::parse(reference)?))
                } else {
                    l.resolve(Some(reference), None)
                };
                let desc = match desc {
                    Ok(d) => d,
                    Err(OciError::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let bytes = l.read_verified(&desc.digest)?;
                Ok(Some(Fetched {
                    bytes,
                    media_type: desc.media_type,
                    digest: desc.digest,
                }))
            }
        }
    }

    /// The manifest `loc` points at (its digest, else its tag, else `latest` / the only one).
    pub async fn resolve(&self, loc: &Location) -> Result<Fetched, OciError> {
        let found = match (self, loc.digest(), loc.tag()) {
            (Store::Layout(l), None, None) => {
                let desc = l.resolve(None, None)?;
                self.manifest(desc.digest.as_str()).await?
            }
            (_, Some(d), _) => self.manifest(d).await?,
            (_, None, Some(t)) => self.manifest(t).await?,
            (Store::Registry { .. }, None, None) => self.manifest("latest").await?,
        };
        let fetched = match (found, self) {
            (Some(f), _) => f,
            // What the user named is not in their own layout: their input is wrong.
            (None, Store::Layout(l)) => {
                return Err(OciError::Layout {
                    path: l.root().to_path_buf(),
                    message: match (loc.digest(), loc.tag()) {
                        (Some(d), _) => format!("has no manifest {d}"),
                        (None, Some(t)) => format!("has no image tagged `{t}`"),
                        (None, None) => "has no image".into(),
                    },
                });
            }
            (None, Store::Registry { .. }) => {
                return Err(OciError::NotFound {
                    what: "image".into(),
                    place: loc.to_string(),
                });
            }
        };
        if let (Some(tag), Some(d)) = (loc.tag(), loc.digest())
            && fetched.digest != d
        {
            return Err(OciError::NotFound {
                what: format!("tag {tag} at {d}"),
                place: loc.to_string(),
            });
        }
        Ok(fetched)
    }

    pub async fn has_manifest(&self, digest: &Digest, size: u64) -> Result<bool, OciError> {
        match self {
            Store::Layout(l) => Ok(l.has_blob(digest, size)),
            Store::Registry { registry, repo } => {
                registry.has_manifest(repo, digest.as_str()).await
            }
        }
    }

    pub async fn has_blob(&self, desc: &Descriptor) -> Result<bool, OciError> {
        match self {
            Store::Layout(l) => Ok(l.has_blob(&desc.digest, desc.size)),
            Store::Registry { registry, repo } => registry.has_blob(repo, &desc.digest).await,
        }
    }

    /// A blob's bytes as a stream that is verified as it is read: the last chunk is only
    /// passed on once the whole matched `desc`, else the stream ends with an error naming
    /// this store.
    pub async fn open_blob(&self, desc: &Descriptor) -> Result<BlobStream, OciError> {
        match self {
            Store::Layout(l) => l.blob_stream(desc),
            Store::Registry { registry, repo } => {
                let resp = registry.get_blob(repo, &desc.digest).await?;
                let host = registry.host.clone();
                let digest = desc.digest.clone();
                let raw: BlobStream = Box::pin(
                    resp.bytes_stream()
                        .map_err(move |e| interrupted(&host, &digest, &e)),
                );
                let place = self.describe();
                let digest = desc.digest.clone();
                let on_mismatch = Box::new(move |Mismatch(actual)| OciError::DigestMismatch {
                    what: format!("blob {digest}"),
                    place: place.clone(),
                    expected: digest.to_string(),
                    actual,
                });
                Ok(blob::verified(raw, &desc.digest, desc.size, on_mismatch))
            }
        }
    }

    /// Writes a blob from `body`, committing it only when its bytes hash to `desc`: a layout
    /// renames the file into place, a registry completes the upload; otherwise the partial
    /// file is removed or the upload session cancelled. Present blobs are not sent again.
    pub async fn put_blob(&self, desc: &Descriptor, body: BlobStream) -> Result<(), OciError> {
        if self.has_blob(desc).await? {
            return Ok(());
        }
        // Whoever made `body`, it is checked here too.
        let place = self.describe();
        let digest = desc.digest.clone();
        let body = blob::verified(
            body,
            &desc.digest,
            desc.size,
            Box::new(move |Mismatch(actual)| OciError::DigestMismatch {
                what: format!("blob {digest}"),
                place: format!("the data given for {place}"),
                expected: digest.to_string(),
                actual,
            }),
        );
        match self {
            Store::Layout(l) => write_blob(l, desc, body).await,
            Store::Registry { registry, repo } => {
                let location = registry.start_upload(repo, None).await?.ok_or_else(|| {
                    OciError::Unsupported("registry mounted an unasked blob".into())
                })?;
                let mode = match registry.chunk_size {
                    Some(chunk) => Upload::Chunked(chunk),
                    None => Upload::Streamed,
                };
                registry.push_blob(repo, location, desc, body, mode).await
            }
        }
    }

    /// Writes a blob whose digest is learned from its bytes as they pass (a layer streamed
    /// while it is compressed) and returns its descriptor: a layout renames the file to the
    /// digest the bytes hashed to, a registry completes the upload under it (and checks the
    /// bytes it received against it). A `body` that ends with an error commits nothing.
    /// Unlike [`Store::put_blob`], a blob already present is sent again.
    pub async fn put_hashed_blob(
        &self,
        media_type: &str,
        body: BlobStream,
    ) -> Result<Descriptor, OciError> {
        let (body, seen) = blob::hashed(body);
        let digest = match self {
            Store::Layout(l) => write_hashed_blob(l, body, &seen).await?,
            Store::Registry { registry, repo } => {
                let location = registry.start_upload(repo, None).await?.ok_or_else(|| {
                    OciError::Unsupported("registry mounted an unasked blob".into())
                })?;
                let mode = match registry.chunk_size {
                    Some(chunk) => Upload::Chunked(chunk),
                    None => Upload::Streamed,
                };
                registry
                    .push_hashed_blob(repo, location, body, mode, &seen)
                    .await?
            }
        };
        // Both writers name the blob by the digest `seen` learned, so only its size is read.
        let size = seen
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|(_, size)| *size))
            .ok_or_else(|| OciError::Unsupported("blob written without its digest".into()))?;
        Ok(Descriptor {
            media_type: media_type.to_owned(),
            digest,
            size,
            ..Descriptor::default()
        })
    }

    /// [`Store::put_blob`] for bytes in memory; returns their descriptor. Up to
    /// [`SMALL_BLOB`] they go to a registry in one `PUT` (`Registry::put_small_blob`).
    pub async fn put_blob_bytes(
        &self,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Descriptor, OciError> {
        let desc = Descriptor {
            media_type: media_type.to_owned(),
            digest: Digest::of(&bytes),
            size: bytes.len() as u64,
            ..Descriptor::default()
        };
        if let Store::Registry { registry, repo } = self
            && desc.size <= SMALL_BLOB
        {
            if !self.has_blob(&desc).await? {
                registry.put_small_blob(repo, &desc.digest, bytes).await?;
            }
            return Ok(desc);
        }
        self.put_blob(&desc, blob::from_bytes(bytes)).await?;
        Ok(desc)
    }

    /// Stores a manifest: under `tag` when one is given, else by its digest. The bytes are
    /// checked against `m.digest` first. A registry stores a manifest `PUT` by tag under its
    /// digest as well (and the digest it answers is checked), so a tagged manifest is one
    /// `PUT`, not a `PUT` by digest and another by tag; a layout lists it in `index.json`
    /// only when tagged (see [`Store::set_tag`]).
    pub async fn put_manifest(&self, m: &Fetched, tag: Option<&str>) -> Result<(), OciError> {
        if let Some(t) = tag {
            return self.set_tag(m, Some(t)).await;
        }
        m.check(&self.describe())?;
        match self {
            Store::Layout(l) => l.write_blob(&m.digest, &m.bytes),
            Store::Registry { registry, repo } => {
                registry
                    .put_manifest(repo, m.digest.as_str(), &m.bytes, &m.media_type)
                    .await
            }
        }
    }

    /// Names a stored manifest: a tag, or for a layout an untagged `index.json` entry.
    pub async fn set_tag(&self, m: &Fetched, tag: Option<&str>) -> Result<(), OciError> {
        m.check(&self.describe())?;
        match self {
            Store::Layout(l) => {
                l.write_blob(&m.digest, &m.bytes)?;
                l.set_ref(tag, &m.descriptor())
            }
            Store::Registry { registry, repo } => match tag {
                Some(t) => {
                    registry
                        .put_manifest(repo, t, &m.bytes, &m.media_type)
                        .await
                }
                None => Ok(()),
            },
        }
    }
}

/// Sends `body`'s chunks to a blob writer until it ends, fails or the writer hangs up;
/// returns the source's error, which wins over the writer's (it says why the bytes stopped).
async fn forward(body: &mut BlobStream, tx: tokio::sync::mpsc::Sender<Bytes>) -> Option<OciError> {
    while let Some(item) = body.next().await {
        match item {
            Ok(bytes) => {
                if tx.send(bytes).await.is_err() {
                    return None;
                }
            }
            Err(e) => return Some(e),
        }
    }
    None
}

/// Writes `body` to a layout on a blocking thread; the source's own error wins over the
/// writer's (it says why the bytes stopped).
async fn write_blob(l: &Layout, desc: &Descriptor, mut body: BlobStream) -> Result<(), OciError> {
    let (tx, writer) = l.blob_writer(&desc.digest, desc.size)?.spawn();
    let failed = forward(&mut body, tx).await;
    let written = writer.await;
    if let Some(e) = failed {
        return Err(e);
    }
    written?.commit()
}

/// [`Store::put_hashed_blob`] into a layout: written to a temporary file beside the blobs on
/// a blocking thread, renamed to the digest its bytes hashed to once `body` ended cleanly.
async fn write_hashed_blob(
    l: &Layout,
    mut body: BlobStream,
    seen: &blob::Seen,
) -> Result<Digest, OciError> {
    use std::io::Write;
    let dir = l.root().join("blobs").join("sha256");
    std::fs::create_dir_all(&dir).map_err(OciError::io(&dir))?;
    let tmp = crate::fs::temp_file_in(&dir).map_err(OciError::io(&dir))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let io_dir = dir.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp);
        while let Some(chunk) = rx.blocking_recv() {
            out.write_all(&chunk).map_err(OciError::io(&io_dir))?;
        }
        out.into_inner()
            .map_err(|e| OciError::io(&io_dir)(e.into_error()))
    });
    let failed = forward(&mut body, tx).await;
    let written = writer
        .await
        .map_err(|e| OciError::Unsupported(format!("blob write task failed: {e}")))?;
    if let Some(e) = failed {
        return Err(e);
    }
    let tmp = written?;
    let digest = seen
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .map(|(d, _)| d)
        .ok_or_else(|| {
            OciError::Unsupported(format!("a blob for {} stopped early", l.describe()))
        })?;
    let path = l.blob_path(&digest);
    tmp.persist(&path).map_err(|e| OciError::Io {
        path: path.clone(),
        source: e.error,
    })?;
    Ok(digest)
}

/// A blob download that broke off.
pub(super) fn interrupted(host: &str, digest: &Digest, e: &reqwest::Error) -> OciError {
    OciError::Network {
        registry: host.to_owned(),
        action: format!("receiving blob {digest}"),
        message: super::registry::chain(e),
    }
}
