//! `cicd sign`: resolves the reference once, loads the cosign key, signs the digest and
//! stores the signature next to the image; prints the digest and sets the `digest` output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use p256::ecdsa::SigningKey;

use crate::cli::sign::{SignArgs, SignatureFormat};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::oci::error::OciError;
use crate::oci::manifest::Platform;
use crate::oci::store::{Fetched, Store};
use crate::oci::transport::Location;
use crate::sign::keys;
use crate::sign::signer::{self, Format};
use crate::sign::store::Subject;

pub fn run(args: &SignArgs, offline: bool) -> Result<Exit, Error> {
    let Some(key_path) = &args.key else {
        return super::keyless::sign(args, offline);
    };
    if args.tlog_upload && args.format == SignatureFormat::Legacy {
        return Err(Error::Usage(
            "uploading a legacy signature to Rekor is not supported yet; sign the bundle format, or pass --tlog-upload=false (and verify with --insecure-ignore-tlog)".into(),
        ));
    }
    let annotations = parse_annotations(&args.annotations)?;
    let key = signing_key(key_path)?;
    if args.tlog_upload {
        return super::keyless::sign_key_logged(args, &key, offline);
    }
    let (loc, rt) = target(&args.reference, offline)?;
    let created = created()?;
    let format = format(args.format);
    let (image, stored) = rt.block_on(async {
        let ctx = super::registry::context(&args.registry)?;
        let store = ctx.store(&loc, false)?;
        let image = resolve(&store, &loc).await?;
        let req = signer::Request {
            key: &key,
            format,
            annotations,
            docker_reference: docker_reference(&loc),
            created,
        };
        let mut stored = Vec::new();
        for (subject, _) in subjects(&store, &image, args.recursive).await? {
            let s = signer::sign(&store, &subject, &req).await?;
            stored.push((subject.digest, s));
        }
        Ok::<_, OciError>((image, stored))
    })?;
    let out = if args.json {
        let signed: Vec<_> = stored
            .iter()
            .map(|(d, s)| serde_json::json!({"digest": d, "manifest": s.manifest, "written": s.written}))
            .collect();
        let mut v = serde_json::json!({
            "digest": image.digest, "format": format,
            "manifest": stored[0].1.manifest, "written": stored[0].1.written,
        });
        if args.recursive {
            v["signed"] = serde_json::Value::Array(signed);
        }
        format!("{v:#}\n")
    } else {
        let mut out = String::new();
        for (digest, s) in &stored {
            let what = if s.written {
                "signed"
            } else {
                "already signed (nothing written)"
            };
            out.push_str(&format!("{what} {digest}\n  signature {}\n", s.manifest));
        }
        out
    };
    set_digest_output(image.digest.as_str())?;
    super::deliver(None, out.as_bytes())?;
    Ok(Exit::Ok)
}

/// The image and, with `recursive`, every manifest its index lists.
pub async fn subjects(
    store: &Store,
    image: &Fetched,
    recursive: bool,
) -> Result<Vec<(Subject, Option<Platform>)>, OciError> {
    if recursive {
        crate::sign::store::recursive(store, image).await
    } else {
        Ok(vec![(Subject::of(image), None)])
    }
}

pub fn format(f: SignatureFormat) -> Format {
    match f {
        SignatureFormat::Bundle => Format::Bundle,
        SignatureFormat::Legacy => Format::Legacy,
    }
}

/// The cosign private key at `path`, decrypted with the password from the environment.
pub fn signing_key(path: &Path) -> Result<SigningKey, Error> {
    let pem = keys::read_pem(path).map_err(|e| Error::BadInput {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let password = keys::password_from_env()
        .ok_or_else(|| super::keygen::key_error(path, keys::KeyError::NoPassword))?;
    keys::decrypt(&pem, &password).map_err(|e| super::keygen::key_error(path, e))
}

/// The location and a runtime to reach it; `--offline` refuses registries.
pub fn target(
    reference: &str,
    offline: bool,
) -> Result<(Location, tokio::runtime::Runtime), Error> {
    let loc = Location::parse(reference)?;
    if offline && !loc.is_layout() {
        return Err(Error::NeedsNetwork("sign/verify of a registry image"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))?;
    Ok((loc, rt))
}

/// The image `loc` names; a tag is resolved once and said so on stderr.
pub async fn resolve(store: &Store, loc: &Location) -> Result<Fetched, OciError> {
    let image = store.resolve(loc).await?;
    if loc.digest().is_none() {
        eprintln!("resolved {loc} to {}", image.digest);
    }
    Ok(image)
}

pub fn docker_reference(loc: &Location) -> String {
    match loc {
        Location::Registry(r) => format!("{}/{}", r.registry, r.repository),
        Location::Layout { .. } => String::new(),
    }
}

/// RFC 3339 now (CICD_NOW in tests), for the referrer's creation annotation.
pub fn created() -> Result<String, Error> {
    let secs = crate::time::now().map_err(Error::Usage)?;
    let ts = jiff::Timestamp::from_second(secs).map_err(|e| Error::Usage(e.to_string()))?;
    Ok(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

pub(super) fn parse_annotations(raw: &[String]) -> Result<BTreeMap<String, String>, Error> {
    raw.iter()
        .map(|a| {
            a.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Error::Usage(format!("-a `{a}`: expected KEY=VALUE")))
        })
        .collect()
}

pub fn set_digest_output(digest: &str) -> Result<(), Error> {
    Runtime::from_env()
        .set_output("digest", digest)
        .map_err(|source| Error::Write {
            path: PathBuf::from("$GITHUB_OUTPUT"),
            source,
        })
}
