//! The last step of `cicd release`: each released digest promoted to the first environment of
//! `environments:` (the one with no `after:`) through `promote::flow`, with the evidence the
//! release just attached. Every image is verified before any is applied, so a refusal tags
//! nothing in the environment; the [`Promotion`] record says promoted, refused or failed.

use serde::Serialize;

use crate::config::Loaded;
use crate::config::environments::Environment;
use crate::error::Exit;
use crate::github::deployments::{Deployer, Deployment};
use crate::oci::store::Context;
use crate::oci::transport::Location;
use crate::promote::evidence::Requirements;
use crate::promote::{self, Outcome, PromoteError, Stamp, flow};

/// The first environment, ready to promote to.
pub struct Target {
    pub name: String,
    pub env: Environment,
    pub requirements: Requirements,
    /// GitHub deployments are recorded when `GITHUB_TOKEN`/`GITHUB_REPOSITORY` are set.
    pub deployer: Option<Deployer>,
}

/// What the promotion did, in the release record.
#[derive(Clone, Debug, Serialize)]
pub struct Promotion {
    pub environment: String,
    /// `promoted`, `refused` (evidence missing: exit 1) or `failed` (exit 3, or 2).
    pub result: String,
    pub images: Vec<Outcome>,
    /// Digests the environment already pointed at (a re-run): verified, not tagged again.
    pub unchanged: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub exit: Exit,
}

/// One released image: its name, destination repository and index digest.
pub struct Released<'a> {
    pub name: &'a str,
    pub destination: &'a str,
    pub digest: &'a str,
}

/// The environment with no `after:` (none configured → `None`); its requirements must all be
/// checkable by this build, and an environment `repository:` serves one image only.
/// `requirements` reads the environment's `require:` as `cicd promote` does (key, trust root,
/// `policy.trivy` gate).
pub fn first(
    loaded: &Loaded,
    images: usize,
    deployer: Option<Deployer>,
    requirements: impl FnOnce(&Environment) -> Result<Requirements, String>,
) -> Result<Option<Target>, String> {
    let roots: Vec<(&String, &Environment)> = loaded
        .config
        .environments
        .iter()
        .filter(|(_, e)| e.after.is_none())
        .collect();
    let (name, env) = match roots.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "environments {} have no `after:`: cicd release promotes to one first environment; give the others `after:`",
                names.join(", ")
            ));
        }
    };
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
    Ok(Some(Target {
        name: name.clone(),
        env: env.clone(),
        requirements,
        deployer,
    }))
}

/// Promotes every image to `target`; never an `Err`: a failure is a `failed` record.
pub async fn run(
    ctx: &Context,
    target: &Target,
    images: &[Released<'_>],
    version: &str,
    git_tag: &str,
    stamp: &Stamp,
) -> Promotion {
    let mut out = Promotion {
        environment: target.name.clone(),
        result: "failed".into(),
        images: Vec::new(),
        unchanged: Vec::new(),
        error: None,
        exit: Exit::External,
    };
    match promote_all(ctx, target, images, version, git_tag, stamp, &mut out).await {
        Ok(()) if out.images.iter().all(Outcome::promoted) => {
            out.result = "promoted".into();
            out.exit = Exit::Ok;
        }
        Ok(()) => {
            out.result = "refused".into();
            out.exit = Exit::Violation;
        }
        Err(Failure(message, exit)) => {
            out.error = Some(message);
            out.exit = exit;
        }
    }
    out
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

async fn promote_all(
    ctx: &Context,
    target: &Target,
    images: &[Released<'_>],
    version: &str,
    git_tag: &str,
    stamp: &Stamp,
    out: &mut Promotion,
) -> Result<(), Failure> {
    let mut ready = Vec::new();
    for image in images {
        let req = request(target, image, version, stamp)?;
        let (outcome, fetched) = flow::verify(ctx, &req).await?;
        out.images.push(outcome);
        ready.push((req, fetched));
    }
    if out.images.iter().any(|o| !o.promoted()) {
        return Ok(());
    }
    for ((req, fetched), outcome) in ready.iter().zip(out.images.iter_mut()) {
        let Some(image) = fetched else { continue };
        // A re-run of the same release: the environment already has this digest, and a
        // second history entry or deployment would record a promotion that did not happen.
        if outcome.previous_digest.as_deref() == Some(outcome.digest.as_str()) {
            out.unchanged.push(outcome.digest.clone());
            continue;
        }
        let deployment = match &target.deployer {
            Some(d) => Some(
                d.start(&deployment(target, outcome, git_tag))
                    .await
                    .map_err(github)?,
            ),
            None => None,
        };
        let applied = flow::apply(ctx, req, image, outcome).await;
        if let (Some(d), Some(id)) = (&target.deployer, deployment) {
            let ok = applied.is_ok() && outcome.promoted();
            let (state, text) = if ok {
                (
                    "success",
                    format!("{} is at {}", target.name, outcome.digest),
                )
            } else {
                (
                    "failure",
                    format!("promotion of {} to {} failed", outcome.digest, target.name),
                )
            };
            let url = target.env.url.as_deref().filter(|_| ok);
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
    target: &Target,
    image: &Released<'_>,
    version: &str,
    stamp: &Stamp,
) -> Result<flow::Request, PromoteError> {
    let source = Location::parse(&format!("{}@{}", image.destination, image.digest))?;
    let destination = match &target.env.repository {
        Some(r) => promote::repository_of(&Location::parse(r)?),
        None => promote::repository_of(&source),
    };
    Ok(flow::Request {
        source,
        environment: target.name.clone(),
        destination,
        tag: target.env.tag_for(&target.name),
        requirements: target.requirements.clone(),
        after: None,
        version: Some(version.to_owned()),
        dry_run: false,
        stamp: stamp.clone(),
    })
}

fn deployment(target: &Target, out: &Outcome, git_tag: &str) -> Deployment {
    Deployment {
        environment: target.env.github_environment_for(&target.name),
        git_ref: std::env::var("GITHUB_SHA")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| git_tag.to_owned()),
        production: target.env.is_production(&target.name),
        payload: serde_json::json!({
            "image": out.destination.trim_start_matches("docker://"),
            "digest": out.digest,
            "version": out.version,
            "previous_digest": out.previous_digest,
            "rolled_back_from": null,
            "kind": "promote",
        }),
        description: format!("cicd release promote {} to {}", out.digest, target.name),
    }
}

/// Who and when, for the environment's history entry.
pub fn stamp() -> Result<Stamp, String> {
    Stamp::from_env("release")
}
