//! `cicd sbom --attach` and `--from-attached` (issue 13 item 4): each platform's SBOM signed
//! as an attestation whose subject is that platform's manifest digest, and read back verified
//! with a public key instead of reading layers. Logged in Rekor (`CICD_TRUST_CONFIG`'s) unless
//! `--tlog-upload=false`.

use std::path::{Path, PathBuf};

use crate::cli::sbom::{SbomArgs, SbomFormat};
use crate::cli::sign::SignatureFormat;
use crate::error::{Error, Exit};
use crate::oci::error::OciError;
use crate::oci::manifest::Platform;
use crate::oci::transport::Location;
use crate::sign::attest::{self, Request};
use crate::sign::attest_verify::{self, Verdict};
use crate::sign::keyless::rekor::Log;
use crate::sign::keyless::sign::SignError;
use crate::sign::signer::Format;
use crate::sign::store::Subject;

/// The predicate type an SBOM of `format` is attested as.
pub fn predicate_type(format: SbomFormat) -> &'static str {
    match format {
        SbomFormat::CyclonedxJson => attest::CYCLONEDX,
        SbomFormat::SpdxJson => attest::SPDX,
    }
}

/// Checks the flags before any layer is read: `--attach` needs an image and a key.
pub fn check_attach_args(args: &SbomArgs) -> Result<(), Error> {
    if !args.attach {
        return Ok(());
    }
    if args.reference.starts_with("dir:") {
        return Err(Error::Usage(
            "--attach needs an image (docker:// or oci:), not dir:".into(),
        ));
    }
    if args.key.is_none() {
        return Err(Error::Usage(
            "--attach needs --key (a cosign private key); keyless signing and unsigned attachments are not supported yet".into(),
        ));
    }
    rekor(args).map(|_| ())
}

/// The Rekor the attestations are logged in (`CICD_TRUST_CONFIG`'s), unless
/// `--tlog-upload=false`.
fn rekor(args: &SbomArgs) -> Result<Option<Log>, Error> {
    let trust = super::keyless::trust_config_from_env();
    super::attest::logged(args.tlog_upload, SignatureFormat::Bundle, trust.as_deref())
}

/// Attaches each `(platform manifest digest, rendered SBOM)` as an attestation.
pub fn attach(
    args: &SbomArgs,
    rt: &tokio::runtime::Runtime,
    documents: &[(String, Vec<u8>)],
) -> Result<(), Error> {
    let Some(key_path) = &args.key else {
        return check_attach_args(args);
    };
    let log = rekor(args)?;
    let key = super::sign::signing_key(key_path)?;
    let loc = Location::parse(&args.reference)?;
    let predicate_type = predicate_type(args.format);
    let req = Request {
        key: &key,
        format: Format::Bundle,
        created: super::sign::created()?,
    };
    let mut predicates = Vec::new();
    for (digest, bytes) in documents {
        let p: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Runtime(format!("the SBOM of {digest} is not JSON: {e}")))?;
        predicates.push((digest, p));
    }
    let stored = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry)?;
            let store = ctx.store(&loc, false)?;
            let mut stored = Vec::new();
            for (digest, predicate) in &predicates {
                let m = store.manifest(digest).await?.ok_or_else(|| {
                    OciError::Manifest(format!("{} has no manifest {digest}", store.describe()))
                })?;
                let subject = Subject::of(&m);
                let s = match &log {
                    Some(log) => {
                        attest::attest_logged(
                            &store,
                            &subject,
                            predicate_type,
                            predicate,
                            &req,
                            log,
                        )
                        .await?
                    }
                    None => {
                        attest::attest(&store, &subject, predicate_type, predicate, &req).await?
                    }
                };
                stored.push((subject.digest, s));
            }
            Ok::<_, SignError>(stored)
        })
        .map_err(super::keyless::sign_error)?;
    for (digest, s) in stored {
        let what = if s.written {
            "attached"
        } else {
            "already attached"
        };
        eprintln!("{what} SBOM attestation {} to {digest}", s.manifest);
    }
    Ok(())
}

/// `--from-attached`: each platform's verified SBOM, written as `--output` says.
pub fn from_attached(args: &SbomArgs, offline: bool) -> Result<Exit, Error> {
    let key = args.key.as_deref().ok_or_else(|| {
        Error::Usage("--from-attached needs --key (the cosign public key that signed it)".into())
    })?;
    let trust = super::keyless::trust_config_from_env();
    let policy =
        super::verify::key_policy_logged(key, args.insecure_ignore_tlog, trust.as_deref())?;
    let platform = match &args.platform {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| {
            Error::Usage(format!("--platform `{p}`: expected os/arch[/variant]"))
        })?),
        None => None,
    };
    let predicate_type = predicate_type(args.format);
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let verdicts = rt.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        let store = ctx.store(&loc, false)?;
        let image = super::sign::resolve(&store, &loc).await?;
        let all = super::sign::subjects(&store, &image, true).await?;
        // An index's SBOMs are its platforms'; a single manifest's is its own.
        let platforms: Vec<_> = if all.len() > 1 {
            all.into_iter()
                .skip(1)
                .filter(|(_, p)| p.as_ref().is_some_and(|p| p.os != "unknown"))
                .filter(|(_, p)| match (&platform, p) {
                    (Some(want), Some(p)) => p.matches(want),
                    _ => true,
                })
                .collect()
        } else {
            all
        };
        let mut out = Vec::new();
        for (subject, p) in platforms {
            let v = attest_verify::verify_attestations(&store, &subject, predicate_type, &policy)
                .await?;
            out.push((p, v));
        }
        Ok::<_, OciError>(out)
    })?;
    if verdicts.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no manifest for the platform asked for",
            args.reference
        )));
    }
    write_verified(args, &verdicts)
}

fn write_verified(
    args: &SbomArgs,
    verdicts: &[(Option<Platform>, Verdict)],
) -> Result<Exit, Error> {
    if let Some((_, failed)) = verdicts.iter().find(|(_, v)| !v.holds()) {
        eprintln!(
            "error: no verified SBOM attestation on {}: {}",
            failed.digest,
            failed.reason()
        );
        return Ok(Exit::Violation);
    }
    if args.output.is_none() && verdicts.len() > 1 {
        return Err(Error::Usage(format!(
            "{} has {} platforms: pass --output FILE (one file per platform) or --platform",
            args.reference,
            verdicts.len()
        )));
    }
    for (platform, v) in verdicts {
        // Several verified attestations (re-runs, two signers): the first listed is used.
        let chosen = &v.verified[0];
        let mut bytes = serde_json::to_vec_pretty(&chosen.predicate)
            .map_err(|e| Error::Runtime(e.to_string()))?;
        bytes.push(b'\n');
        match &args.output {
            Some(out) => {
                let path = output_path(out, platform.as_ref(), verdicts.len());
                super::write_atomically(&path, &bytes)?;
                eprintln!(
                    "{}: verified SBOM attestation {} -> {}",
                    v.digest,
                    chosen.location,
                    path.display()
                );
            }
            None => super::deliver(None, &bytes)?,
        }
    }
    Ok(Exit::Ok)
}

/// `FILE`, or `FILE` with `.os-arch[-variant]` before its extension when there are several.
fn output_path(out: &Path, platform: Option<&Platform>, count: usize) -> PathBuf {
    let Some(p) = platform.filter(|_| count > 1) else {
        return out.to_path_buf();
    };
    let tag = p.to_string().replace('/', "-");
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{tag}"),
    };
    out.with_file_name(name)
}
