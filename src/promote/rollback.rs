//! `cicd promote --rollback ENV`: picks an earlier entry of the environment's history (the
//! one before the current, `--steps N` back, or `--to DIGEST`), re-verifies its evidence
//! unless forced, moves the environment tag back and records the rollback (what it rolled
//! back from, and `forced`) as a new history entry.

use crate::oci::digest::Digest;
use crate::oci::store::Context;
use crate::oci::transport::Location;

use super::evidence::{self, Requirements};
use super::history::{self, Entry, Facts};
use super::{Outcome, PromoteError, Stamp};

/// Where to roll back to.
#[derive(Clone, Debug)]
pub enum Target {
    Steps(u32),
    Digest(Digest),
}

pub struct Request {
    pub environment: String,
    pub repository: Location,
    pub tag: String,
    pub requirements: Requirements,
    pub target: Target,
    pub force: bool,
    pub dry_run: bool,
    pub stamp: Stamp,
}

pub async fn rollback(ctx: &Context, req: &Request) -> Result<Outcome, PromoteError> {
    let store = ctx.store(&req.repository, false)?;
    let entries = history::read(&store, &req.environment).await?;
    let current = super::flow::current(&store, &req.tag).await?;
    let mut out = Outcome {
        environment: req.environment.clone(),
        kind: "rollback",
        source: req.repository.to_string(),
        destination: req.repository.to_string(),
        tag: req.tag.clone(),
        previous_digest: current.clone(),
        dry_run: req.dry_run,
        forced: req.force,
        ..Outcome::default()
    };
    let current_entry = current.as_deref().and_then(|c| {
        entries
            .iter()
            .rposition(|e| e.problem.is_none() && e.digest == c)
    });
    let target = match pick(&entries, current_entry, current.as_deref(), &req.target) {
        Ok(t) => t,
        Err(reason) => {
            out.refused.push(reason);
            return Ok(out);
        }
    };
    out.digest = target.digest.clone();
    out.version = target.facts.version.clone();
    out.rolled_back_from = current_entry.map(|i| entries[i].tag.clone());
    let image = store.manifest(&target.digest).await?.ok_or_else(|| {
        crate::oci::error::OciError::NotFound {
            what: format!("manifest {}", target.digest),
            place: store.describe(),
        }
    })?;
    if !req.force {
        out.evidence = evidence::check(&store, &image, &req.requirements, req.stamp.now).await?;
        out.refused = evidence::failures(&out.evidence);
        if !out.refused.is_empty() || req.dry_run {
            return Ok(out);
        }
    } else if req.dry_run {
        return Ok(out);
    }
    let facts = Facts {
        environment: req.environment.clone(),
        digest: target.digest.clone(),
        version: target.facts.version.clone(),
        time: crate::time::rfc3339(req.stamp.now),
        actor: req.stamp.actor.clone(),
        kind: "rollback".into(),
        rolled_back_from: out.rolled_back_from.clone(),
        forced: req.force,
        previous_digest: current,
        run: req.stamp.run.clone(),
    };
    // The environment tag moves inside `append`, once a history slot is held.
    out.history_tag = Some(history::append(&store, &image, &facts, req.stamp.now, &req.tag).await?);
    Ok(out)
}

/// The entry to go back to, or why there is none.
fn pick<'e>(
    entries: &'e [Entry],
    current_entry: Option<usize>,
    current: Option<&str>,
    target: &Target,
) -> Result<&'e Entry, String> {
    let sound = |e: &&Entry| e.problem.is_none();
    match target {
        Target::Digest(d) => {
            if current == Some(d.as_str()) {
                return Err(format!(
                    "{d} is already the current image; nothing to roll back"
                ));
            }
            entries
                .iter()
                .rev()
                .filter(sound)
                .find(|e| e.digest == d.as_str())
                .ok_or_else(|| format!("{d} is not in this environment's history; only digests promoted here can be rolled back to"))
        }
        Target::Steps(n) => {
            let end = current_entry.unwrap_or(entries.len());
            let mut seen: Vec<&str> = current.into_iter().collect();
            let mut left = *n;
            for e in entries[..end].iter().rev().filter(sound) {
                if e.rolled_back || seen.contains(&e.digest.as_str()) {
                    continue;
                }
                seen.push(&e.digest);
                left -= 1;
                if left == 0 {
                    return Ok(e);
                }
            }
            Err(format!(
                "the history has no entry {n} step(s) before the current one (see `cicd promote history`)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str, digest: &str, kind: &str, from: Option<&str>) -> Entry {
        Entry {
            tag: tag.into(),
            digest: digest.into(),
            facts: Facts {
                kind: kind.into(),
                rolled_back_from: from.map(Into::into),
                ..Facts::default()
            },
            rolled_back: false,
            problem: None,
        }
    }

    #[test]
    fn steps_skip_rolled_back_and_repeated_digests() {
        let mut h = vec![
            entry("e1", "d1", "promote", None),
            entry("e2", "d2", "promote", None),
            entry("e3", "d3", "promote", None),
        ];
        let t = pick(&h, Some(2), Some("d3"), &Target::Steps(1)).expect("one back");
        assert_eq!(t.tag, "e2");
        let t = pick(&h, Some(2), Some("d3"), &Target::Steps(2)).expect("two back");
        assert_eq!(t.tag, "e1");
        assert!(pick(&h, Some(2), Some("d3"), &Target::Steps(3)).is_err());
        // After rolling back to d2, one step further back is d1 (d3 was rolled back).
        h[2].rolled_back = true;
        h.push(entry("e4", "d2", "rollback", Some("e3")));
        let t = pick(&h, Some(3), Some("d2"), &Target::Steps(1)).expect("back again");
        assert_eq!(t.tag, "e1");
        let d3 = Digest::parse(&format!("sha256:{}", "3".repeat(64))).expect("digest");
        assert!(pick(&h, Some(3), Some("d2"), &Target::Digest(d3)).is_err());
    }
}
