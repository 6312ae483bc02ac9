//! `cicd attest` and `cicd verify-attestation`: a predicate file → a signed attestation of
//! the image digest (and, with `--recursive`, of each platform manifest); the attestations of
//! one predicate type verified with a cosign public key or an identity policy (keyless),
//! their predicates printed. Without `--key`, attesting is keyless (`keyless::attest`).

use std::path::Path;

use crate::cli::sign::{AttestArgs, SignatureFormat, VerifyAttestationArgs};
use crate::error::{Error, Exit};
use crate::report::escape::{self, plain};
use crate::sign::attest::{self, Request};
use crate::sign::attest_verify::{self, Verdict};
use crate::sign::keyless::rekor::Log;
use crate::sign::keyless::sign::SignError;
use crate::sign::statement::SIGN_PREDICATE;
use crate::sign::store::Subject;

/// The most bytes of a predicate file read (an SBOM of a large image fits).
const MAX_PREDICATE: u64 = 64 << 20;

pub fn run(args: &AttestArgs, offline: bool) -> Result<Exit, Error> {
    let predicate_type = predicate_type(&args.predicate_type)?;
    let created = super::sign::created()?;
    let predicate = read_predicate(&args.predicate, &args.predicate_type, &created)?;
    let Some(key_path) = &args.key else {
        return super::keyless::attest(args, &predicate_type, &predicate, created, offline);
    };
    let log = logged(
        args.tlog_upload,
        args.format,
        args.keyless.trust_config.as_deref(),
    )?;
    let key = super::sign::signing_key(key_path)?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    if log.is_some() && offline {
        return Err(Error::NeedsNetwork("attest with a Rekor entry"));
    }
    let req = Request {
        key: &key,
        format: super::sign::format(args.format),
        created,
    };
    let (image, stored) = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry)?;
            let store = ctx.store(&loc, false)?;
            let image = super::sign::resolve(&store, &loc).await?;
            let mut stored = Vec::new();
            for (subject, _) in super::sign::subjects(&store, &image, args.recursive).await? {
                let s = match &log {
                    Some(log) => {
                        attest::attest_logged(
                            &store,
                            &subject,
                            &predicate_type,
                            &predicate,
                            &req,
                            log,
                        )
                        .await?
                    }
                    None => {
                        attest::attest(&store, &subject, &predicate_type, &predicate, &req).await?
                    }
                };
                stored.push((subject.digest, s));
            }
            Ok::<_, SignError>((image, stored))
        })
        .map_err(super::keyless::sign_error)?;
    let out = if args.json {
        let list: Vec<_> = stored
            .iter()
            .map(|(d, s)| serde_json::json!({"digest": d, "manifest": s.manifest, "written": s.written}))
            .collect();
        let v = serde_json::json!({
            "digest": image.digest, "predicate_type": predicate_type,
            "format": req.format, "attested": list,
        });
        format!("{v:#}\n")
    } else {
        let mut out = String::new();
        for (digest, s) in &stored {
            let what = if s.written {
                "attested"
            } else {
                "already attested (nothing written)"
            };
            out.push_str(&format!(
                "{what} {digest} ({predicate_type})\n  attestation {}\n",
                s.manifest
            ));
        }
        out
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, out.as_bytes())?;
    Ok(Exit::Ok)
}

pub fn verify(args: &VerifyAttestationArgs, offline: bool) -> Result<Exit, Error> {
    let predicate_type = predicate_type(&args.predicate_type)?;
    let policy = super::verify::policy(
        args.key.as_deref(),
        &args.identity,
        args.insecure_ignore_tlog,
    )?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let verdict = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry)?;
            let store = ctx.store(&loc, false)?;
            let image = super::sign::resolve(&store, &loc).await?;
            attest_verify::verify_attestations(
                &store,
                &Subject::of(&image),
                &predicate_type,
                policy.as_ref(),
            )
            .await
        })
        .map_err(Error::Image)?;
    let out = if args.json {
        let v = serde_json::to_value(&verdict).map_err(|e| Error::Usage(e.to_string()))?;
        format!("{v:#}\n")
    } else {
        render(&verdict)
    };
    // The predicate is the attester's text: inert to the Actions runner however it reads.
    super::deliver(None, &escape::json(out.into_bytes()))?;
    if !verdict.holds() {
        eprintln!(
            "error: attestation verification failed for {}: {}",
            verdict.digest,
            plain(&verdict.reason())
        );
        return Ok(Exit::Violation);
    }
    for v in &verdict.verified {
        let issuer = v
            .signer
            .issuer
            .as_deref()
            .map(|i| format!(" issued by {}", plain(i)))
            .unwrap_or_default();
        let log = match v.signer.log_index {
            Some(i) => format!("transparency-log entry {i} checked"),
            None => "no transparency-log entry checked".to_owned(),
        };
        eprintln!(
            "verified {} attestation {} {} about {} (signed by {} {}{issuer}, {log})",
            v.format,
            v.location,
            v.predicate_type,
            verdict.digest,
            v.signer.kind,
            plain(&v.signer.identity)
        );
    }
    super::sign::set_digest_output(verdict.digest.as_str())?;
    Ok(Exit::Ok)
}

/// The Rekor a key-based attestation is logged in, unless `--tlog-upload=false` (the legacy
/// `.att` layout is not logged yet: refused). `trust_config` names it (else public-good).
pub fn logged(
    tlog_upload: bool,
    format: SignatureFormat,
    trust_config: Option<&Path>,
) -> Result<Option<Log>, Error> {
    if !tlog_upload {
        return Ok(None);
    }
    if format == SignatureFormat::Legacy {
        return Err(Error::Usage(
            "uploading a legacy attestation to Rekor is not supported yet; attest in the bundle format, or pass --tlog-upload=false (and verify with --insecure-ignore-tlog)".into(),
        ));
    }
    super::keyless::rekor_log(trust_config).map(Some)
}

/// Each verified predicate as pretty JSON, one document after another.
fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    for v in &verdict.verified {
        out.push_str(&format!("{:#}\n", v.predicate));
    }
    out
}

/// `--type` as a URI; the signature's own type is not an attestation's.
fn predicate_type(value: &str) -> Result<String, Error> {
    let uri = attest::predicate_type(value).map_err(Error::Usage)?;
    if uri == SIGN_PREDICATE {
        return Err(Error::Usage(format!(
            "--type {uri} is what `cicd sign` writes; attest a predicate of another type"
        )));
    }
    Ok(uri)
}

/// The predicate file as cosign reads it: JSON for every type but `custom` (any text,
/// wrapped with a timestamp) and `spdx` (tag-value text, carried as a JSON string).
pub fn read_predicate(
    path: &Path,
    type_value: &str,
    created: &str,
) -> Result<serde_json::Value, Error> {
    let bad = |reason: String| Error::BadInput {
        path: path.to_path_buf(),
        reason,
    };
    // Bounded as it is read: metadata says 0 bytes for `/dev/zero` or a pipe.
    let bytes = crate::fs::read_bounded(path, MAX_PREDICATE).map_err(|e| bad(e.to_string()))?;
    match type_value {
        "custom" | "spdx" => {
            let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
            Ok(if type_value == "custom" {
                attest::custom_predicate(&text, created)
            } else {
                serde_json::Value::String(text)
            })
        }
        _ => serde_json::from_slice(&bytes).map_err(|e| {
            bad(format!(
                "line {}, column {}: not JSON: {e}",
                e.line(),
                e.column()
            ))
        }),
    }
}
