//! `cicd promote status REF`: where one digest is — which environments hold it now, since
//! when, and which held it before — and every piece of evidence each environment asks for,
//! with what verifies and what does not.

use serde::Serialize;

use crate::oci::store::Context;
use crate::oci::transport::Location;

use super::PromoteError;
use super::evidence::{self, Check, Requirements};
use super::history::{self, Entry};

/// One environment to look in.
pub struct Environment {
    pub name: String,
    pub repository: Location,
    pub tag: String,
    pub requirements: Requirements,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub reference: String,
    pub digest: String,
    pub environments: Vec<EnvironmentStatus>,
}

#[derive(Debug, Serialize)]
pub struct EnvironmentStatus {
    pub environment: String,
    pub repository: String,
    /// The environment tag points at this digest now.
    pub current: bool,
    /// When the entry that made it current was written.
    pub since: Option<String>,
    /// Every history entry for this digest, oldest first.
    pub entries: Vec<Entry>,
    pub evidence: Vec<Check>,
}

pub async fn status(
    ctx: &Context,
    reference: &Location,
    envs: &[Environment],
    now: i64,
) -> Result<Report, PromoteError> {
    let src = ctx.store(reference, false)?;
    let image = src.resolve(reference).await?;
    let mut environments = Vec::new();
    for env in envs {
        let store = ctx.store(&env.repository, false)?;
        let all = history::read(&store, &env.name).await?;
        let current =
            super::flow::current(&store, &env.tag).await?.as_deref() == Some(image.digest.as_str());
        let entries: Vec<Entry> = all
            .into_iter()
            .filter(|e| e.digest == image.digest.as_str())
            .collect();
        let since = if current {
            entries
                .iter()
                .rev()
                .find(|e| e.problem.is_none())
                .map(|e| e.facts.time.clone())
        } else {
            None
        };
        let evidence = evidence::check(&src, &image, &env.requirements, now).await?;
        environments.push(EnvironmentStatus {
            environment: env.name.clone(),
            repository: env.repository.to_string(),
            current,
            since,
            entries,
            evidence,
        });
    }
    Ok(Report {
        reference: reference.to_string(),
        digest: image.digest.to_string(),
        environments,
    })
}
