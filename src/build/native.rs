//! The `native` backend: per platform, the base image's manifest and config (no RUN, no
//! QEMU, no daemon), our reproducible layers on top, a config and manifest, then an index —
//! all into the staging layout. Files shared by every platform go in one layer built once.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::config::{Added, CONFIG_MEDIA_TYPE, image_config, index, manifest};
use super::layer::{self, Built, Entry, LAYER_MEDIA_TYPE};
use super::platform::{expand, varies};
use super::publish::{Staging, at_digest, read_small_blob};
use super::source::{Source, label};
use super::{BuildError, PlatformResult};
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

/// What the staging layout holds after a build.
pub struct Staged {
    pub root: Fetched,
    pub platforms: Vec<PlatformResult>,
    pub shared_layers: usize,
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

/// Builds every platform into `staging`.
pub async fn build(
    ctx: &Context,
    req: &Request<'_>,
    staging: &Staging,
) -> Result<Staged, BuildError> {
    let (shared, per) = plan_files(req.spec, &req.tree, &req.platforms)?;
    let bases = resolve_base(ctx, req, staging).await?;
    let level = req.spec.compression_level.unwrap_or(1);
    let mtime = req.source.epoch.max(0) as u64;
    let (shared_layer, layers) = build_layers(&shared, &per, mtime, level, staging.path())?;
    let mut labels = req.source.labels();
    let mut annotations = labels.clone();
    if let Some((name, _)) = &bases {
        annotations.insert(label("base.name"), name.clone());
    }
    // The config may hold only what came from the build's inputs: sources, git and base.
    labels.extend(req.spec.labels.clone());
    annotations.extend(req.spec.annotations.clone());
    let created = req.source.created();
    let mut children = Vec::new();
    let mut results = Vec::new();
    for (i, platform) in req.platforms.iter().enumerate() {
        let mut ours: Vec<&Built> = shared_layer.iter().collect();
        ours.extend(layers[i].iter());
        let base = bases.as_ref().map(|(_, b)| &b[i]);
        let mut descs: Vec<Descriptor> = base.map(|b| b.layers.clone()).unwrap_or_default();
        let mut added = Vec::new();
        for (n, l) in ours.iter().enumerate() {
            let desc = Descriptor {
                media_type: LAYER_MEDIA_TYPE.into(),
                digest: l.digest.clone(),
                size: l.size,
                ..Descriptor::default()
            };
            staging.put_file(&l.path, &desc).await?;
            descs.push(desc);
            let shared_or_not = if n == 0 && shared_layer.is_some() {
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
        let cfg = staging.put_blob(CONFIG_MEDIA_TYPE, cfg).await?;
        let mut ann = annotations.clone();
        if let Some(b) = base {
            ann.insert(label("base.digest"), b.digest.clone());
        }
        let m = staging
            .put_manifest(OCI_MANIFEST, manifest(&cfg, &descs, &ann))
            .await?;
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
        staging
            .put_manifest(OCI_INDEX, index(&descs, &annotations))
            .await?
    };
    Ok(Staged {
        root,
        platforms: results,
        shared_layers: usize::from(shared_layer.is_some() && req.platforms.len() > 1),
    })
}

type Layers = (Option<Built>, Vec<Option<Built>>);

/// The shared layer and one layer per platform, compressed in parallel.
fn build_layers(
    shared: &[Entry],
    per: &[Vec<Entry>],
    mtime: u64,
    level: u32,
    dir: &Path,
) -> Result<Layers, BuildError> {
    let one = |entries: &[Entry]| -> Result<Option<Built>, BuildError> {
        if entries.is_empty() {
            return Ok(None);
        }
        layer::build(entries, mtime, level, dir).map(Some)
    };
    std::thread::scope(|s| {
        let shared = s.spawn(|| one(shared));
        let handles: Vec<_> = per.iter().map(|e| s.spawn(move || one(e))).collect();
        let joined = |h: std::thread::ScopedJoinHandle<'_, Result<Option<Built>, BuildError>>| {
            h.join()
                .map_err(|_| BuildError::Usage("a layer build thread panicked".into()))?
        };
        let shared = joined(shared)?;
        let mut layers = Vec::new();
        for h in handles {
            layers.push(joined(h)?);
        }
        Ok((shared, layers))
    })
}

/// The base image for each platform (`None` for scratch), its blobs copied into staging so
/// the result is complete wherever it is sent.
async fn resolve_base(
    ctx: &Context,
    req: &Request<'_>,
    staging: &Staging,
) -> Result<Option<(String, Vec<Base>)>, BuildError> {
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
        Copier::new(&store, &staging.store)
            .run(
                &at_digest(&loc, &m.digest),
                &staging.location(&m.digest),
                None,
            )
            .await?;
        bases.push(Base {
            digest: m.digest.to_string(),
            layers,
            config: cfg,
        });
    }
    Ok(Some((name.to_owned(), bases)))
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
