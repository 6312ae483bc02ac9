//! `cicd verify`: checks the signatures of one or many images with a cosign public key or an
//! identity policy (keyless) and prints what holds; exit 1 with every signature's reason when none does. Many references
//! are verified concurrently through one registry context (connections and tokens shared).

use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;

use crate::cli::keyless::IdentityArgs;
use crate::cli::sign::VerifyArgs;
use crate::error::{Error, Exit};
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::store::{Context, Store};
use crate::oci::transport::Location;
use crate::report::escape::{self, plain};
use crate::sign::identity;
use crate::sign::keyless::verify::{self as keyless_verify, KeylessPolicy};
use crate::sign::keyless::{KeylessError, trust};
use crate::sign::keys;
use crate::sign::store::Subject;
use crate::sign::verify::{self, Policy, Verdict, Verifier};

/// How many images are verified at once.
const CONCURRENCY: usize = 16;

pub fn run(args: &VerifyArgs, offline: bool) -> Result<Exit, Error> {
    let policy = policy(
        args.key.as_deref(),
        &args.identity,
        args.insecure_ignore_tlog,
    )?;
    let mut locations = Vec::new();
    for reference in &args.references {
        let loc = Location::parse(reference)?;
        if offline && !loc.is_layout() {
            return Err(Error::NeedsNetwork("sign/verify of a registry image"));
        }
        locations.push(loc);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))?;
    let ctx = Arc::new(super::registry::context(&args.registry).map_err(Error::Image)?);
    // Each image is its own task, so both worker threads check signatures while others wait
    // on the registry; at most CONCURRENCY at once, results in the order given.
    let results: Vec<Result<Verdict, OciError>> = rt.block_on(
        futures_util::stream::iter(locations.into_iter().map(|loc| {
            let (ctx, policy) = (ctx.clone(), policy.clone());
            tokio::spawn(async move { one(&ctx, &loc, policy.as_ref()).await })
        }))
        .buffered(CONCURRENCY)
        .map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(OciError::Manifest(format!("verification task failed: {e}")))
            })
        })
        .collect(),
    );
    let mut worst = Ok(Exit::Ok);
    let mut json = Vec::new();
    let mut out = String::new();
    for (reference, result) in args.references.iter().zip(results) {
        let verdict = match result {
            Ok(v) => v,
            Err(e) => {
                let e = Error::Image(e);
                if args.references.len() > 1 {
                    eprintln!("error: {reference}: {e}");
                }
                if worst.as_ref().is_ok() {
                    worst = Err(e);
                }
                continue;
            }
        };
        if args.json {
            json.push(serde_json::to_value(&verdict).map_err(|e| Error::Usage(e.to_string()))?);
        } else if verdict.verified {
            out.push_str(&render(
                &verdict,
                args.key.is_some(),
                args.insecure_ignore_tlog,
            ));
        }
        if !verdict.verified {
            eprintln!(
                "error: verification failed for {}: {}",
                verdict.digest,
                plain(&verdict.reason())
            );
            if matches!(worst, Ok(Exit::Ok)) {
                worst = Ok(Exit::Violation);
            }
        } else if args.references.len() == 1 {
            super::sign::set_digest_output(verdict.digest.as_str())?;
        }
    }
    // An image that could not be checked leaves stdout empty: a JSON array or lines missing
    // it would read as every image verified.
    let worst = worst?;
    if args.json {
        let v = match <[_; 1]>::try_from(json) {
            Ok([one]) if args.references.len() == 1 => one,
            Ok([one]) => serde_json::Value::Array(vec![one]),
            Err(many) => serde_json::Value::Array(many),
        };
        out = String::from_utf8_lossy(&escape::json(format!("{v:#}\n").into_bytes())).into_owned();
    }
    super::deliver(None, out.as_bytes())?;
    Ok(worst)
}

async fn one(ctx: &Context, loc: &Location, policy: &dyn Verifier) -> Result<Verdict, OciError> {
    let store = ctx.store(loc, false)?;
    verify::verify(&store, &subject(&store, loc).await?, policy).await
}

/// The image a reference names. A registry `@sha256:` reference is taken as it is, without
/// fetching its manifest, as cosign v3 does: signatures are found by the digest alone (the
/// referrers list and the `sha256-<hex>` tags) and every one is checked against it, so the
/// manifest's bytes would change nothing; an image that is not there has no signature. A tag
/// is resolved, and a layout (local files) read as before.
pub async fn subject(store: &Store, loc: &Location) -> Result<Subject, OciError> {
    if let (Store::Registry { .. }, Some(digest)) = (store, loc.digest()) {
        return Ok(Subject {
            digest: Digest::parse(digest)?,
            media_type: String::new(),
            size: 0,
        });
    }
    let image = super::sign::resolve(store, loc).await?;
    Ok(Subject::of(&image))
}

fn render(verdict: &Verdict, key: bool, ignore_tlog: bool) -> String {
    let log = if ignore_tlog {
        "no transparency-log entry checked"
    } else {
        "transparency-log entry checked"
    };
    let mut s = format!("verified {}\n", verdict.digest);
    for c in verdict.signatures.iter().filter(|c| c.verified) {
        if key {
            s.push_str(&format!("  {} {} ({log})\n", c.format, c.location));
        } else {
            s.push_str(&format!(
                "  {} {}\n    identity {}\n    issuer {}\n    log index {}, integrated {}\n",
                c.format,
                c.location,
                plain(c.identity.as_deref().unwrap_or("?")),
                plain(c.issuer.as_deref().unwrap_or("?")),
                c.log_index.map_or("?".into(), |i| i.to_string()),
                c.integrated_time.as_deref().unwrap_or("?"),
            ));
        }
    }
    s
}

/// The policy the flags name: a cosign public key (its Rekor entry checked against the trust
/// config unless `ignore_tlog`), else an identity policy over the trust config's root. Shared
/// by `cicd verify` and `cicd verify-attestation`.
pub fn policy(
    key: Option<&Path>,
    identity: &IdentityArgs,
    ignore_tlog: bool,
) -> Result<Arc<dyn Verifier>, Error> {
    let trust_path = identity.trust.trust_config.as_deref();
    if let Some(key) = key {
        return Ok(Arc::new(key_policy_logged(key, ignore_tlog, trust_path)?));
    }
    let wanted = identity::Policy::from_flags(&identity.flags()).map_err(Error::Usage)?;
    let policy = KeylessPolicy::load(trust_path, wanted)?;
    if ignore_tlog {
        return Err(Error::Keyless(KeylessError::Usage(
            "--insecure-ignore-tlog applies to key-based signatures only: a keyless certificate is checked at the log's (or TSA's) time".into(),
        )));
    }
    Ok(Arc::new(policy))
}

/// The key-based policy with its Rekor check: the trust config at `trust_config` (else
/// public-good's root) verifies log entries, unless `ignore_tlog`.
pub fn key_policy_logged(
    path: &Path,
    ignore_tlog: bool,
    trust_config: Option<&Path>,
) -> Result<Policy, Error> {
    let mut policy = key_policy(path, ignore_tlog)?;
    if !ignore_tlog {
        let trust = trust::load(trust_config)?;
        policy.log = Some(Arc::new(keyless_verify::verifier(&trust)?));
    }
    Ok(policy)
}

/// The key-based policy: the cosign public key at `path`.
pub fn key_policy(path: &Path, ignore_tlog: bool) -> Result<Policy, Error> {
    let pem = keys::read_pem(path).map_err(|e| Error::BadInput {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let key = keys::public_key(&pem).map_err(|e| super::keygen::key_error(path, e))?;
    Ok(Policy {
        key,
        ignore_tlog,
        log: None,
    })
}
