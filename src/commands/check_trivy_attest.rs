//! `cicd check trivy … --attest REF --key K` (issue 14 item 5): after the gate, its result is
//! attached to the image as a signed cosign vuln attestation — the Trivy reports, their scan
//! times and the verdict — whatever the verdict, logged in Rekor (`--trust-config`'s) unless
//! `--tlog-upload=false`; the exit code stays the gate's.

use std::path::Path;

use p256::ecdsa::SigningKey;

use crate::cli::TrivyArgs;
use crate::cli::sign::SignatureFormat;
use crate::error::Error;
use crate::report::Gate;
use crate::sign::attest::{self, Request};
use crate::sign::attest_vuln::{self, Scan};
use crate::sign::keyless::rekor::Log;
use crate::sign::keyless::sign::SignError;
use crate::sign::signer::Format;

/// The most bytes of a report re-read for the predicate (the gate has read it already).
const MAX_REPORT: u64 = 256 << 20;

/// Checks `--attest`'s flags and loads the key before the gate runs, so a bad key or a
/// trust config without a Rekor stops the command before anything is reported.
pub fn prepare(args: &TrivyArgs) -> Result<Option<Prepared>, Error> {
    let (Some(_), Some(key)) = (&args.attest, &args.key) else {
        return Ok(None);
    };
    let trust = args.trust.trust_config.as_deref();
    let log = super::attest::logged(args.tlog_upload, SignatureFormat::Bundle, trust)?;
    Ok(Some(Prepared {
        key: super::sign::signing_key(key)?,
        log,
    }))
}

/// The key, and the Rekor (`--trust-config`'s) unless `--tlog-upload=false`.
pub struct Prepared {
    pub key: SigningKey,
    pub log: Option<Log>,
}

/// Attaches the gate's result to `--attest`'s image; prints where on stderr.
pub fn attach(
    args: &TrivyArgs,
    prepared: &Prepared,
    gate: &Gate,
    offline: bool,
) -> Result<(), Error> {
    let Some(reference) = &args.attest else {
        return Ok(());
    };
    let mut reports = Vec::new();
    for path in &args.reports {
        reports.push(read_report(path)?);
    }
    let now = super::sign::created()?;
    let gate = serde_json::to_value(gate).map_err(|e| Error::Runtime(e.to_string()))?;
    let parameters = std::env::args().skip(1).collect();
    let predicate = attest_vuln::predicate(&Scan {
        reports: &reports,
        gate,
        now: &now,
        parameters,
        builder: attest_vuln::CHECK_TRIVY,
    });
    let (loc, rt) = super::sign::target(reference, offline)?;
    let req = Request {
        key: &prepared.key,
        format: Format::Bundle,
        created: now,
    };
    let (digest, stored) = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry)?;
            let store = ctx.store(&loc, false)?;
            let image = super::sign::resolve(&store, &loc).await?;
            let subject = crate::sign::store::Subject::of(&image);
            let s = match &prepared.log {
                Some(log) => {
                    attest::attest_logged(&store, &subject, attest::VULN, &predicate, &req, log)
                        .await?
                }
                None => attest::attest(&store, &subject, attest::VULN, &predicate, &req).await?,
            };
            Ok::<_, SignError>((subject.digest, s))
        })
        .map_err(super::keyless::sign_error)?;
    eprintln!(
        "{} vuln attestation {} to {digest}",
        if stored.written {
            "attached"
        } else {
            "already attached"
        },
        stored.manifest
    );
    Ok(())
}

/// One Trivy report as JSON, size-capped (shared with `cicd release`'s gate attestation).
pub fn read_report(path: &Path) -> Result<serde_json::Value, Error> {
    let bad = |reason: String| Error::BadInput {
        path: path.to_path_buf(),
        reason,
    };
    // Bounded as it is read: a size from metadata says 0 for `/dev/zero` or a pipe.
    let bytes = crate::fs::read_bounded(path, MAX_REPORT).map_err(|e| bad(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))
}
