//! `cicd build merge`: joins per-platform digest records (one per fan-out runner) into one
//! index. Every record is checked first — its digest must exist and be an image for the
//! platform it claims — and nothing is written unless all of them are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::config::index;
use super::publish::{at_digest, bare, read_small_blob};
use super::record::Record;
use super::{BuildError, Outcome, PlatformResult};
use crate::oci::copy::Copier;
use crate::oci::manifest::{Descriptor, Kind, OCI_INDEX};
use crate::oci::store::{Context, Fetched};
use crate::oci::transport::Location;

/// Checks every record, then copies children that live elsewhere and pushes the index.
pub async fn merge(
    ctx: &Context,
    records: &[(PathBuf, Record)],
    to: &Location,
    tags: &[String],
) -> Result<Outcome, BuildError> {
    let mut children = Vec::new();
    let mut seen = BTreeMap::new();
    for (path, r) in records {
        let bad = |reason: String| BuildError::Input {
            path: path.clone(),
            reason,
        };
        if let Some(other) = seen.insert(r.platform.clone(), path.clone()) {
            return Err(bad(format!(
                "platform {} is also in {}",
                r.platform,
                other.display()
            )));
        }
        let from = Location::parse(&r.repository)?;
        if from.tag().is_some() || from.digest().is_some() {
            return Err(bad("repository must not carry a tag or digest".into()));
        }
        let store = ctx.store(&from, false)?;
        let m = store
            .manifest(&r.digest)
            .await?
            .ok_or_else(|| bad(format!("{} is not in {}", r.digest, store.describe())))?;
        let Kind::Image { config, .. } = m.parse()?.kind else {
            return Err(bad(format!(
                "{} is an index, not one platform's image",
                r.digest
            )));
        };
        let cfg: serde_json::Value =
            serde_json::from_slice(&read_small_blob(&store, &config).await?)
                .map_err(|e| bad(format!("image config of {} is not JSON: {e}", r.digest)))?;
        let want = super::platform::parse(&r.platform).map_err(bad)?;
        let actual = format!(
            "{}/{}{}",
            cfg["os"].as_str().unwrap_or("?"),
            cfg["architecture"].as_str().unwrap_or("?"),
            cfg["variant"]
                .as_str()
                .map(|v| format!("/{v}"))
                .unwrap_or_default()
        );
        if actual != want.to_string() && format!("{}/{}", want.os, want.architecture) != actual {
            return Err(bad(format!(
                "says {} but {} is a {actual} image",
                r.platform, r.digest
            )));
        }
        children.push((from, store, m, want, r.size));
    }
    let dst = ctx.store(to, true)?;
    let mut descs = Vec::new();
    let mut platforms = Vec::new();
    for (from, store, m, platform, size) in &children {
        if from.to_string() != bare(to).to_string() {
            // Another repository: bring the image (and what is attached to it) over.
            Copier::new(store, &dst)
                .run(&at_digest(from, &m.digest), &bare(to), None)
                .await?;
        }
        platforms.push(PlatformResult {
            platform: platform.to_string(),
            digest: m.digest.to_string(),
            size: *size,
        });
        descs.push(Descriptor {
            platform: Some(platform.clone()),
            ..m.descriptor()
        });
    }
    let root = Fetched::new(index(&descs, &BTreeMap::new()), OCI_INDEX);
    dst.put_manifest(&root, None).await?;
    dst.set_tag(&root, to.tag()).await?;
    for tag in tags {
        dst.set_tag(&root, Some(tag)).await?;
    }
    Ok(Outcome {
        image: String::new(),
        destination: to.to_string(),
        digest: root.digest.to_string(),
        media_type: OCI_INDEX.into(),
        platforms,
        tags: tags.to_vec(),
        shared_layers: 0,
        local_layers: Vec::new(),
    })
}
