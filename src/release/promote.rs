//! The last step of `cicd release`: each released digest promoted to every root environment
//! of `environments:` (those with no `after:`) through `promote::flow`, with the evidence the
//! release just attached. Every image is verified for every environment before any is applied
//! (each image's evidence checked once per distinct `require:`), so a refusal tags nothing in
//! any environment; the [`Promotion`] record says promoted, refused or failed, for each
//! environment and overall.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::Loaded;
use crate::config::environments::Environment;
use crate::error::Exit;
use crate::github::deployments::{Deployer, Deployment};
use crate::oci::store::Context;
use crate::oci::transport::Location;
use crate::promote::evidence::Requirements;
use crate::promote::{self, Outcome, PromoteError, Stamp, flow};

/// One root environment, ready to promote to.
pub struct Root {
    pub name: String,
    pub env: Environment,
    pub requirements: Requirements,
}

/// The root environments, ready to promote to.
pub struct Target {
    /// Their names, joined (`qa, staging`): what the plan and the record say.
    pub name: String,
    pub roots: Vec<Root>,
    /// GitHub deployments are recorded when `GITHUB_TOKEN`/`GITHUB_REPOSITORY` are set.
    pub deployer: Option<Deployer>,
}

/// What the promotion did, in the release record. With one root environment, `images` are its
/// outcomes; with several, each image's outcomes combined (environments and tags joined,
/// refusals prefixed with their environment) and `environments` holds each one's own.
#[derive(Clone, Debug, Serialize)]
pub struct Promotion {
    pub environment: String,
    /// `promoted`, `refused` (evidence missing: exit 1) or `failed` (exit 3, or 2).
    pub result: String,
    pub images: Vec<Outcome>,
    /// Digests the environments already pointed at (a re-run): verified, not tagged again.
    pub unchanged: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Each root environment's promotion, in `environments:` order.
    pub environments: Vec<EnvironmentPromotion>,
    #[serde(skip)]
    pub exit: Exit,
}

/// One root environment's part of the promotion.
#[derive(Clone, Debug, Serialize)]
pub struct EnvironmentPromotion {
    pub environment: String,
    /// `promoted`, `refused`, `verified` (its evidence holds, but another environment's
    /// refusal stopped the release before anything was applied), `failed`, or `not-run`
    /// (an earlier environment failed).
    pub result: String,
    pub images: Vec<Outcome>,
    pub unchanged: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One released image: its name, destination repository and index digest.
pub struct Released<'a> {
    pub name: &'a str,
    pub destination: &'a str,
    pub digest: &'a str,
}

/// The environments with no `after:` (none configured → `None`); each one's requirements must
/// all be checkable by this build, and an environment `repository:` serves one image only.
/// `requirements` reads an environment's `require:` as `cicd promote` does (key, trust root,
/// `policy.trivy` gate).
pub fn first(
    loaded: &Loaded,
    images: usize,
    deployer: Option<Deployer>,
    mut requirements: impl FnMut(&Environment) -> Result<Requirements, String>,
) -> Result<Option<Target>, String> {
    let mut roots = Vec::new();
    for (name, env) in loaded
        .config
        .environments
        .iter()
        .filter(|(_, e)| e.after.is_none())
    {
        if env.repository.is_some() && images > 1 {
            return Err(format!(
                "environment `{name}` has one `repository:` and cicd.yaml has {images} images: drop `repository:` so each image is promoted in its own repository"
            ));
        }
        let requirements = requirements(env)?;
        let missing = requirements.unsupported();
        if !missing.is_empty() {
            return Err(format!(
                "environment `{name}` requires evidence this build cannot check: {}",
                missing.join("; ")
            ));
        }
        roots.push(Root {
            name: name.clone(),
            env: env.clone(),
            requirements,
        });
    }
    if roots.is_empty() {
        return Ok(None);
    }
    let names: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
    Ok(Some(Target {
        name: names.join(", "),
        roots,
        deployer,
    }))
}

/// Promotes every image to every root environment of `target`; never an `Err`: a failure is
/// a `failed` record.
pub async fn run(
    ctx: &Context,
    target: &Target,
    images: &[Released<'_>],
    version: &str,
    git_tag: &str,
    stamp: &Stamp,
) -> Promotion {
    let mut envs: Vec<EnvironmentPromotion> = target
        .roots
        .iter()
        .map(|r| EnvironmentPromotion {
            environment: r.name.clone(),
            result: "not-run".into(),
            images: Vec::new(),
            unchanged: Vec::new(),
            error: None,
        })
        .collect();
    let done = promote_all(ctx, target, images, version, git_tag, stamp, &mut envs).await;
    let refused = envs.iter().any(|e| e.images.iter().any(|o| !o.promoted()));
    let (result, exit, error) = match done {
        Ok(()) if !refused => ("promoted", Exit::Ok, None),
        Ok(()) => ("refused", Exit::Violation, None),
        Err(Failure(message, exit)) => ("failed", exit, Some(message)),
    };
    // Environments neither applied nor failed: verified only, or refused.
    for e in &mut envs {
        if e.result == "not-run" && !e.images.is_empty() {
            e.result = if e.images.iter().all(Outcome::promoted) {
                "verified"
            } else {
                "refused"
            }
            .into();
        }
    }
    let (images, unchanged) = combined(&envs);
    Promotion {
        environment: target.name.clone(),
        result: result.into(),
        images,
        unchanged,
        error,
        environments: envs,
        exit,
    }
}

/// The per-image view of every environment's outcomes (see [`Promotion`]).
fn combined(envs: &[EnvironmentPromotion]) -> (Vec<Outcome>, Vec<String>) {
    if let [one] = envs {
        return (one.images.clone(), one.unchanged.clone());
    }
    let Some(first) = envs.first() else {
        return (Vec::new(), Vec::new());
    };
    let join = |f: &dyn Fn(&EnvironmentPromotion) -> String| {
        envs.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    let images = first
        .images
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let each = || {
                envs.iter()
                    .filter_map(move |e| e.images.get(i).map(|o| (e, o)))
            };
            Outcome {
                environment: join(&|e| e.environment.clone()),
                tag: each()
                    .map(|(_, o)| o.tag.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                refused: each()
                    .flat_map(|(e, o)| {
                        o.refused
                            .iter()
                            .map(move |r| format!("{}: {r}", e.environment))
                    })
                    .collect(),
                history_tag: None,
                previous_digest: None,
                evidence_at_destination: Vec::new(),
                copied: None,
                ..o.clone()
            }
        })
        .collect();
    let unchanged = first
        .unchanged
        .iter()
        .filter(|d| envs.iter().all(|e| e.unchanged.contains(d)))
        .cloned()
        .collect();
    (images, unchanged)
}

struct Failure(String, Exit);

impl From<PromoteError> for Failure {
    fn from(e: PromoteError) -> Self {
        let exit = match &e {
            PromoteError::Input(_) => Exit::BadInput,
            PromoteError::Oci(o) if o.is_bad_input() => Exit::BadInput,
            PromoteError::Oci(_) => Exit::External,
        };
        Failure(e.to_string(), exit)
    }
}

fn github(e: crate::github::api::ApiError) -> Failure {
    Failure(format!("GitHub deployments: {e}"), Exit::External)
}

/// Verifies every image for every environment (each image's evidence once per distinct
/// `require:`), then, when nothing is refused, applies them environment by environment.
async fn promote_all(
    ctx: &Context,
    target: &Target,
    images: &[Released<'_>],
    version: &str,
    git_tag: &str,
    stamp: &Stamp,
    envs: &mut [EnvironmentPromotion],
) -> Result<(), Failure> {
    let mut known: HashMap<(usize, String), flow::Known> = HashMap::new();
    let mut ready = Vec::new();
    for (root, record) in target.roots.iter().zip(envs.iter_mut()) {
        let require = format!("{:?}", root.env.require);
        for (i, image) in images.iter().enumerate() {
            let req = request(root, image, version, stamp)?;
            let key = (i, require.clone());
            let (outcome, fetched) = match flow::verify_known(ctx, &req, known.get(&key)).await {
                Ok(v) => v,
                Err(e) => {
                    let failure = Failure::from(e);
                    record.result = "failed".into();
                    record.error = Some(failure.0.clone());
                    return Err(failure);
                }
            };
            if let Some(f) = &fetched {
                known
                    .entry(key)
                    .or_insert_with(|| (f.clone(), outcome.evidence.clone()));
            }
            record.images.push(outcome);
            ready.push(fetched);
        }
    }
    if envs.iter().any(|e| e.images.iter().any(|o| !o.promoted())) {
        return Ok(());
    }
    let mut ready = ready.into_iter();
    for (root, record) in target.roots.iter().zip(envs.iter_mut()) {
        let fetched: Vec<_> = ready.by_ref().take(images.len()).collect();
        let applied = apply_one(
            ctx, target, root, images, version, stamp, git_tag, fetched, record,
        )
        .await;
        if let Err(Failure(m, _)) = &applied {
            record.result = "failed".into();
            record.error = Some(m.clone());
        }
        applied?;
        if record.images.iter().any(|o| !o.promoted()) {
            return Ok(());
        }
        record.result = "promoted".into();
    }
    Ok(())
}

/// Applies one environment's verified images.
#[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
async fn apply_one(
    ctx: &Context,
    target: &Target,
    root: &Root,
    images: &[Released<'_>],
    version: &str,
    stamp: &Stamp,
    git_tag: &str,
    fetched: Vec<Option<crate::oci::store::Fetched>>,
    record: &mut EnvironmentPromotion,
) -> Result<(), Failure> {
    for ((image, fetched), outcome) in images.iter().zip(fetched).zip(record.images.iter_mut()) {
        let Some(fetched) = fetched else { continue };
        // A re-run of the same release: the environment already has this digest, and a
        // second history entry or deployment would record a promotion that did not happen.
        if outcome.previous_digest.as_deref() == Some(outcome.digest.as_str()) {
            record.unchanged.push(outcome.digest.clone());
            continue;
        }
        let req = request(root, image, version, stamp)?;
        let deployment = match &target.deployer {
            Some(d) => Some(
                d.start(&deployment(root, outcome, git_tag))
                    .await
                    .map_err(github)?,
            ),
            None => None,
        };
        let applied = flow::apply(ctx, &req, &fetched, outcome).await;
        if let (Some(d), Some(id)) = (&target.deployer, deployment) {
            let ok = applied.is_ok() && outcome.promoted();
            let (state, text) = if ok {
                ("success", format!("{} is at {}", root.name, outcome.digest))
            } else {
                (
                    "failure",
                    format!("promotion of {} to {} failed", outcome.digest, root.name),
                )
            };
            let url = root.env.url.as_deref().filter(|_| ok);
            d.status(id, state, url, &text).await.map_err(github)?;
        }
        applied?;
        if !outcome.promoted() {
            return Ok(());
        }
    }
    Ok(())
}

fn request(
    root: &Root,
    image: &Released<'_>,
    version: &str,
    stamp: &Stamp,
) -> Result<flow::Request, PromoteError> {
    let source = Location::parse(&format!("{}@{}", image.destination, image.digest))?;
    let destination = match &root.env.repository {
        Some(r) => promote::repository_of(&Location::parse(r)?),
        None => promote::repository_of(&source),
    };
    Ok(flow::Request {
        source,
        environment: root.name.clone(),
        destination,
        tag: root.env.tag_for(&root.name),
        requirements: root.requirements.clone(),
        after: None,
        version: Some(version.to_owned()),
        dry_run: false,
        stamp: stamp.clone(),
    })
}

fn deployment(root: &Root, out: &Outcome, git_tag: &str) -> Deployment {
    Deployment {
        environment: root.env.github_environment_for(&root.name),
        git_ref: std::env::var("GITHUB_SHA")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| git_tag.to_owned()),
        production: root.env.is_production(&root.name),
        payload: serde_json::json!({
            "image": out.destination.trim_start_matches("docker://"),
            "digest": out.digest,
            "version": out.version,
            "previous_digest": out.previous_digest,
            "rolled_back_from": null,
            "kind": "promote",
        }),
        description: format!("cicd release promote {} to {}", out.digest, root.name),
    }
}

/// Who and when, for the environment's history entry.
pub fn stamp() -> Result<Stamp, String> {
    Stamp::from_env("release")
}
