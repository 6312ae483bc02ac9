//! SBOM and vulnerability-scan evidence, verified through `sign::attest_verify` with the
//! environment's signature policy (a key, or a keyless identity policy against the run's trust
//! root): a CycloneDX (or SPDX) SBOM attestation on every platform
//! manifest, and a cosign vuln attestation (on the image, or on every platform) that
//! [`super::scan::judge`] passes (recent enough, its report through `cicd check trivy`'s gate).

use crate::oci::error::OciError;
use crate::oci::manifest::Platform;
use crate::oci::store::{Fetched, Store};
use crate::sign::attest::{CYCLONEDX, SPDX, VULN};
use crate::sign::attest_verify;
use crate::sign::keyless::verify::KeylessPolicy;
use crate::sign::store::{self as sign_store, Subject};
use crate::sign::verify::{Policy, Verifier};

use super::evidence::{Check, Requirements, Signature};
use super::scan::{ScanGate, judge};

/// Requirements that cannot be checked, said plainly (attestations are verified with the
/// signature policy, so they need one this build checks).
pub fn unsupported(req: &Requirements) -> Vec<String> {
    let needs = req.sbom || req.scan_max_age.is_some();
    match &req.signature {
        Some(Signature::Key { .. } | Signature::Identity { .. }) => Vec::new(),
        _ if !needs => Vec::new(),
        _ => vec!["`require.sbom` and `require.scan` verify attestations with the signature policy: set `require.signature` (`key:`, `github-workflow:` or `identity:` + `issuer:`)".to_owned()],
    }
}

/// The verifier attestations must pass: the signature key, or the keyless identity policy
/// over the run's trust root. `Err`: why there is none (every check then fails).
fn verifier(req: &Requirements) -> Result<Box<dyn Verifier>, String> {
    match &req.signature {
        Some(Signature::Key {
            key, ignore_tlog, ..
        }) => Ok(Box::new(Policy {
            key: *key,
            ignore_tlog: *ignore_tlog,
            log: req.verifiers.log(*ignore_tlog),
        })),
        Some(Signature::Identity { describe, policy }) => {
            let log = req
                .verifiers
                .root()
                .map_err(|e| format!("not checked: {describe}: {e}"))?;
            Ok(Box::new(KeylessPolicy {
                log,
                identity: policy.clone(),
            }))
        }
        _ => Err("not checked: needs `require.signature`".to_owned()),
    }
}

/// Checks the SBOM and scan requirements of `image` in `store`.
pub async fn check(
    store: &Store,
    image: &Fetched,
    req: &Requirements,
    now: i64,
) -> Result<Vec<Check>, OciError> {
    let mut checks = Vec::new();
    if !req.sbom && req.scan_max_age.is_none() {
        return Ok(checks);
    }
    let policy = match verifier(req) {
        Ok(v) => v,
        Err(detail) => {
            if req.sbom {
                checks.push(fail("sbom", detail.clone()));
            }
            if req.scan_max_age.is_some() {
                checks.push(fail("scan", detail));
            }
            return Ok(checks);
        }
    };
    let policy = policy.as_ref();
    let platforms = platforms(store, image).await?;
    // Every platform's SBOM and the scan are independent lookups: asked at once, listed in
    // platform order, the scan last.
    let sboms = async {
        if !req.sbom {
            return Ok(Vec::new());
        }
        futures_util::future::try_join_all(
            platforms
                .iter()
                .map(|(subject, platform)| sbom(store, subject, platform.as_ref(), policy)),
        )
        .await
    };
    let scans = async {
        match req.scan_max_age {
            Some(max_age) => scans(store, image, &platforms, policy, max_age, now, req).await,
            None => Ok(Vec::new()),
        }
    };
    let (sboms, scans) = tokio::try_join!(sboms, scans)?;
    checks.extend(sboms);
    checks.extend(scans);
    Ok(checks)
}

/// A passing scan of the whole image, else one per platform.
async fn scans(
    store: &Store,
    image: &Fetched,
    platforms: &[(Subject, Option<Platform>)],
    policy: &dyn Verifier,
    max_age: i64,
    now: i64,
    req: &Requirements,
) -> Result<Vec<Check>, OciError> {
    let (on_root, found) = scan_one(
        store,
        &Subject::of(image),
        policy,
        max_age,
        now,
        &req.scan_gate,
    )
    .await?;
    if found || platforms.len() == 1 {
        return Ok(vec![on_root]);
    }
    // No passing scan of the whole image: every platform needs its own.
    futures_util::future::try_join_all(platforms.iter().map(|(subject, platform)| async move {
        let (mut c, _) = scan_one(store, subject, policy, max_age, now, &req.scan_gate).await?;
        c.evidence = format!("scan {}", name(platform.as_ref()));
        Ok::<_, OciError>(c)
    }))
    .await
}

fn fail(evidence: &str, detail: String) -> Check {
    Check {
        evidence: evidence.into(),
        verified: false,
        detail,
    }
}

fn name(p: Option<&Platform>) -> String {
    p.map_or_else(|| "image".to_owned(), ToString::to_string)
}

/// The platform manifests of an index (attestation manifests `unknown/unknown` left out), or
/// the image itself.
async fn platforms(
    store: &Store,
    image: &Fetched,
) -> Result<Vec<(Subject, Option<Platform>)>, OciError> {
    let all = sign_store::recursive(store, image).await?;
    let children: Vec<(Subject, Option<Platform>)> = all
        .iter()
        .skip(1)
        .filter(|(_, p)| p.as_ref().is_some_and(|p| p.os != "unknown"))
        .cloned()
        .collect();
    Ok(if children.is_empty() {
        vec![(Subject::of(image), None)]
    } else {
        children
    })
}

async fn sbom(
    store: &Store,
    subject: &Subject,
    platform: Option<&Platform>,
    policy: &dyn Verifier,
) -> Result<Check, OciError> {
    let evidence = format!("sbom {}", name(platform));
    let mut reasons = Vec::new();
    for kind in [CYCLONEDX, SPDX] {
        let v = attest_verify::verify_attestations(store, subject, kind, policy).await?;
        if let Some(found) = v.verified.first() {
            return Ok(Check {
                evidence,
                verified: true,
                detail: format!(
                    "{kind} attestation {} on {}",
                    found.location, subject.digest
                ),
            });
        }
        if !v.rejected.is_empty() {
            reasons.push(v.reason());
        }
    }
    let detail = if reasons.is_empty() {
        format!(
            "no SBOM attestation on {} (CycloneDX or SPDX)",
            subject.digest
        )
    } else {
        reasons.join("; ")
    };
    Ok(fail(&evidence, detail))
}

async fn scan_one(
    store: &Store,
    subject: &Subject,
    policy: &dyn Verifier,
    max_age: i64,
    now: i64,
    gate: &ScanGate,
) -> Result<(Check, bool), OciError> {
    let v = attest_verify::verify_attestations(store, subject, VULN, policy).await?;
    let found = !v.verified.is_empty() || !v.rejected.is_empty();
    if v.verified.is_empty() {
        let detail = if v.rejected.is_empty() {
            format!("no vulnerability scan attestation on {}", subject.digest)
        } else {
            v.reason()
        };
        return Ok((fail("scan", detail), found));
    }
    // The newest passing scan wins; otherwise report why the newest one fails.
    let mut judged: Vec<(i64, Result<String, String>)> = v
        .verified
        .iter()
        .map(|a| judge(a, max_age, now, gate))
        .collect();
    judged.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    let pick = judged
        .iter()
        .find(|(_, r)| r.is_ok())
        .or_else(|| judged.first());
    let check = match pick {
        Some((_, Ok(d))) => Check {
            evidence: "scan".into(),
            verified: true,
            detail: d.clone(),
        },
        Some((_, Err(d))) => fail("scan", d.clone()),
        None => fail("scan", "no scan".into()),
    };
    Ok((check, found))
}
