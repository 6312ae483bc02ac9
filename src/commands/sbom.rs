//! `cicd sbom`: flags → an [`sbom::Request`]; the documents it returns → files or standard
//! output, a JSON summary with `--json`, warnings on stderr, and the Actions `sbom` output.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::sbom::{SbomArgs, SbomFormat, SpecVersion};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::oci::manifest::Platform;
use crate::sbom::source::Source;
use crate::sbom::{self, Document, SbomError, Spec};

pub fn run(args: &SbomArgs, offline: bool) -> Result<Exit, Error> {
    if args.from_attached {
        return super::sbom_attach::from_attached(args, offline);
    }
    let log = super::sbom_attach::check_attach_args(args)?;
    let source = Source::parse(&args.reference).map_err(|e| to_error(e, true, &args.reference))?;
    let local = source.is_local();
    if offline && !local {
        return Err(Error::Usage(format!(
            "{} is a registry and --offline forbids the network; use an oci:PATH layout",
            args.reference
        )));
    }
    let platform = match &args.platform {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| {
            Error::Usage(format!("--platform `{p}`: expected os/arch[/variant]"))
        })?),
        None => None,
    };
    if platform.is_some() && matches!(source, Source::Dir(_)) {
        return Err(Error::Usage("--platform needs an image, not dir:".into()));
    }
    let req = sbom::Request {
        source,
        platform,
        spec: match args.spec_version {
            SpecVersion::V1_5 => Spec::V1_5,
            SpecVersion::V1_6 => Spec::V1_6,
        },
        opts: super::registry::options(&args.registry),
        sources: super::registry::credential_sources(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))?;
    let outcome = rt
        .block_on(sbom::run(&req))
        .map_err(|e| to_error(e, local, &args.reference))?;
    if args.output.is_none() && !args.attach && outcome.documents.len() > 1 {
        return Err(Error::Usage(format!(
            "{} has {} platforms: pass --output FILE (one file per platform) or --platform",
            outcome.source,
            outcome.documents.len()
        )));
    }
    let mut written = Vec::new();
    let mut attach = Vec::new();
    for doc in &outcome.documents {
        warn(doc);
        let bytes = match args.format {
            SbomFormat::CyclonedxJson => sbom::cyclonedx::render(doc, req.spec),
            SbomFormat::SpdxJson => sbom::spdx::render(doc),
        }
        .map_err(|e| to_error(e, local, ""))?;
        match &args.output {
            Some(out) => {
                let path = output_path(out, doc, outcome.documents.len());
                super::write_atomically(&path, &bytes)?;
                written.push((doc, path));
            }
            None if args.attach => {}
            None => super::deliver(None, &bytes)?,
        }
        if args.attach {
            let digest = doc.subject.digest.clone().ok_or_else(|| {
                Error::Usage("--attach needs an image; this SBOM has no digest".into())
            })?;
            attach.push((digest, bytes));
        }
    }
    if args.attach {
        super::sbom_attach::attach(args, &rt, &attach, log)?;
    }
    report(args, &outcome, &written)
}

fn report(
    args: &SbomArgs,
    outcome: &sbom::Outcome,
    written: &[(&Document, PathBuf)],
) -> Result<Exit, Error> {
    let runtime = Runtime::from_env();
    if !written.is_empty() {
        let paths: Vec<String> = written
            .iter()
            .map(|(_, p)| p.display().to_string())
            .collect();
        runtime
            .set_output("sbom", &paths.join("\n"))
            .map_err(|source| Error::Write {
                path: PathBuf::from("$GITHUB_OUTPUT"),
                source,
            })?;
    }
    if args.json {
        let sboms: Vec<_> = written
            .iter()
            .map(|(d, p)| {
                json!({
                    "platform": d.platform.as_ref().map(ToString::to_string),
                    "digest": d.subject.digest,
                    "path": p,
                    "components": d.packages.len(),
                    "warnings": d.warnings,
                })
            })
            .collect();
        let summary = json!({"source": outcome.source, "digest": outcome.digest, "sboms": sboms});
        let mut out = serde_json::to_vec_pretty(&summary).map_err(|e| Error::Write {
            path: PathBuf::from("<stdout>"),
            source: e.into(),
        })?;
        out.push(b'\n');
        super::deliver(None, &out)?;
    } else if !written.is_empty() {
        let mut err = std::io::stderr().lock();
        for (d, p) in written {
            let _ = writeln!(
                err,
                "{}: {} components -> {}",
                d.platform
                    .as_ref()
                    .map_or_else(|| outcome.source.clone(), ToString::to_string),
                d.packages.len(),
                p.display()
            );
        }
    }
    Ok(Exit::Ok)
}

fn warn(doc: &Document) {
    let mut err = std::io::stderr().lock();
    for w in &doc.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
}

/// `FILE` for one document; `FILE` with `.os-arch[-variant]` before the extension for several.
fn output_path(out: &Path, doc: &Document, count: usize) -> PathBuf {
    let Some(p) = doc.platform.as_ref().filter(|_| count > 1) else {
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

fn to_error(e: SbomError, local: bool, reference: &str) -> Error {
    match e {
        SbomError::Oci(oci) if !local || oci.is_bad_input() => Error::Image(oci),
        e if e.is_bad_input(local) => Error::BadInput {
            path: PathBuf::from(reference),
            reason: e.to_string(),
        },
        SbomError::Oci(oci) => Error::Image(oci),
        SbomError::Layer {
            image,
            digest,
            message,
            ..
        } => Error::Image(crate::oci::error::OciError::Network {
            registry: image,
            action: format!("GET blob {digest}"),
            message: message.into(),
        }),
        e => Error::Runtime(e.to_string()),
    }
}
