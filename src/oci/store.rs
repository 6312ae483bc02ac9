//! One place images are read from or written to — an image layout or a repository in a
//! registry — behind one set of operations, plus the [`Context`] that shares registry clients
//! (and their tokens) between the places of one command.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::auth::Sources;
use super::error::OciError;
use super::layout::Layout;
use super::manifest::{Descriptor, Manifest};
use super::registry::{Options, Registry, http_client};
use super::transport::Location;

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
        let r = Arc::new(Registry::new(
            host,
            self.http.clone(),
            &self.opts,
            credential,
        ));
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

/// A manifest as fetched: verbatim bytes, media type and digest (already verified).
#[derive(Clone, Debug)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: String,
}

impl Fetched {
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
}

impl Store {
    pub fn describe(&self) -> String {
        match self {
            Store::Layout(l) => format!("oci:{}", l.root().display()),
            Store::Registry { registry, repo } => format!("{}/{repo}", registry.host),
        }
    }

    /// The manifest a tag or digest names, or `None` when there is none.
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
                let desc = if reference.starts_with("sha256:") {
                    l.resolve(None, Some(reference))
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
                self.manifest(&desc.digest).await?
            }
            (_, Some(d), _) => self.manifest(d).await?,
            (_, None, Some(t)) => self.manifest(t).await?,
            (Store::Registry { .. }, None, None) => self.manifest("latest").await?,
        };
        let fetched = found.ok_or_else(|| OciError::NotFound {
            what: "image".into(),
            place: loc.to_string(),
        })?;
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

    pub async fn has_manifest(&self, digest: &str, size: u64) -> Result<bool, OciError> {
        match self {
            Store::Layout(l) => Ok(l.has_blob(digest, size)),
            Store::Registry { registry, repo } => registry.has_manifest(repo, digest).await,
        }
    }

    pub async fn has_blob(&self, desc: &Descriptor) -> Result<bool, OciError> {
        match self {
            Store::Layout(l) => Ok(l.has_blob(&desc.digest, desc.size)),
            Store::Registry { registry, repo } => registry.has_blob(repo, &desc.digest).await,
        }
    }

    /// Stores a manifest by digest (untagged).
    pub async fn put_manifest(&self, m: &Fetched) -> Result<(), OciError> {
        match self {
            Store::Layout(l) => l.write_blob(&m.digest, &m.bytes),
            Store::Registry { registry, repo } => {
                registry
                    .put_manifest(repo, &m.digest, &m.bytes, &m.media_type)
                    .await
            }
        }
    }

    /// Names a stored manifest: a tag, or for a layout an untagged `index.json` entry.
    pub async fn set_tag(&self, m: &Fetched, tag: Option<&str>) -> Result<(), OciError> {
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
