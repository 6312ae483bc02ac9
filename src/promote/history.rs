//! An environment's history, kept in its own repository so it travels with the images and
//! needs no database:
//! - `ENV-<yyyymmddThhmmssZ>` (then `-2`, `-3`… for more promotions in the same second) is
//!   tagged to the promoted image itself, so any registry client sees what was deployed when;
//! - `ENV-<stamp>.promotion` is a small OCI artifact (the facts as annotations, the empty
//!   descriptor as config and layer, `subject` = the image) recording version, actor, kind
//!   (promote or rollback), what a rollback rolled back from and whether `--force` skipped
//!   verification. Records written before kept the facts in a JSON layer too; `read` never
//!   used it.
//!
//! Tags are never moved or deleted by cicd, so the record is append-only. Registries have no
//! compare-and-swap on tags: a slot is claimed with a splitter over a scratch `.claim` tag and
//! the record tag (see `claim`); a racer that lost the slot takes the next one.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::manifest::{Kind, OCI_MANIFEST};
use crate::oci::store::{Fetched, Store};

pub const ARTIFACT_TYPE: &str = "application/vnd.cicd.promotion.v1+json";
const RECORD_SUFFIX: &str = ".promotion";
const PREFIX: &str = "dev.cicd.promotion.";
/// Same-second promotions tried before giving up.
const SLOTS_MAX: u32 = 50;

/// What a history entry records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub environment: String,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// RFC 3339 UTC.
    pub time: String,
    pub actor: String,
    /// `promote` or `rollback`.
    pub kind: String,
    /// The history tag that was current when a rollback replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
    /// A rollback made with `--force` (evidence not re-verified).
    pub forced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_digest: Option<String>,
    /// Unique per run, so two identical promotions in one second are two records.
    pub run: String,
}

impl Facts {
    fn annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            a.insert(format!("{PREFIX}{k}"), v.to_owned());
        };
        put("environment", &self.environment);
        put("digest", &self.digest);
        put("time", &self.time);
        put("actor", &self.actor);
        put("kind", &self.kind);
        put("forced", if self.forced { "true" } else { "false" });
        put("run", &self.run);
        if let Some(v) = &self.version {
            put("version", v);
        }
        if let Some(v) = &self.rolled_back_from {
            put("rolled-back-from", v);
        }
        if let Some(v) = &self.previous_digest {
            put("previous-digest", v);
        }
        a.insert("org.opencontainers.image.created".into(), self.time.clone());
        a
    }

    fn from_annotations(a: &BTreeMap<String, String>) -> Self {
        let get = |k: &str| a.get(&format!("{PREFIX}{k}")).cloned();
        Self {
            environment: get("environment").unwrap_or_default(),
            digest: get("digest").unwrap_or_default(),
            version: get("version"),
            time: get("time").unwrap_or_default(),
            actor: get("actor").unwrap_or_default(),
            kind: get("kind").unwrap_or_default(),
            rolled_back_from: get("rolled-back-from"),
            forced: get("forced").is_some_and(|v| v == "true"),
            previous_digest: get("previous-digest"),
            run: get("run").unwrap_or_default(),
        }
    }
}

/// One entry as read back.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub tag: String,
    /// What the history tag points at (the promoted image).
    pub digest: String,
    #[serde(flatten)]
    pub facts: Facts,
    /// A later rollback replaced this entry.
    pub rolled_back: bool,
    /// Why the record cannot be trusted (missing, or naming another digest); absent when sound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// `ENV-<stamp>` or `ENV-<stamp>-N` → (stamp, N), for ordering; `None` for other tags.
pub fn parse_tag(env: &str, tag: &str) -> Option<(String, u32)> {
    let rest = tag.strip_prefix(env)?.strip_prefix('-')?;
    let (stamp, n) = match rest.split_once('-') {
        Some((s, n))
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0') =>
        {
            (s, n.parse().ok()?)
        }
        Some(_) => return None,
        None => (rest, 1),
    };
    let b = stamp.as_bytes();
    let shape = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    shape.then(|| (stamp.to_owned(), n))
}

/// `yyyymmddThhmmssZ` of a Unix time.
pub fn stamp(t: i64) -> String {
    let ts = jiff::Timestamp::from_second(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn tag_name(env: &str, stamp: &str, n: u32) -> String {
    if n <= 1 {
        format!("{env}-{stamp}")
    } else {
        format!("{env}-{stamp}-{n}")
    }
}

/// The history tags of `env` among `tags`, oldest first.
pub fn history_tags(env: &str, tags: &[String]) -> Vec<String> {
    let mut found: Vec<((String, u32), String)> = tags
        .iter()
        .filter_map(|t| parse_tag(env, t).map(|k| (k, t.clone())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, t)| t).collect()
}

/// History entries read at once.
const READ_CONCURRENCY: usize = 8;

/// Reads every entry of `env`'s history in `store`, oldest first, rollbacks marked. Entries
/// (each a tag and its record) are read concurrently, a few at a time.
pub async fn read(store: &Store, env: &str) -> Result<Vec<Entry>, OciError> {
    use futures_util::StreamExt;
    let tags = super::tags::list(store).await?;
    let read: Vec<Option<Entry>> = futures_util::stream::iter(
        history_tags(env, &tags)
            .into_iter()
            .map(|tag| entry(store, env, tag)),
    )
    .buffered(READ_CONCURRENCY)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect::<Result<_, _>>()?;
    let mut entries: Vec<Entry> = read.into_iter().flatten().collect();
    mark_rollbacks(&mut entries);
    Ok(entries)
}

/// One entry: the history tag and its record, read at once (`None`: deleted meanwhile).
async fn entry(store: &Store, env: &str, tag: String) -> Result<Option<Entry>, OciError> {
    let record_tag = format!("{tag}{RECORD_SUFFIX}");
    let (image, record) = tokio::try_join!(store.manifest(&tag), store.manifest(&record_tag))?;
    let Some(image) = image else {
        return Ok(None); // Deleted between listing and reading.
    };
    let (facts, problem) = match record.as_ref().map(|r| (r, r.parse())) {
        None => (Facts::default(), Some("no promotion record".to_owned())),
        Some((_, Err(e))) => (Facts::default(), Some(format!("unreadable record: {e}"))),
        Some((_, Ok(m))) => {
            let facts = Facts::from_annotations(&m.annotations);
            let subject = m.subject.map(|s| s.digest.to_string());
            let problem = if facts.digest != image.digest.as_str()
                || subject.as_deref() != Some(image.digest.as_str())
            {
                Some(format!(
                    "the record names {}, but the tag points at {}",
                    facts.digest, image.digest
                ))
            } else if facts.environment != env {
                Some(format!(
                    "the record is for environment `{}`",
                    facts.environment
                ))
            } else {
                None
            };
            (facts, problem)
        }
    };
    Ok(Some(Entry {
        tag,
        digest: image.digest.to_string(),
        facts,
        rolled_back: false,
        problem,
    }))
}

fn mark_rollbacks(entries: &mut [Entry]) {
    let from: Vec<String> = entries
        .iter()
        .filter(|e| e.problem.is_none() && e.facts.kind == "rollback")
        .filter_map(|e| e.facts.rolled_back_from.clone())
        .collect();
    for e in entries.iter_mut() {
        e.rolled_back = from.contains(&e.tag);
    }
}

/// Moves the environment tag `env_tag` to `image` and appends the entry for it at `now`:
/// [`hold`] a slot, then [`enter`] it. Returns the history tag.
pub async fn append(
    store: &Store,
    image: &Fetched,
    facts: &Facts,
    now: i64,
    env_tag: &str,
) -> Result<String, OciError> {
    let slot = hold(store, image, facts, now, &Prepared::default()).await?;
    enter(store, image, env_tag, &slot).await?;
    Ok(slot)
}

/// What [`prepare`] read ahead for [`hold`] (`None`: not read, `hold` asks itself).
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// Whether the record's empty blob is in the repository.
    empty_blob: Option<bool>,
    /// Whether the first slot's door (its record tag) is already closed.
    first_door: Option<bool>,
}

/// The reads [`hold`] starts with — the record's empty blob and the first slot's door of
/// second `now` — made ahead, while the evidence is checked: reads only, so a promotion that
/// is then refused wrote nothing. What they saw can only grow stale in the safe direction
/// (a door closes, never reopens; the splitter reads the door again after naming itself).
pub async fn prepare(store: &Store, env: &str, now: i64) -> Result<Prepared, OciError> {
    let first = format!("{}{RECORD_SUFFIX}", tag_name(env, &stamp(now), 1));
    let empty = crate::oci::referrers::empty_descriptor();
    let (empty_blob, first_door) =
        tokio::try_join!(store.has_blob(&empty), store.manifest(&first))?;
    Ok(Prepared {
        empty_blob: Some(empty_blob),
        first_door: Some(first_door.is_some()),
    })
}

/// Claims the first free history slot of second `now` for `image` (record tag written only
/// when absent, then read back) and returns its history tag, not yet tagged: a slot without
/// its history tag is skipped by readers, so a held slot that is never entered records
/// nothing. Slots are probed from the first: `claim` reads the record tag anyway, so listing
/// the repository's tags first would only add a request to the usual, uncontended case.
/// `prepared`: what was read ahead ([`prepare`]); the rest is read here, at once.
pub async fn hold(
    store: &Store,
    image: &Fetched,
    facts: &Facts,
    now: i64,
    prepared: &Prepared,
) -> Result<String, OciError> {
    let stamp = stamp(now);
    let first = format!("{}{RECORD_SUFFIX}", tag_name(&facts.environment, &stamp, 1));
    let (record, first_door) = tokio::try_join!(
        record_manifest(store, image, facts, prepared.empty_blob),
        async {
            match prepared.first_door {
                Some(closed) => Ok(closed),
                None => Ok(store.manifest(&first).await?.is_some()),
            }
        },
    )?;
    let mut door = Some(first_door);
    for n in 1..=SLOTS_MAX {
        let tag = tag_name(&facts.environment, &stamp, n);
        let record_tag = format!("{tag}{RECORD_SUFFIX}");
        if claim(store, &record, &tag, &record_tag, door.take()).await? {
            return Ok(tag);
        }
    }
    Err(OciError::Unsupported(format!(
        "{}: no free history slot for {} in second {stamp} after {SLOTS_MAX} tries",
        store.describe(),
        facts.environment
    )))
}

/// Enters a slot [`hold`] returned: moves the environment tag, then tags the image with the
/// slot's history tag (which makes the entry). In that order, so a history entry exists only
/// for an environment tag that moved: a failure between the two leaves a promotion
/// unrecorded (`after:` then refuses the digest: fail closed), never a recorded promotion
/// that did not happen. Both `PUT`s at once would save one round trip, but when the
/// environment's failed and marking the landed history tag unsound failed too, the history
/// would vouch for a promotion that never took place.
pub async fn enter(
    store: &Store,
    image: &Fetched,
    env_tag: &str,
    slot: &str,
) -> Result<(), OciError> {
    store.set_tag(image, Some(env_tag)).await?;
    store.set_tag(image, Some(slot)).await
}

/// Suffix of the scratch tag that names who is claiming a slot (see `claim`).
const CLAIM_SUFFIX: &str = ".claim";

/// Claims one slot with a splitter (no registry has compare-and-swap on tags): the scratch
/// tag `<tag>.claim` names the claimant, the record tag `<tag>.promotion` is the door. A racer
/// names itself, closes the door with its record unless it is closed already, and keeps the
/// slot only if the name is still its own; only then may it tag the image (`append`). At most
/// one racer keeps a slot. A racer that closed the door and lost puts back the record the
/// name holds (the keeper's), so a late write never leaves another racer's record behind.
/// Under contention nobody may keep a slot (it stays without a history tag, which readers
/// skip) and every racer moves on. Uncontended: five requests, no waiting (a `PUT` by tag
/// stores the manifest too, so none is also put by digest). `closed`: whether the door was
/// already seen closed by a read made just before (the first look, which only spares a taken
/// slot a scratch write; the splitter's own look after naming itself is always made).
async fn claim(
    store: &Store,
    record: &Fetched,
    tag: &str,
    record_tag: &str,
    closed: Option<bool>,
) -> Result<bool, OciError> {
    let name_tag = format!("{tag}{CLAIM_SUFFIX}");
    let closed = match closed {
        Some(c) => c,
        None => store.manifest(record_tag).await?.is_some(),
    };
    if closed {
        return Ok(false);
    }
    store.set_tag(record, Some(&name_tag)).await?;
    if store.manifest(record_tag).await?.is_some() {
        return Ok(false);
    }
    store.set_tag(record, Some(record_tag)).await?;
    match store.manifest(&name_tag).await? {
        Some(name) if name.digest == record.digest => Ok(true),
        Some(keeper) => {
            store.set_tag(&keeper, Some(record_tag)).await?;
            Ok(false)
        }
        None => Ok(false),
    }
}

/// The record artifact: the facts as annotations, empty config and layer.
async fn record_manifest(
    store: &Store,
    image: &Fetched,
    facts: &Facts,
    empty_present: Option<bool>,
) -> Result<Fetched, OciError> {
    // The facts live in the annotations (what `read` trusts); config and the one layer are
    // the OCI empty descriptor, as image-spec 1.1 advises for annotation-only artifacts, so
    // recording costs one `HEAD` for a blob that is usually there (none when `prepare` saw
    // it), not an upload.
    let empty = crate::oci::referrers::empty_descriptor();
    if empty_present != Some(true) {
        crate::oci::referrers::put_empty(store).await?;
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": empty,
        "layers": [empty],
        "subject": {"mediaType": image.media_type, "digest": image.digest, "size": image.bytes.len()},
        "annotations": facts.annotations(),
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::Manifest(e.to_string()))?;
    let m = Fetched::new(bytes, OCI_MANIFEST);
    // Sanity: what we made parses as an image-shaped artifact.
    if !matches!(m.parse()?.kind, Kind::Image { .. }) {
        return Err(OciError::Manifest(
            "promotion record is not a manifest".into(),
        ));
    }
    Ok(m)
}

/// Whether `digest` was ever promoted to the environment whose history is `entries` (an entry
/// with a sound record).
pub fn contains(entries: &[Entry], digest: &Digest) -> bool {
    entries
        .iter()
        .any(|e| e.problem.is_none() && e.digest == digest.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_tags_order_and_shape() {
        let tags: Vec<String> = [
            "staging-20260131T120000Z-2",
            "staging-20260131T120000Z",
            "staging-20260131T120000Z-10",
            "staging-20260130T235959Z",
            "staging-20260131T120000Z.promotion",
            "staging",
            "staging-2026",
            "staging-20260131T120000Z-0",
            "staging-20260131T120000Z-x",
            "production-20260131T120000Z",
            "staging-qa-20260131T120000Z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            history_tags("staging", &tags),
            [
                "staging-20260130T235959Z",
                "staging-20260131T120000Z",
                "staging-20260131T120000Z-2",
                "staging-20260131T120000Z-10",
            ]
        );
        assert_eq!(stamp(0), "19700101T000000Z");
        assert_eq!(tag_name("e", "19700101T000000Z", 3), "e-19700101T000000Z-3");
    }

    #[test]
    fn facts_round_trip_through_annotations() {
        let f = Facts {
            environment: "staging".into(),
            digest: "sha256:00".into(),
            version: Some("1.2.3".into()),
            time: "2026-01-31T12:00:00Z".into(),
            actor: "octocat".into(),
            kind: "rollback".into(),
            rolled_back_from: Some("staging-20260131T120000Z".into()),
            forced: true,
            previous_digest: Some("sha256:11".into()),
            run: "r".into(),
        };
        assert_eq!(Facts::from_annotations(&f.annotations()), f);
    }
}
