//! Where an SBOM's filesystem comes from: `oci:PATH[:TAG]` layouts and `docker://` registries
//! (through `oci::Store`; an index gives one image per platform) or a `dir:PATH` root. Layer
//! blobs are streamed to the walker: from a layout file, or from a registry response pumped
//! through a small bounded channel so memory stays flat whatever the layer size.
//!
//! Registry layers and configs are read through `oci::Store::open_blob` (a verified stream);
//! the walker hashes layers again as it reads them, which is what guards a layout's files.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::mpsc;

use futures_util::StreamExt;

use crate::oci::manifest::{Descriptor, ImageConfig, Kind, Platform};
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

use super::error::SbomError;
use super::walk::Remote;

/// What `cicd sbom` reads.
#[derive(Clone, Debug)]
pub enum Source {
    Image(Location),
    Dir(PathBuf),
}

impl Source {
    pub fn parse(input: &str) -> Result<Self, SbomError> {
        if let Some(dir) = input.strip_prefix("dir:") {
            if dir.is_empty() {
                return Err(SbomError::Usage(format!(
                    "`{input}`: dir: needs a path (dir:PATH)"
                )));
            }
            return Ok(Source::Dir(PathBuf::from(dir)));
        }
        Ok(Source::Image(Location::parse(input)?))
    }

    /// Local inputs (layouts, directories) are the user's to fix when broken.
    pub fn is_local(&self) -> bool {
        match self {
            Source::Image(l) => l.is_layout(),
            Source::Dir(_) => true,
        }
    }
}

/// One platform's image manifest, resolved.
#[derive(Clone, Debug)]
pub struct Image {
    /// The manifest's digest (what the SBOM describes).
    pub digest: String,
    pub platform: Option<Platform>,
    pub layers: Vec<Descriptor>,
    /// Its config blob (read only when its `diff_ids` are needed: [`super::local`]).
    pub config: Descriptor,
    /// The manifest itself (its digest checked), for callers that attest or sign it.
    pub manifest: Fetched,
}

/// The images `loc` names: the manifest itself, or each child of an index that matches
/// `platform` (every one when none is given).
pub async fn resolve(
    store: &Store,
    loc: &Location,
    platform: Option<&Platform>,
) -> Result<(String, Vec<Image>), SbomError> {
    let root = store.resolve(loc).await?;
    resolve_root(store, loc, root, platform).await
}

/// [`resolve`] from the root manifest `loc` already resolved to (its digest checked). An
/// index's platform manifests are fetched at once.
pub async fn resolve_root(
    store: &Store,
    loc: &Location,
    root: Fetched,
    platform: Option<&Platform>,
) -> Result<(String, Vec<Image>), SbomError> {
    let manifest = root.parse()?;
    let mut images = Vec::new();
    match manifest.kind {
        Kind::Image { config, layers } => {
            let platform = read_config(store, &config).await?;
            images.push(Image {
                digest: root.digest.to_string(),
                platform,
                layers,
                config: *config,
                manifest: root.clone(),
            });
        }
        Kind::Index(children) => {
            // Attestation manifests (buildkit's unknown/unknown) describe no filesystem.
            let wanted = children.iter().filter_map(|child| {
                let p = child.platform.as_ref()?;
                (p.os != "unknown" && platform.is_none_or(|w| p.matches(w))).then_some((child, p))
            });
            let fetched = futures_util::future::try_join_all(wanted.map(|(child, p)| async move {
                let fetched = store
                    .manifest(child.digest.as_str())
                    .await?
                    .ok_or_else(|| crate::oci::error::OciError::NotFound {
                        what: format!("manifest {}", child.digest),
                        place: store.describe(),
                    })?;
                Ok::<_, SbomError>((fetched, p))
            }))
            .await?;
            for (fetched, p) in fetched {
                let Kind::Image { layers, config } = fetched.parse()?.kind else {
                    continue;
                };
                images.push(Image {
                    digest: fetched.digest.to_string(),
                    platform: Some(p.clone()),
                    layers,
                    config: *config,
                    manifest: fetched,
                });
            }
        }
    }
    if let (Some(want), [only]) = (platform, images.as_slice())
        && let Some(got) = &only.platform
        && !got.matches(want)
    {
        return Err(SbomError::Usage(format!(
            "{loc} is a {got} image; --platform {want} does not match it"
        )));
    }
    if images.is_empty() {
        return Err(SbomError::Usage(match platform {
            Some(p) => format!("{loc} has no image for platform {p}"),
            None => format!("{loc} lists no image manifests"),
        }));
    }
    Ok((root.digest.to_string(), images))
}

/// The largest image config read (real ones are a few KiB).
const MAX_CONFIG: u64 = 4 << 20;

/// The platform an image's config declares, read through `Store::open_blob` (verified).
async fn read_config(store: &Store, config: &Descriptor) -> Result<Option<Platform>, SbomError> {
    let bytes = config_bytes(store, config).await?;
    let c: ImageConfig = serde_json::from_slice(&bytes).map_err(|e| not_json(store, config, &e))?;
    Ok((!c.os.is_empty()).then_some(Platform {
        architecture: c.architecture,
        os: c.os,
        variant: c.variant,
        os_version: None,
    }))
}

/// The error for an image config that is not the JSON expected.
pub(super) fn not_json(store: &Store, config: &Descriptor, e: &serde_json::Error) -> SbomError {
    SbomError::Layer {
        image: store.describe(),
        digest: config.digest.to_string(),
        message: format!("the image config is not JSON: {e}"),
        external: false,
    }
}

/// An image config's bytes (at most [`MAX_CONFIG`]), read through `Store::open_blob`
/// (verified).
pub(super) async fn config_bytes(store: &Store, config: &Descriptor) -> Result<Vec<u8>, SbomError> {
    if config.size > MAX_CONFIG {
        return Err(SbomError::Layer {
            image: store.describe(),
            digest: config.digest.to_string(),
            message: format!(
                "the image config claims {} bytes (at most {MAX_CONFIG})",
                config.size
            ),
            external: false,
        });
    }
    let mut stream = store.open_blob(config).await?;
    let mut bytes = Vec::with_capacity(usize::try_from(config.size).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    Ok(bytes)
}

/// A layer's raw (compressed) bytes as a blocking reader; the walker verifies them. Call from
/// a blocking thread: a registry body is pumped by a task on `handle`.
pub fn open_layer(
    handle: &tokio::runtime::Handle,
    store: &Store,
    layer: &Descriptor,
) -> Result<Box<dyn Read + Send>, SbomError> {
    match store {
        Store::Layout(l) => Ok(Box::new(io::BufReader::with_capacity(
            1 << 16,
            l.open_blob(&layer.digest)?,
        ))),
        Store::Registry { .. } => {
            let mut body = handle.block_on(store.open_blob(layer))?;
            let (tx, rx) = mpsc::sync_channel::<io::Result<bytes::Bytes>>(8);
            handle.spawn(async move {
                while let Some(chunk) = body.next().await {
                    let item = chunk.map_err(|e| io::Error::other(Remote(e.to_string())));
                    let stop = item.is_err();
                    if tx.send(item).is_err() || stop {
                        break;
                    }
                }
            });
            Ok(Box::new(ChannelReader {
                rx,
                chunk: bytes::Bytes::new(),
            }))
        }
    }
}

struct ChannelReader {
    rx: mpsc::Receiver<io::Result<bytes::Bytes>>,
    chunk: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.recv() {
                Ok(Ok(c)) => self.chunk = c,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// The store for an image location.
pub fn store(ctx: &Context, loc: &Location) -> Result<Store, SbomError> {
    Ok(ctx.store(loc, false)?)
}
