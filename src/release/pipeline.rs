//! `cicd release` end to end, in the order the design fixes: for each image (up to four at
//! once, reported in `cicd.yaml` order) build (by digest) → SBOM per platform (written to
//! `dist`; the layers the build made here are read from their files again, not fetched back)
//! → the SBOM attestations, the signatures of index and platforms and the vulnerability gate
//! result's attestation, in one wave (`evidence::attach`); then, only when every image passed
//! the gate, the tags
//! the scheme decides (a manifest PUT of the same bytes) → notes, assets and `SHA256SUMS` in
//! `dist` → the GitHub release. A failed gate stops before any tag moves or any release is
//! made. Every step says what it did on stderr; the [`Record`] says it all at the end.

use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::future::try_join_all;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use super::assets::{self, AssetFile};
use super::evidence;
use super::github::{Published, publish};
use super::plan::{ImagePlan, Plan};
use super::{PipelineError, notes};
use crate::build::job::{Backend, Job};
use crate::build::source::Source as BuildSource;
use crate::config::images::ImageSpec;
use crate::github::releases::{ReleaseFields, Releases};
use crate::oci::store::{Context, Fetched, Store};
use crate::oci::transport::Location;

/// Images released at once.
const PARALLEL_IMAGES: usize = 4;

/// The gate's verdict on the scan reports, decided before the pipeline starts.
#[derive(Clone, Debug, Serialize)]
pub struct Gate {
    /// `passed`, `failed`, or `not-gated` (no reports given).
    pub result: String,
    pub reports: Vec<String>,
    pub failing: usize,
    pub reasons: Vec<String>,
    /// The vuln attestation's predicate (`sign::attest_vuln`), when reports were given.
    #[serde(skip)]
    pub predicate: Option<serde_json::Value>,
}

impl Gate {
    pub fn failed(&self) -> bool {
        self.result == "failed"
    }
}

pub struct GithubTarget {
    pub client: Releases,
    pub repository: String,
}

pub struct Request<'a> {
    pub plan: Plan,
    pub specs: Vec<&'a ImageSpec>,
    pub tree: PathBuf,
    pub ctx: Context,
    pub tags: crate::config::release::TagsConfig,
    /// `release.signing`: a key, keyless, or none (unsigned).
    pub signing: Option<evidence::Signing>,
    pub gate: Gate,
    pub github: Option<GithubTarget>,
    pub replace: bool,
    /// Files `release.assets` named (already confined to the tree).
    pub extra_assets: Vec<PathBuf>,
    pub changelog: String,
    pub created: String,
    pub source: BuildSource,
    /// Fan-out digest records (`--records`), with the file each came from.
    pub records: Vec<(PathBuf, crate::build::record::Record)>,
    /// The first environment, promoted to after the GitHub release.
    pub promotion: Option<super::promote::Target>,
    pub stamp: crate::promote::Stamp,
}

/// The whole release, for `--json` and the outputs.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub version: String,
    pub git_tag: String,
    pub prerelease: bool,
    pub make_latest: bool,
    pub signed: bool,
    pub gate: Gate,
    pub images: Vec<ImageRecord>,
    pub assets: Vec<AssetFile>,
    pub notes_file: PathBuf,
    pub release: Option<Published>,
    /// The first environment's promotion (none when `environments:` is not configured).
    pub promotion: Option<super::promote::Promotion>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageRecord {
    pub name: String,
    pub destination: String,
    pub digest: String,
    pub platforms: Vec<PlatformRecord>,
    /// Tags set by digest (empty when the gate failed).
    pub tags: Vec<String>,
    pub signatures: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlatformRecord {
    pub platform: String,
    pub digest: String,
    pub sbom: PathBuf,
    /// The SBOM attestation's referrer manifest, when signed.
    pub sbom_attestation: Option<String>,
}

/// Runs the release; `Ok` also when the gate failed (the record says so, nothing was tagged).
pub async fn run(req: Request<'_>) -> Result<Record, PipelineError> {
    let dist = req.plan.dist.clone();
    std::fs::create_dir_all(dist.join("sbom")).map_err(|e| io(&dist, e))?;
    let token;
    let annotations = std::collections::BTreeMap::new();
    let signer = match &req.signing {
        None => None,
        Some(evidence::Signing::Key(key, log)) => Some(evidence::Signer::Key(key, log.as_ref())),
        Some(evidence::Signing::Keyless(services)) => {
            let client = crate::http::Client::new(crate::http::Purpose::Api)
                .map_err(|e| PipelineError::Plan(format!("HTTP client: {e}")))?
                .into_reqwest();
            token = crate::sign::keyless::oidc::token(&client).await?;
            step("keyless signing: OIDC token obtained");
            Some(evidence::Signer::Keyless(
                crate::sign::keyless::sign::Request {
                    services: services.clone(),
                    token: &token,
                    annotations: &annotations,
                    created: req.created.clone(),
                    client,
                },
            ))
        }
    };
    // Images run at once (at most PARALLEL_IMAGES); their steps are said, and their results
    // kept, in the order cicd.yaml lists them. The first image (in that order) that failed
    // fails the release with its own error, as when they ran one after the other.
    let signer = signer.as_ref();
    let shared = &req;
    let done: Vec<(ImageRecord, Fetched, Store)> =
        stream::iter(req.plan.images.iter().zip(&req.specs))
            .map(|(image_plan, spec)| async move {
                let mut log = Vec::new();
                let result = image(shared, signer, image_plan, spec, &mut log).await;
                (log, result)
            })
            .buffered(PARALLEL_IMAGES)
            .map(|(log, result)| {
                for line in &log {
                    step(line);
                }
                result
            })
            .try_collect()
            .await?;
    let mut images = Vec::new();
    let mut built = Vec::new();
    for (record, root, store) in done {
        images.push(record);
        built.push((root, store));
    }
    let mut record = Record {
        version: req.plan.version.clone(),
        git_tag: req.plan.git_tag.clone(),
        prerelease: req.plan.prerelease,
        make_latest: req.plan.make_latest,
        signed: signer.is_some(),
        gate: req.gate.clone(),
        images,
        assets: Vec::new(),
        notes_file: dist.join("release-notes.md"),
        release: None,
        promotion: None,
        notes: req.plan.notes.clone(),
    };
    if req.gate.failed() {
        step(&format!(
            "gate failed ({} failing finding(s)): no tag moved, no release made",
            req.gate.failing
        ));
        return Ok(record);
    }
    let tagged = set_tags(&req, &built).await?;
    for (rec, tags) in record.images.iter_mut().zip(tagged) {
        rec.tags = tags;
        step(&format!("tagged {}: {}", rec.name, rec.tags.join(", ")));
    }
    let body = notes::body(&record, &req.changelog);
    crate::fs::write_atomically(&record.notes_file, body.as_bytes())
        .map_err(|e| io(&record.notes_file, e))?;
    record.assets = collect_assets(&record, &req.extra_assets, &dist)?;
    if let Some(signer) = &signer {
        let signed = super::sums_bundle::write(signer, &record.assets, &dist, &req.created).await?;
        step(&format!(
            "signed the release's files: {}",
            super::sums_bundle::NAME
        ));
        record.assets.push(signed);
    }
    if let Some(gh) = &req.github {
        let fields = ReleaseFields {
            tag_name: record.git_tag.clone(),
            name: record.git_tag.clone(),
            body,
            prerelease: record.prerelease,
            make_latest: record.make_latest.to_string(),
        };
        let published = publish(&gh.client, &fields, &record.assets, req.replace).await?;
        step(&format!(
            "GitHub release {} {} ({} uploaded, {} replaced, {} unchanged)",
            published.release,
            published.url,
            published.uploaded.len(),
            published.replaced.len(),
            published.unchanged.len()
        ));
        record.release = Some(published);
    }
    if let Some(target) = &req.promotion {
        record.promotion = Some(promote_first(&req, target, &record).await);
    }
    Ok(record)
}

/// The tags the scheme decides for every image, set by digest. Every image's decision
/// (`latest`, `X`, `X.Y`: from the tags already at its destination, listed while planning,
/// before the build) is made before any tag is `PUT`; then every tag of every image is `PUT`
/// at once (a manifest `PUT` of the same bytes per tag). Returns each image's tags, in plan
/// order.
async fn set_tags(
    req: &Request<'_>,
    built: &[(Fetched, Store)],
) -> Result<Vec<Vec<String>>, PipelineError> {
    let version = semver_of(&req.plan.version)?;
    let plans: Vec<Vec<String>> = req
        .plan
        .images
        .iter()
        .map(|image_plan| {
            let existing = &image_plan.existing;
            let plan = super::tags::plan(
                &version,
                existing,
                &req.tags,
                &super::tags::Context {
                    sha: req.source.revision.as_deref(),
                    branch: None,
                },
            );
            plan.to_set().into_iter().map(str::to_owned).collect()
        })
        .collect();
    let puts = plans.iter().zip(built).flat_map(|(tags, (root, store))| {
        tags.iter().map(move |tag| store.set_tag(root, Some(tag)))
    });
    try_join_all(puts).await?;
    Ok(plans)
}

/// The first environment, with the evidence just attached; said on stderr.
async fn promote_first(
    req: &Request<'_>,
    target: &super::promote::Target,
    record: &Record,
) -> super::promote::Promotion {
    let released: Vec<_> = record
        .images
        .iter()
        .map(|i| super::promote::Released {
            name: &i.name,
            destination: &i.destination,
            digest: &i.digest,
        })
        .collect();
    let p = super::promote::run(
        &req.ctx,
        target,
        &released,
        &record.version,
        &record.git_tag,
        &req.stamp,
    )
    .await;
    for (image, o) in released.iter().zip(&p.images) {
        if p.unchanged.contains(&o.digest) {
            step(&format!(
                "{} {} is already at {} ({}): evidence verified, nothing to move",
                image.name, o.digest, p.environment, o.tag
            ));
        } else if o.promoted() && p.error.is_none() {
            step(&format!(
                "promoted {} {} to {} ({})",
                image.name, o.digest, p.environment, o.tag
            ));
        }
        for r in &o.refused {
            step(&format!("{} refused {}: {r}", p.environment, image.name));
        }
    }
    if let Some(e) = &p.error {
        step(&format!("promotion to {} failed: {e}", p.environment));
    }
    p
}

/// Build, SBOMs, signatures and the gate attestation for one image.
/// Its steps go to `log` (said once the image is done, in the order of `cicd.yaml`).
async fn image(
    req: &Request<'_>,
    signer: Option<&evidence::Signer<'_>>,
    plan: &ImagePlan,
    spec: &ImageSpec,
    log: &mut Vec<String>,
) -> Result<(ImageRecord, Fetched, Store), PipelineError> {
    let to = location(&plan.destination)?;
    let platforms = spec
        .platforms
        .iter()
        .map(|p| crate::build::platform::parse(p).map_err(|e| PipelineError::Plan(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let job = Job {
        name: &spec.name,
        image: spec,
        tree: req.tree.clone(),
        platforms,
        single: false,
        backend: backend(spec),
        to: to.clone(),
        tags: Vec::new(),
        source: req.source.clone(),
    };
    let outcome = if req.records.is_empty() {
        let outcome = crate::build::job::run(&req.ctx, &job).await?;
        log.push(format!(
            "built {} -> {} @ {}",
            spec.name, plan.destination, outcome.digest
        ));
        outcome
    } else {
        let mine = records_for(&req.records, &plan.destination, &spec.platforms)
            .map_err(|e| PipelineError::Plan(format!("image {}: {e}", spec.name)))?;
        let outcome = crate::build::merge::merge(&req.ctx, &mine, &to, &[]).await?;
        log.push(format!(
            "merged {} from {} fan-out record(s) -> {} @ {}",
            spec.name,
            mine.len(),
            plan.destination,
            outcome.digest
        ));
        outcome
    };
    let store = req.ctx.store(&to, false)?;
    let root = store
        .resolve(&at_digest(&plan.destination, &outcome.digest)?)
        .await?;
    let mut rec = ImageRecord {
        name: spec.name.clone(),
        destination: plan.destination.clone(),
        digest: outcome.digest.clone(),
        platforms: Vec::new(),
        tags: Vec::new(),
        signatures: Vec::new(),
    };
    let local: Vec<_> = outcome.local_layers.into_iter().flatten().collect();
    let written = sboms(req, plan, &root, &local, &rec.name).await?;
    let attached = match signer {
        None => None,
        Some(signer) => {
            let platforms: Vec<(&Fetched, &[u8])> = written
                .iter()
                .map(|w| (&w.manifest, w.bytes.as_slice()))
                .collect();
            let vuln = req.gate.predicate.as_ref();
            Some(evidence::attach(&store, signer, &root, &platforms, vuln, &req.created).await?)
        }
    };
    record_evidence(req, &root, written, attached, &mut rec, log);
    Ok((rec, root, store))
}

/// `written`'s platforms and `attached`'s signatures into `rec`, each said in `log` (the
/// SBOMs in platform order, then the signatures, then the gate's attestation).
fn record_evidence(
    req: &Request<'_>,
    root: &Fetched,
    written: Vec<Written>,
    attached: Option<evidence::Attached>,
    rec: &mut ImageRecord,
    log: &mut Vec<String>,
) {
    let mut attestations = attached.as_ref().map(|a| a.sboms.clone().into_iter());
    for w in written {
        let attestation = attestations.as_mut().and_then(Iterator::next);
        log.push(format!(
            "SBOM {} {}: {} components -> {}{}",
            rec.name,
            w.platform,
            w.components,
            w.path.display(),
            if attestation.is_some() {
                " (attested)"
            } else {
                ""
            }
        ));
        rec.platforms.push(PlatformRecord {
            platform: w.platform,
            digest: w.digest,
            sbom: w.path,
            sbom_attestation: attestation,
        });
    }
    if let Some(attached) = attached {
        rec.signatures = attached.signatures;
        log.push(format!(
            "signed {} and its {} platform(s)",
            root.digest,
            rec.platforms.len()
        ));
        if req.gate.predicate.is_some() {
            log.push(format!(
                "attested the gate result ({}) on {}",
                req.gate.result, root.digest
            ));
        }
    }
}

/// One platform's SBOM as written to `dist/sbom`.
struct Written {
    platform: String,
    /// The platform manifest's digest.
    digest: String,
    path: PathBuf,
    bytes: Vec<u8>,
    components: usize,
    manifest: Fetched,
}

/// One CycloneDX SBOM per platform into `dist/sbom`. The SBOMs are read from `root` (the
/// index the build just pushed, already resolved) through the run's own registry context,
/// the platforms at once; the layers the build made from local files (`local`) are read
/// from those files again, not fetched back (`sbom::local`).
async fn sboms(
    req: &Request<'_>,
    plan: &ImagePlan,
    root: &Fetched,
    local: &[crate::build::layer::Local],
    name: &str,
) -> Result<Vec<Written>, PipelineError> {
    let at = at_digest(&plan.destination, root.digest.as_str())?;
    let outcome = crate::sbom::image_in(&req.ctx, &at, root.clone(), local).await?;
    let mut written = Vec::new();
    for doc in &outcome.documents {
        let platform = doc
            .platform
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let bytes = crate::sbom::cyclonedx::render(doc, crate::sbom::Spec::V1_6)?;
        let path = req.plan.dist.join("sbom").join(format!(
            "{}.{}.cdx.json",
            name,
            platform.replace('/', "-")
        ));
        crate::fs::write_atomically(&path, &bytes).map_err(|e| io(&path, e))?;
        let manifest = doc
            .manifest
            .clone()
            .ok_or_else(|| PipelineError::Plan(format!("SBOM of {name} names no manifest")))?;
        written.push(Written {
            platform,
            digest: doc.subject.digest.clone().unwrap_or_default(),
            path,
            bytes,
            components: doc.packages.len(),
            manifest,
        });
    }
    Ok(written)
}

fn collect_assets(
    record: &Record,
    extra: &[PathBuf],
    dist: &Path,
) -> Result<Vec<AssetFile>, PipelineError> {
    let mut files = Vec::new();
    for image in &record.images {
        for p in &image.platforms {
            files.push(AssetFile::read(&p.sbom)?);
        }
    }
    for path in extra {
        files.push(AssetFile::read(path)?);
    }
    assets::check_unique(&files)?;
    let sums = dist.join(assets::SUMS);
    crate::fs::write_atomically(&sums, assets::sums(&files).as_bytes())
        .map_err(|e| io(&sums, e))?;
    files.push(AssetFile::read(&sums)?);
    Ok(files)
}

fn backend(spec: &ImageSpec) -> Backend {
    match (&spec.native, &spec.dockerfile) {
        (Some(_), _) => Backend::Native,
        (None, Some(d)) if d.backend == "buildx" => Backend::Buildx,
        _ => Backend::Buildah,
    }
}

pub fn location(destination: &str) -> Result<Location, PipelineError> {
    Ok(Location::parse(destination)?)
}

/// `destination@digest` in either transport.
fn at_digest(destination: &str, digest: &str) -> Result<Location, PipelineError> {
    location(&format!("{destination}@{digest}"))
}

fn semver_of(v: &str) -> Result<semver::Version, PipelineError> {
    semver::Version::parse(v).map_err(|e| PipelineError::Plan(format!("version {v}: {e}")))
}

fn io(path: &Path, e: std::io::Error) -> PipelineError {
    PipelineError::Write(path.to_path_buf(), e)
}

/// One line on stderr per step.
pub fn step(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", crate::report::escape::plain(line));
}

/// The fan-out records of the image pushed to `destination`: exactly one per declared
/// platform, none missing and none extra (a missing runner never turns into a rebuild here).
fn records_for(
    records: &[(PathBuf, crate::build::record::Record)],
    destination: &str,
    platforms: &[String],
) -> Result<Vec<(PathBuf, crate::build::record::Record)>, String> {
    let mine: Vec<_> = records
        .iter()
        .filter(|(_, r)| r.repository == destination)
        .cloned()
        .collect();
    let mut have: Vec<&str> = mine.iter().map(|(_, r)| r.platform.as_str()).collect();
    let mut want: Vec<&str> = platforms.iter().map(String::as_str).collect();
    have.sort_unstable();
    want.sort_unstable();
    if have != want {
        return Err(format!(
            "--records hold platforms [{}] for {destination}, the image declares [{}]",
            have.join(", "),
            want.join(", ")
        ));
    }
    Ok(mine)
}
