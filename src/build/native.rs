//! The `native` backend: per platform, the base image's manifest and config (no RUN, no
//! QEMU, no daemon), our reproducible layers on top, a config and manifest, then an index —
//! written straight into the destination through `oci::Store`, each layer streamed there as
//! it is compressed (as many at a time as there are cores). Files shared by every platform
//! go in layers of their own, stored once; big payloads are cut into several layers
//! ([`split`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::try_join_all;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::{Added, CONFIG_MEDIA_TYPE, image_config, index, manifest};
use super::layer::{self, Built, Entry, LAYER_MEDIA_TYPE};
use super::platform::{expand, varies};
use super::publish::read_small_blob;
use super::source::{Source, label};
use super::{BuildError, PlatformResult, reuse, split, stream};
use crate::config::images::{NativeSpec, parse_mode};
use crate::oci::copy::Copier;
use crate::oci::manifest::{Descriptor, Kind, OCI_INDEX, OCI_MANIFEST, Platform};
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

pub struct Request<'a> {
    pub spec: &'a NativeSpec,
    /// Sources are read from here and may not leave it.
    pub tree: PathBuf,
    pub platforms: Vec<Platform>,
    pub source: Source,
    /// Root is the one platform's manifest (fan-out), not an index.
    pub single: bool,
}

/// What the destination holds after a build (the root is stored by digest, untagged).
pub struct Written {
    pub dst: Store,
    pub root: Fetched,
    pub platforms: Vec<PlatformResult>,
    pub shared_layers: usize,
    /// Per platform, the layers made here from local files (see [`layer::Local`]).
    pub local: Vec<Vec<layer::Local>>,
}

/// A base image's manifest and config for one platform.
struct Base {
    digest: String,
    layers: Vec<Descriptor>,
    config: Value,
}

/// Resolves every file for every platform before anything is read over the network or
/// written: a missing, unreadable or escaping source is exit 2 with nothing pushed.
pub fn plan_files(
    spec: &NativeSpec,
    tree: &Path,
    platforms: &[Platform],
) -> Result<(Vec<Entry>, Vec<Vec<Entry>>), BuildError> {
    let root = tree.canonicalize().map_err(|e| BuildError::Input {
        path: tree.to_path_buf(),
        reason: format!("build tree cannot be read: {e}"),
    })?;
    let entry = |src: &str, f: &crate::config::images::FileSpec| -> Result<Entry, BuildError> {
        let given = tree.join(src);
        let real = given.canonicalize().map_err(|e| BuildError::Input {
            path: given.clone(),
            reason: format!("source file for {} cannot be read: {e}", f.dst),
        })?;
        if !real.starts_with(&root) {
            return Err(BuildError::Input {
                path: given,
                reason: format!("leaves the build tree {}", root.display()),
            });
        }
        let meta = layer::open_regular(&real)?
            .metadata()
            .map_err(BuildError::io(&real))?;
        let mode = match &f.mode {
            Some(m) => parse_mode(m).unwrap_or(0o644),
            None if std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0 => {
                0o755
            }
            None => 0o644,
        };
        Ok(Entry {
            src: real,
            dst: f.dst.clone(),
            mode,
            uid: f.uid,
            gid: f.gid,
        })
    };
    let mut shared = Vec::new();
    for f in spec.files.iter().filter(|f| !varies(&f.src)) {
        shared.push(entry(&f.src, f)?);
    }
    let mut per = Vec::new();
    for p in platforms {
        let mut list = Vec::new();
        for f in spec.files.iter().filter(|f| varies(&f.src)) {
            list.push(entry(&expand(&f.src, p), f)?);
        }
        per.push(list);
    }
    Ok((shared, per))
}

/// Builds every platform into `to` (created when it is a layout). Sources and the base are
/// checked before the destination is touched: a bad input leaves nothing behind.
pub async fn build(ctx: &Context, req: &Request<'_>, to: &Location) -> Result<Written, BuildError> {
    let (shared, per) = plan_files(req.spec, &req.tree, &req.platforms)?;
    let shared = cut(shared)?;
    let per = per.into_iter().map(cut).collect::<Result<Vec<_>, _>>()?;
    let bases = resolve_base(ctx, req).await?;
    let dst = ctx.store(to, true)?;
    let level = req.spec.compression_level.unwrap_or(1);
    let mtime = req.source.epoch.max(0) as u64;
    let copy_base = async {
        match &bases {
            Some(b) => b.copy_layers(&dst).await,
            None => Ok(()),
        }
    };
    let push_layers = push_layers(&shared, &per, mtime, level, &dst);
    let ((), (shared_layers, layers)) = tokio::try_join!(copy_base, push_layers)?;
    let mut labels = req.source.labels();
    let mut annotations = labels.clone();
    if let Some(b) = &bases {
        annotations.insert(label("base.name"), b.name.clone());
    }
    // The config may hold only what came from the build's inputs: sources, git and base.
    labels.extend(req.spec.labels.clone());
    annotations.extend(req.spec.annotations.clone());
    let created = req.source.created();
    let mut children = Vec::new();
    let mut results = Vec::new();
    let mut local = Vec::new();
    for (i, platform) in req.platforms.iter().enumerate() {
        let ours: Vec<&Built> = shared_layers.iter().chain(&layers[i]).collect();
        local.push(
            shared
                .iter()
                .chain(&per[i])
                .zip(&ours)
                .map(|(entries, built)| layer::Local {
                    entries: entries.clone(),
                    mtime,
                    diff_id: built.diff_id.clone(),
                })
                .collect(),
        );
        let base = bases.as_ref().map(|b| &b.platforms[i]);
        let mut descs: Vec<Descriptor> = base.map(|b| b.layers.clone()).unwrap_or_default();
        let mut added = Vec::new();
        for (n, l) in ours.iter().enumerate() {
            descs.push(Descriptor {
                media_type: LAYER_MEDIA_TYPE.into(),
                digest: l.digest.clone(),
                size: l.size,
                ..Descriptor::default()
            });
            let shared_or_not = if n < shared_layers.len() {
                "files shared by every platform"
            } else {
                "files for this platform"
            };
            added.push(Added {
                diff_id: &l.diff_id,
                created_by: format!("cicd build (native): {shared_or_not}"),
            });
        }
        let cfg = image_config(
            base.map(|b| &b.config),
            req.spec,
            platform,
            &labels,
            &created,
            &added,
        )?;
        let cfg = dst
            .put_blob_bytes(CONFIG_MEDIA_TYPE, bytes::Bytes::from(cfg))
            .await?;
        let mut ann = annotations.clone();
        if let Some(b) = base {
            ann.insert(label("base.digest"), b.digest.clone());
        }
        let m = put_manifest(&dst, OCI_MANIFEST, manifest(&cfg, &descs, &ann)).await?;
        let mut desc = m.descriptor();
        results.push(PlatformResult {
            platform: platform.to_string(),
            digest: desc.digest.to_string(),
            size: descs.iter().map(|d| d.size).sum::<u64>() + cfg.size + desc.size,
        });
        desc.platform = Some(platform.clone());
        children.push((desc, m));
    }
    let root = if req.single {
        children.swap_remove(0).1
    } else {
        let descs: Vec<Descriptor> = children.into_iter().map(|(d, _)| d).collect();
        put_manifest(&dst, OCI_INDEX, index(&descs, &annotations)).await?
    };
    Ok(Written {
        dst,
        root,
        platforms: results,
        shared_layers: if req.platforms.len() > 1 {
            shared_layers.len()
        } else {
            0
        },
        local,
    })
}

/// Stores a manifest by digest (untagged) and returns it.
async fn put_manifest(
    dst: &Store,
    media_type: &str,
    bytes: Vec<u8>,
) -> Result<Fetched, BuildError> {
    let m = Fetched::new(bytes, media_type);
    dst.put_manifest(&m, None).await?;
    Ok(m)
}

type Layers = (Vec<Built>, Vec<Vec<Built>>);

/// `entries` cut into layers ([`split`]), after checking they could all go in one.
fn cut(entries: Vec<Entry>) -> Result<Vec<Vec<Entry>>, BuildError> {
    layer::check(&entries)?;
    let mut sized = Vec::with_capacity(entries.len());
    for e in entries {
        let size = std::fs::metadata(&e.src)
            .map_err(BuildError::io(&e.src))?
            .len();
        sized.push((e, size));
    }
    Ok(split::groups(&sized))
}

/// The shared layers and each platform's layers. Every layer is started at once, but only
/// as many are tarred, hashed or compressed at a time as the machine has cores (in the
/// order given: the shared layers, then each platform's); a layer whose bytes are all
/// written gives its core to the next while the store still commits it. A layer this
/// machine built before from the same files is reused when the destination has it (or can
/// mount it) — see [`reuse`]; every other one is compressed and streamed into `dst`.
async fn push_layers(
    shared: &[Vec<Entry>],
    per: &[Vec<Vec<Entry>>],
    mtime: u64,
    level: u32,
    dst: &Store,
) -> Result<Layers, BuildError> {
    let cache = std::sync::Mutex::new(reuse::Cache::load());
    let cache = &cache;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let cores = &Arc::new(Semaphore::new(cores));
    let one = |entries: &[Entry]| {
        let entries = entries.to_vec();
        async move {
            let key = reuse::key(&entries, mtime, level);
            let known = key
                .as_ref()
                .and_then(|k| cache.lock().ok()?.get(k).cloned());
            let built = match known {
                Some(known) if reusable(&entries, mtime, dst, &known, cores).await? => {
                    reuse::built(&known)
                }
                _ => compress_into(entries, mtime, level, dst, cores).await?,
            };
            if let (Some(k), Ok(mut c)) = (key, cache.lock()) {
                c.record(k, &built, reuse::place(dst));
            }
            Ok::<_, BuildError>(built)
        }
    };
    let all = |groups: &[Vec<Entry>]| try_join_all(groups.iter().map(|g| one(g)));
    let (shared, layers) = tokio::try_join!(all(shared), try_join_all(per.iter().map(|p| all(p))))?;
    if let Ok(mut c) = cache.lock() {
        c.save();
    }
    Ok((shared, layers))
}

/// A core for a layer's thread: held until the thread ends.
async fn core(cores: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, BuildError> {
    cores
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| BuildError::Usage("the layer threads' semaphore closed".into()))
}

/// Whether `known` is this layer (the files tarred and hashed again give its `diff_id`) and
/// `dst` has it, by digest and size (mounted from where it went before when it can be).
async fn reusable(
    entries: &[Entry],
    mtime: u64,
    dst: &Store,
    known: &reuse::Known,
    cores: &Arc<Semaphore>,
) -> Result<bool, BuildError> {
    let entries = entries.to_vec();
    let name = std::path::PathBuf::from(dst.describe());
    let permit = core(cores).await?;
    let diff_id = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        layer::diff_id(&entries, mtime, &name)
    })
    .await
    .map_err(|_| BuildError::Usage("a layer hashing thread panicked".into()))??;
    Ok(diff_id == known.diff_id && reuse::present(dst, known).await)
}

/// Compresses one layer on its own thread while `dst` stores the bytes as they come; the
/// store names the blob by the digest the bytes hashed to, and must have received exactly
/// as many bytes as the compressor wrote.
async fn compress_into(
    entries: Vec<Entry>,
    mtime: u64,
    level: u32,
    dst: &Store,
    cores: &Arc<Semaphore>,
) -> Result<Built, BuildError> {
    let permit = core(cores).await?;
    let (tx, body) = stream::channel();
    let name = std::path::PathBuf::from(dst.describe());
    let compress = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let (made, tx) = layer::build(&entries, mtime, level, tx, &name)?;
        tx.finish().map_err(BuildError::io(&name))?;
        Ok::<_, BuildError>(made)
    });
    let stored = dst.put_hashed_blob(LAYER_MEDIA_TYPE, body).await;
    let made = compress
        .await
        .map_err(|_| BuildError::Usage("a layer build thread panicked".into()))?;
    match (made, stored) {
        // The compressor's own failure says why the store's stream broke off.
        (Err(e), _) if !closed(&e) => Err(e),
        (_, Err(e)) => Err(e.into()),
        (Err(e), Ok(_)) => Err(e),
        (Ok(made), Ok(desc)) if desc.size != made.size => {
            Err(crate::oci::error::OciError::DigestMismatch {
                what: "layer".into(),
                place: dst.describe(),
                expected: format!("{} bytes", made.size),
                actual: format!("{} ({} bytes)", desc.digest, desc.size),
            }
            .into())
        }
        (Ok(made), Ok(desc)) => Ok(Built {
            digest: desc.digest,
            diff_id: made.diff_id,
            size: desc.size,
        }),
    }
}

/// Whether a layer build failed only because the store stopped reading.
fn closed(e: &BuildError) -> bool {
    matches!(e, BuildError::Io { source, .. } if stream::is_closed(source))
}

/// The base image: where it is read from and, per platform, its manifest and config.
struct Bases {
    name: String,
    store: Store,
    platforms: Vec<Base>,
}

impl Bases {
    /// The base layers every platform stacks on, copied into `dst` (skipped when there,
    /// mounted within a registry, else streamed and verified).
    async fn copy_layers(&self, dst: &Store) -> Result<(), BuildError> {
        let mut layers: Vec<Descriptor> = Vec::new();
        for d in self.platforms.iter().flat_map(|b| &b.layers) {
            if !layers.iter().any(|l| l.digest == d.digest) {
                layers.push(d.clone());
            }
        }
        Copier::new(&self.store, dst)
            .copy_blob_list(&layers)
            .await?;
        Ok(())
    }
}

/// The base image for each platform (`None` for scratch): manifests and configs read and
/// checked, nothing written yet.
async fn resolve_base(ctx: &Context, req: &Request<'_>) -> Result<Option<Bases>, BuildError> {
    let name = req.spec.base.trim();
    if name == "scratch" {
        return Ok(None);
    }
    let loc = Location::parse(name)?;
    if loc.digest().is_none() {
        return Err(BuildError::Usage(format!(
            "base image `{name}` is not pinned by digest: write it as NAME@sha256:… (cicd pin does this)"
        )));
    }
    let store = ctx.store(&loc, false)?;
    let root = store.resolve(&loc).await?;
    let mut bases = Vec::new();
    for p in &req.platforms {
        let m = match root.parse()?.kind {
            Kind::Index(children) => {
                let child = children
                    .iter()
                    .find(|c| c.platform.as_ref().is_some_and(|cp| cp.matches(p)))
                    .ok_or_else(|| BuildError::Usage(format!(
                        "base image {name} has no {p} variant; drop the platform or pick another base"
                    )))?;
                fetch(&store, child.digest.as_str()).await?
            }
            Kind::Image { .. } => root.clone(),
        };
        let Kind::Image { config, layers } = m.parse()?.kind else {
            return Err(BuildError::Usage(format!(
                "base image {name}: nested index"
            )));
        };
        let cfg: Value =
            serde_json::from_slice(&read_small_blob(&store, &config).await?).map_err(|e| {
                BuildError::Usage(format!("base image {name}: config is not JSON: {e}"))
            })?;
        let (os, arch) = (cfg["os"].as_str(), cfg["architecture"].as_str());
        if os != Some(p.os.as_str()) || arch != Some(p.architecture.as_str()) {
            return Err(BuildError::Usage(format!(
                "base image {name} is {}/{}, not {p}",
                os.unwrap_or("?"),
                arch.unwrap_or("?")
            )));
        }
        bases.push(Base {
            digest: m.digest.to_string(),
            layers,
            config: cfg,
        });
    }
    Ok(Some(Bases {
        name: name.to_owned(),
        store,
        platforms: bases,
    }))
}

async fn fetch(store: &Store, digest: &str) -> Result<Fetched, BuildError> {
    store.manifest(digest).await?.ok_or_else(|| {
        crate::oci::error::OciError::NotFound {
            what: format!("manifest {digest}"),
            place: store.describe(),
        }
        .into()
    })
}
