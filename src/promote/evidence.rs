//! The evidence an environment demands, turned from `require:` (and the flags) into checks
//! run against one digest in one store: the signature through `sign::verify`'s policy, an
//! SBOM attestation per platform and a recent passing scan through the attestation verifier.
//! Every check keeps its own reason; a requirement this build cannot check fails closed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use p256::ecdsa::VerifyingKey;
use serde::Serialize;

use crate::config::environments::{Environment, SignaturePolicy, parse_age};
use crate::oci::error::OciError;
use crate::oci::store::{Fetched, Store};
use crate::sign::store::Subject;
use crate::sign::verify::{self, Policy};
use crate::sign::{identity, keys};

use super::PromoteError;
use super::scan::ScanGate;
use super::trust::Verifiers;

/// A signature policy ready to check.
#[derive(Clone, Debug)]
pub enum Signature {
    Key {
        path: PathBuf,
        key: VerifyingKey,
        ignore_tlog: bool,
    },
    /// A keyless signature whose certificate meets an identity policy (`github-workflow:`, or
    /// `identity:` + `issuer:`), checked against `CICD_TRUST_CONFIG` or the embedded root.
    Identity {
        describe: String,
        policy: identity::Policy,
    },
    /// Parsed, but not checkable by this build: refused before anything is done.
    Unsupported(String),
}

/// What one environment requires, ready to check.
#[derive(Clone, Debug, Default)]
pub struct Requirements {
    pub signature: Option<Signature>,
    pub sbom: bool,
    /// Seconds.
    pub scan_max_age: Option<i64>,
    /// The gate a scan's report must pass (`policy.trivy`, as `cicd check trivy` applies it).
    pub scan_gate: ScanGate,
    /// The run's trust root and verifiers, shared by every environment's checks.
    pub verifiers: Arc<Verifiers>,
}

/// One piece of evidence and whether it holds.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Check {
    /// `signature`, `sbom linux/amd64`, `scan`.
    pub evidence: String,
    pub verified: bool,
    /// What holds (key, location), or why not.
    pub detail: String,
}

impl Requirements {
    /// From `require:`; key paths are relative to `base` (the config file's directory).
    /// `ignore_tlog` is the command line's `--insecure-ignore-tlog`; `verifiers` are the
    /// run's (one per run, whatever the number of environments).
    pub fn from_config(
        env: &Environment,
        base: &Path,
        ignore_tlog: bool,
        verifiers: &Arc<Verifiers>,
    ) -> Result<Self, PromoteError> {
        let signature = match &env.require.signature {
            None => None,
            Some(req) => {
                let ignore_tlog = ignore_tlog || req.insecure_ignore_tlog;
                Some(match req.policy().map_err(PromoteError::Input)? {
                    SignaturePolicy::Key(rel) => {
                        let path = base.join(&rel);
                        let pem = keys::read_pem(&path)
                            .map_err(|e| PromoteError::Input(format!("{}: {e}", path.display())))?;
                        let key = keys::public_key(&pem)
                            .map_err(|e| PromoteError::Input(format!("{}: {e}", path.display())))?;
                        Signature::Key {
                            path,
                            key,
                            ignore_tlog,
                        }
                    }
                    SignaturePolicy::GithubWorkflow(w) => identity_signature(
                        identity::Flags {
                            github_workflow: Some(&w),
                            ..identity::Flags::default()
                        },
                        format!("github-workflow {w}"),
                    )?,
                    SignaturePolicy::Identity { identity, issuer } => identity_signature(
                        identity::Flags {
                            identity: Some(&identity),
                            issuer: Some(&issuer),
                            ..identity::Flags::default()
                        },
                        format!("identity {identity} (issuer {issuer})"),
                    )?,
                })
            }
        };
        let scan_max_age = match &env.require.scan {
            None => None,
            Some(s) => Some(parse_age(&s.max_age).map_err(PromoteError::Input)?),
        };
        Ok(Self {
            signature,
            sbom: env.require.sbom,
            scan_max_age,
            scan_gate: ScanGate::default(),
            verifiers: Arc::clone(verifiers),
        })
    }

    /// The requirements this build cannot check, each said plainly (promotion refuses to run
    /// with any: exit 2, never a pass).
    pub fn unsupported(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(Signature::Unsupported(m)) = &self.signature {
            out.push(m.clone());
        }
        out.extend(super::attestations::unsupported(self));
        out
    }

    pub fn is_empty(&self) -> bool {
        self.signature.is_none() && !self.sbom && self.scan_max_age.is_none()
    }
}

/// Runs every check of `req` on `image` in `store`: the signature and the attestations are
/// looked up at once (independent reads), their checks listed signature first.
pub async fn check(
    store: &Store,
    image: &Fetched,
    req: &Requirements,
    now: i64,
) -> Result<Vec<Check>, OciError> {
    let (signature, attestations) = tokio::try_join!(
        signature(store, image, req),
        super::attestations::check(store, image, req, now),
    )?;
    Ok(signature.into_iter().chain(attestations).collect())
}

async fn signature(
    store: &Store,
    image: &Fetched,
    req: &Requirements,
) -> Result<Option<Check>, OciError> {
    Ok(Some(match &req.signature {
        None => return Ok(None),
        Some(Signature::Unsupported(m)) => Check {
            evidence: "signature".into(),
            verified: false,
            detail: m.clone(),
        },
        Some(Signature::Identity { describe, policy }) => {
            check_identity(store, image, describe, policy, &req.verifiers).await?
        }
        Some(Signature::Key {
            path,
            key,
            ignore_tlog,
        }) => {
            let policy = Policy {
                key: *key,
                ignore_tlog: *ignore_tlog,
                log: req.verifiers.log(*ignore_tlog),
            };
            let verdict = verify::verify(store, &Subject::of(image), &policy).await?;
            let detail = if verdict.verified {
                let holding: Vec<String> = verdict
                    .signatures
                    .iter()
                    .filter(|c| c.verified)
                    .map(|c| format!("{} {}", c.format, c.location))
                    .collect();
                format!("key {} ({})", path.display(), holding.join(", "))
            } else {
                format!("key {}: {}", path.display(), verdict.reason())
            };
            Check {
                evidence: "signature".into(),
                verified: verdict.verified,
                detail,
            }
        }
    }))
}

/// The reasons of the checks that fail.
pub fn failures(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.verified)
        .map(|c| format!("{}: {}", c.evidence, c.detail))
        .collect()
}

/// A keyless requirement from its flags; a malformed one is bad input (exit 2).
fn identity_signature(
    flags: identity::Flags<'_>,
    describe: String,
) -> Result<Signature, PromoteError> {
    let policy = identity::Policy::from_flags(&flags)
        .map_err(|e| PromoteError::Input(format!("require.signature: {e}")))?;
    Ok(Signature::Identity { describe, policy })
}

/// Checks the image's keyless signatures against the run's trust root (`CICD_TRUST_CONFIG`,
/// else the embedded public-good root, loaded once) and the identity policy. A trust root
/// that cannot be loaded is a failed check, never a pass.
async fn check_identity(
    store: &Store,
    image: &Fetched,
    describe: &str,
    policy: &identity::Policy,
    verifiers: &Verifiers,
) -> Result<Check, OciError> {
    use crate::sign::keyless::verify::KeylessPolicy;
    let keyless = match verifiers.root() {
        Ok(log) => KeylessPolicy {
            log,
            identity: policy.clone(),
        },
        Err(e) => {
            return Ok(Check {
                evidence: "signature".into(),
                verified: false,
                detail: format!("{describe}: {e}"),
            });
        }
    };
    let verdict = verify::verify(store, &Subject::of(image), &keyless).await?;
    let detail = if verdict.verified {
        let holding: Vec<String> = verdict
            .signatures
            .iter()
            .filter(|c| c.verified)
            .map(|c| format!("{} {}", c.format, c.location))
            .collect();
        format!("{describe} ({})", holding.join(", "))
    } else {
        format!("{describe}: {}", verdict.reason())
    };
    Ok(Check {
        evidence: "signature".into(),
        verified: verdict.verified,
        detail,
    })
}
