//! `cicd sbom --attach` and `--from-attached` (issue 13 item 4): each platform's SBOM signed
//! as an attestation whose subject is that platform's manifest digest, and read back verified
//! with a public key instead of reading layers. Logged in Rekor (`--trust-config`'s) unless
//! `--tlog-upload=false`.

use std::path::{Path, PathBuf};

use crate::cli::sbom::{SbomArgs, SbomFormat};
use crate::cli::sign::SignatureFormat;
use crate::error::{Error, Exit};
use crate::oci::digest::Digest;
use crate::oci::error::OciError;
use crate::oci::manifest::Platform;
use crate::oci::transport::Location;
use crate::sbom::attached;
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

/// Checks the flags before any layer is read: `--attach` needs an image; with a key, the
/// Rekor its attestations go to is loaded here, once, and handed to [`attach`].
pub fn check_attach_args(args: &SbomArgs) -> Result<Option<Log>, Error> {
    if !args.attach {
        return Ok(None);
    }
    if args.reference.starts_with("dir:") {
        return Err(Error::Usage(
            "--attach needs an image (docker:// or oci:), not dir:".into(),
        ));
    }
    if args.key.is_none() {
        return Ok(None); // Attached unsigned.
    }
    rekor(args)
}

/// The Rekor the attestations are logged in (`--trust-config`'s), unless
/// `--tlog-upload=false`.
fn rekor(args: &SbomArgs) -> Result<Option<Log>, Error> {
    let trust = args.trust.trust_config.as_deref();
    super::attest::logged(args.tlog_upload, SignatureFormat::Bundle, trust)
}

/// The media type an SBOM of `format` is attached unsigned as.
fn media_type(format: SbomFormat) -> &'static str {
    match format {
        SbomFormat::CyclonedxJson => attached::CYCLONEDX_JSON,
        SbomFormat::SpdxJson => attached::SPDX_JSON,
    }
}

/// Attaches each `(platform manifest digest, rendered SBOM)` as an attestation.
pub fn attach(
    args: &SbomArgs,
    rt: &tokio::runtime::Runtime,
    documents: &[(String, Vec<u8>)],
    log: Option<Log>,
) -> Result<(), Error> {
    let Some(key_path) = &args.key else {
        return attach_unsigned(args, rt, documents);
    };
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

/// Attaches each `(platform manifest digest, rendered SBOM)` unsigned (no key configured).
fn attach_unsigned(
    args: &SbomArgs,
    rt: &tokio::runtime::Runtime,
    documents: &[(String, Vec<u8>)],
) -> Result<(), Error> {
    let loc = Location::parse(&args.reference)?;
    let created = super::sign::created()?;
    let stored = rt.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        let store = ctx.store(&loc, false)?;
        let mut stored = Vec::new();
        for (digest, bytes) in documents {
            let m = store.manifest(digest).await?.ok_or_else(|| {
                OciError::Manifest(format!("{} has no manifest {digest}", store.describe()))
            })?;
            let subject = Subject::of(&m).as_descriptor();
            let a = attached::attach(&store, &subject, media_type(args.format), bytes, &created)
                .await?;
            stored.push((subject.digest, a));
        }
        Ok::<_, OciError>(stored)
    })?;
    for (digest, a) in stored {
        let what = if a.written {
            "attached"
        } else {
            "already attached"
        };
        eprintln!(
            "{what} unsigned SBOM {} to {digest} (no --key: anyone who can push could have attached it)",
            a.manifest
        );
    }
    Ok(())
}

/// `--from-attached`: each platform's verified SBOM, written as `--output` says; without
/// `--key`, the unsigned SBOM artifact attached to each platform.
pub fn from_attached(args: &SbomArgs, offline: bool) -> Result<Exit, Error> {
    let policy = match args.key.as_deref() {
        Some(key) => Some(super::verify::key_policy_logged(
            key,
            args.insecure_ignore_tlog,
            args.trust.trust_config.as_deref(),
        )?),
        None => None,
    };
    let platform = match &args.platform {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| {
            Error::Usage(format!("--platform `{p}`: expected os/arch[/variant]"))
        })?),
        None => None,
    };
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let found = rt.block_on(async {
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
            let found = match &policy {
                Some(policy) => Found::Verified(
                    attest_verify::verify_attestations(
                        &store,
                        &subject,
                        predicate_type(args.format),
                        policy,
                    )
                    .await?,
                ),
                None => Found::Unsigned(
                    subject.digest.clone(),
                    attached::read(&store, &subject.as_descriptor(), media_type(args.format))
                        .await?,
                ),
            };
            out.push((p, found));
        }
        Ok::<_, OciError>(out)
    })?;
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no manifest for the platform asked for",
            args.reference
        )));
    }
    write_found(args, &found)
}

/// What `--from-attached` found on one platform.
enum Found {
    Verified(Verdict),
    Unsigned(Digest, Vec<attached::Found>),
}

impl Found {
    /// `(platform digest, where it came from, the document)`, or why there is none.
    fn document(&self) -> Result<(String, String, Vec<u8>), String> {
        match self {
            Found::Verified(v) if !v.holds() => Err(format!(
                "no verified SBOM attestation on {}: {}",
                v.digest,
                v.reason()
            )),
            // Several verified attestations (re-runs, two signers): the first listed is used.
            Found::Verified(v) => {
                let chosen = &v.verified[0];
                let mut bytes =
                    serde_json::to_vec_pretty(&chosen.predicate).map_err(|e| e.to_string())?;
                bytes.push(b'\n');
                let from = format!("verified SBOM attestation {}", chosen.location);
                Ok((v.digest.to_string(), from, bytes))
            }
            Found::Unsigned(digest, found) => {
                // Anyone who can push can attach one: only a JSON document is handed on (an
                // empty or truncated one, or one holding a bare line, never reaches stdout).
                let valid = found
                    .iter()
                    .find(|f| serde_json::from_slice::<serde::de::IgnoredAny>(&f.bytes).is_ok());
                match (valid, found.first()) {
                    (Some(f), _) => Ok((
                        digest.to_string(),
                        format!("unsigned SBOM {}", f.manifest),
                        f.bytes.clone(),
                    )),
                    (None, Some(f)) => Err(format!(
                        "the SBOM {} attached to {digest} is not a JSON document",
                        f.manifest
                    )),
                    (None, None) => Err(format!(
                        "no SBOM attached to {digest} (without --key only unsigned SBOM artifacts are read)"
                    )),
                }
            }
        }
    }
}

fn write_found(args: &SbomArgs, found: &[(Option<Platform>, Found)]) -> Result<Exit, Error> {
    let mut documents = Vec::new();
    for (platform, f) in found {
        match f.document() {
            Ok(d) => documents.push((platform, d)),
            Err(why) => {
                eprintln!("error: {}", crate::report::escape::plain(&why));
                return Ok(Exit::Violation);
            }
        }
    }
    if args.output.is_none() && documents.len() > 1 {
        return Err(Error::Usage(format!(
            "{} has {} platforms: pass --output FILE (one file per platform) or --platform",
            args.reference,
            documents.len()
        )));
    }
    for (platform, (digest, from, bytes)) in &documents {
        match &args.output {
            Some(out) => {
                let path = output_path(out, platform.as_ref(), documents.len());
                super::write_atomically(&path, bytes)?;
                eprintln!("{digest}: {from} -> {}", path.display());
            }
            None => super::deliver(None, bytes)?,
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
