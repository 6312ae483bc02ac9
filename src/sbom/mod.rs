//! `cicd sbom`: software bills of materials read from an image's layers (or a root
//! directory). [`source`] finds the images and streams their layers, [`walk`] squashes them
//! into a [`tree::Tree`] keeping only what [`catalogers`] ask for, and [`cyclonedx`] writes
//! the document. Knows nothing of the command line.

pub mod attached;
pub mod catalogers;
pub mod changeset;
pub mod cyclonedx;
pub mod error;
pub mod local;
pub mod package;
pub mod source;
pub mod spdx;
pub mod tree;
pub mod walk;

use std::collections::{BTreeMap, BTreeSet};

use crate::oci::auth::Sources;
use crate::oci::manifest::Platform;
use crate::oci::registry::Options;
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

pub use cyclonedx::Spec;
pub use error::SbomError;
use package::Package;
use source::{Image, Source};
use tree::Tree;

/// Layers read at the same time (each holds its decoder and its changes until applied).
const LAYERS_AT_ONCE: usize = 4;

/// One `cicd sbom` run, validated.
pub struct Request {
    pub source: Source,
    pub platform: Option<Platform>,
    pub spec: Spec,
    pub opts: Options,
    /// Where registry credentials come from (the command decides; `oci` reads no environment
    /// of its own choosing here).
    pub sources: Sources,
}

/// What an SBOM describes: the image (as a `pkg:oci` purl) or the directory.
#[derive(Clone, Debug)]
pub struct Subject {
    pub name: String,
    pub digest: Option<String>,
    pub purl: Option<String>,
}

impl Subject {
    pub fn bom_ref(&self) -> String {
        self.purl.clone().unwrap_or_else(|| self.name.clone())
    }

    /// What the serial number is derived from: the digest, else the name.
    pub fn seed(&self) -> String {
        self.digest.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// One platform's SBOM, ready to render.
pub struct Document {
    pub subject: Subject,
    pub platform: Option<Platform>,
    /// Sorted by purl; one per purl.
    pub packages: Vec<Package>,
    /// For each package, the purls it depends on (sorted).
    pub edges: Vec<Vec<String>>,
    pub warnings: Vec<String>,
    /// The platform's manifest (an image source only), for callers that attest or sign it.
    pub manifest: Option<crate::oci::store::Fetched>,
}

/// Every platform's document.
pub struct Outcome {
    pub source: String,
    /// The digest the reference resolved to (an index or a manifest).
    pub digest: Option<String>,
    pub documents: Vec<Document>,
}

pub async fn run(req: &Request) -> Result<Outcome, SbomError> {
    match &req.source {
        Source::Dir(path) => {
            let mut tree = Tree::default();
            tokio::task::block_in_place(|| walk::read_dir(&mut tree, path, catalogers::WANTS))?;
            let name = path.display().to_string();
            let subject = Subject {
                name: name.clone(),
                digest: None,
                purl: None,
            };
            Ok(Outcome {
                source: format!("dir:{name}"),
                digest: None,
                documents: vec![document(subject, None, &tree, &[])],
            })
        }
        Source::Image(loc) => image(req, loc).await,
    }
}

async fn image(req: &Request, loc: &Location) -> Result<Outcome, SbomError> {
    let ctx = Context::new(req.opts.clone(), req.sources.clone())?;
    let store = source::store(&ctx, loc)?;
    let (digest, images) = source::resolve(&store, loc, req.platform.as_ref()).await?;
    documents(&store, loc, digest, images, &[])
}

/// Every platform's document of the image `root` (already resolved from `loc`, its digest
/// checked) in `ctx`'s registries — what `cicd release` uses right after its build, sharing
/// the build's connections and credentials. A layer whose `diff_id` is one of `local`'s (the
/// layers the build just made from files here) is read from its tar written again, not
/// fetched back ([`local`]); the others are fetched.
pub async fn image_in(
    ctx: &Context,
    loc: &Location,
    root: Fetched,
    local: &[crate::build::layer::Local],
) -> Result<Outcome, SbomError> {
    let store = source::store(ctx, loc)?;
    let (digest, images) = source::resolve_root(&store, loc, root, None).await?;
    let matched = futures_util::future::try_join_all(
        images.iter().map(|img| local::matching(&store, img, local)),
    )
    .await?;
    documents(&store, loc, digest, images, &matched)
}

/// Squashes each platform's layers (the platforms at once, each on its own threads) and
/// writes their documents, in the order of `images`; the first failure is the result.
/// `local[i][j]`, when there, is the local layer to read for layer `j` of image `i`.
fn documents(
    store: &Store,
    loc: &Location,
    digest: String,
    images: Vec<Image>,
    local: &[Vec<Option<&crate::build::layer::Local>>],
) -> Result<Outcome, SbomError> {
    let handle = tokio::runtime::Handle::current();
    let trees: Vec<Result<Tree, SbomError>> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let running: Vec<_> = images
                .iter()
                .enumerate()
                .map(|(i, img)| {
                    let local = local.get(i).map_or(&[][..], Vec::as_slice);
                    let handle = &handle;
                    scope.spawn(move || squash(handle, store, img, local))
                })
                .collect();
            running
                .into_iter()
                .map(|r| {
                    r.join()
                        .map_err(|_| SbomError::Render("an image reader panicked".into()))
                        .and_then(|t| t)
                })
                .collect()
        })
    });
    let mut documents = Vec::new();
    for (img, tree) in images.into_iter().zip(trees) {
        let tree = tree?;
        let layers: Vec<String> = img.layers.iter().map(|l| l.digest.to_string()).collect();
        let subject = image_subject(loc, &img);
        let mut doc = document(subject, img.platform.clone(), &tree, &layers);
        doc.manifest = Some(img.manifest);
        documents.push(doc);
    }
    Ok(Outcome {
        source: loc.to_string(),
        digest: Some(digest),
        documents,
    })
}

/// Applies every layer of `img`, bottom first. Layers are fetched, decompressed and read (or,
/// when `local` has one at their index, written again from local files: [`local::read`]) on
/// their own threads, up to [`LAYERS_AT_ONCE`] at a time, and applied in order as each one
/// below is done; the first failure stops the others.
fn squash(
    handle: &tokio::runtime::Handle,
    store: &Store,
    img: &Image,
    local: &[Option<&crate::build::layer::Local>],
) -> Result<Tree, SbomError> {
    let place = store.describe();
    let shared = std::sync::Arc::new(changeset::Shared::default());
    let at_once = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, LAYERS_AT_ONCE);
    std::thread::scope(|scope| {
        let mut tree = Tree::default();
        let mut pending = std::collections::VecDeque::new();
        let mut next = img.layers.iter().enumerate();
        loop {
            while pending.len() < at_once {
                let Some((index, desc)) = next.next() else {
                    break;
                };
                let (place, shared) = (&place, shared.clone());
                let mine = local.get(index).copied().flatten();
                pending.push_back(scope.spawn(move || {
                    let layer = walk::Layer {
                        index,
                        digest: &desc.digest,
                        size: desc.size,
                        image: place,
                    };
                    if let Some(mine) = mine {
                        return local::read(&layer, mine, catalogers::WANTS, shared);
                    }
                    let raw = source::open_layer(handle, store, desc)?;
                    walk::read_layer(&layer, raw, catalogers::WANTS, shared)
                }));
            }
            let Some(reading) = pending.pop_front() else {
                return Ok(tree);
            };
            let applied = reading
                .join()
                .map_err(|_| SbomError::Render("a layer reader panicked".into()))
                .and_then(|changes| changes?.apply(&mut tree));
            if let Err(e) = applied {
                shared.cancel();
                return Err(e);
            }
        }
    })
}

/// `pkg:oci/NAME@DIGEST?arch=…&repository_url=…` as the purl spec defines for images.
fn image_subject(loc: &Location, img: &Image) -> Subject {
    let (name, repo_url) = match loc {
        Location::Registry(r) => {
            let name = r.repository.rsplit('/').next().unwrap_or(&r.repository);
            (
                name.to_ascii_lowercase(),
                Some(format!("{}/{}", r.registry, r.repository)),
            )
        }
        Location::Layout { path, tag, .. } => {
            let base = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "image".into());
            (
                tag.clone().map_or(base, |t| t.clone()).to_ascii_lowercase(),
                None,
            )
        }
    };
    let arch = img
        .platform
        .as_ref()
        .map(|p| p.architecture.clone())
        .unwrap_or_default();
    let os = img
        .platform
        .as_ref()
        .map(|p| p.os.clone())
        .unwrap_or_default();
    let mut q: Vec<(&str, &str)> = vec![("arch", &arch), ("os", &os)];
    if let Some(u) = &repo_url {
        q.push(("repository_url", u));
    }
    Subject {
        purl: package::purl("oci", None, &name, &img.digest, &q),
        name: match loc {
            Location::Registry(r) => format!("{}/{}", r.registry, r.repository),
            Location::Layout { .. } => name,
        },
        digest: Some(img.digest.clone()),
    }
}

/// Runs the catalogers and merges what they found into one sorted document.
fn document(
    subject: Subject,
    platform: Option<Platform>,
    tree: &Tree,
    layers: &[String],
) -> Document {
    let (_, found) = catalogers::run(tree, layers);
    let mut by_purl: BTreeMap<String, Package> = BTreeMap::new();
    for p in found.packages {
        let key = if p.purl.is_empty() {
            format!("~{}:{}@{}", p.ecosystem, p.name, p.version)
        } else {
            p.purl.clone()
        };
        match by_purl.get_mut(&key) {
            Some(have) => {
                have.seen.extend(p.seen);
                have.seen.sort();
                have.seen.dedup();
                have.depends.extend(p.depends);
                if have.licenses.is_empty() {
                    have.licenses = p.licenses;
                }
            }
            None => {
                by_purl.insert(key, p);
            }
        }
    }
    let packages: Vec<Package> = by_purl.into_values().collect();
    let mut names: BTreeMap<(&str, String), BTreeSet<&str>> = BTreeMap::new();
    for p in &packages {
        let key = (p.ecosystem, p.name.to_ascii_lowercase());
        names.entry(key).or_default().insert(&p.purl);
    }
    let purls: BTreeSet<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
    let edges = packages
        .iter()
        .map(|p| {
            let mut to: BTreeSet<String> = BTreeSet::new();
            for d in &p.depends {
                // An exact purl (Cargo.lock, cargo-auditable) names one version.
                if d.starts_with("pkg:") {
                    if *d != p.purl && purls.contains(d.as_str()) {
                        to.insert(d.clone());
                    }
                } else if let Some(targets) = names.get(&(p.ecosystem, d.to_ascii_lowercase())) {
                    to.extend(
                        targets
                            .iter()
                            .filter(|t| **t != p.purl)
                            .map(|t| (*t).to_owned()),
                    );
                }
            }
            to.into_iter().collect()
        })
        .collect();
    let mut warnings = tree.warnings.clone();
    warnings.extend(found.warnings);
    Document {
        subject,
        platform,
        packages,
        edges,
        warnings,
        manifest: None,
    }
}
