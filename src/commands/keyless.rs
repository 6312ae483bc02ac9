//! `cicd sign` and `cicd attest` without `--key` (a Fulcio certificate and a Rekor entry), and
//! key-based signing with a Rekor entry. Verification of both kinds is one path
//! (`verify::policy`, `sign::verify::Verifier`).

use crate::cli::sign::{AttestArgs, SignArgs, SignatureFormat};
use crate::error::{Error, Exit};
use crate::http::{Client, Purpose};
use crate::oci::error::OciError;
use crate::report::escape::plain;
use crate::sign::keyless::sign::{self as keyless_sign, SignError};
use crate::sign::keyless::{oidc, rekor, trust};
use crate::sign::store::Subject;

fn http_client() -> Result<reqwest::Client, Error> {
    Client::new(Purpose::Api)
        .map(Client::into_reqwest)
        .map_err(|e| Error::Runtime(format!("HTTP client: {e}")))
}

/// The Rekor the trust config at `trust_config` names (else public-good's), reached with
/// cicd's HTTP client.
pub fn rekor_log(trust_config: Option<&std::path::Path>) -> Result<rekor::Log, Error> {
    let trust = trust::load(trust_config)?;
    Ok(rekor::Log::new(&trust, http_client()?)?)
}

/// The trust config `CICD_TRUST_CONFIG` names, for commands without `--trust-config`.
pub fn trust_config_from_env() -> Option<std::path::PathBuf> {
    std::env::var_os("CICD_TRUST_CONFIG").map(std::path::PathBuf::from)
}

/// A signing failure as the command's error (services: exit 2/3; the store: exit 3).
pub fn sign_error(e: SignError) -> Error {
    match e {
        SignError::Keyless(k) => Error::Keyless(k),
        SignError::Oci(o) => Error::Image(o),
    }
}

/// Signs with a Fulcio certificate for the OIDC identity and a Rekor entry.
pub fn sign(args: &SignArgs, offline: bool) -> Result<Exit, Error> {
    if !args.tlog_upload {
        return Err(Error::Usage(
            "keyless signatures are always logged (the certificate lives only minutes, the log proves when it signed); --tlog-upload=false needs --key".into(),
        ));
    }
    if args.format == SignatureFormat::Legacy {
        return Err(Error::Usage(
            "keyless signing writes the bundle format only; drop --format legacy or sign with --key".into(),
        ));
    }
    if args.recursive {
        return Err(Error::Usage(
            "--recursive is not supported by keyless signing yet; sign each platform digest, or sign with --key".into(),
        ));
    }
    if offline {
        return Err(Error::NeedsNetwork("keyless sign (Fulcio, Rekor)"));
    }
    let annotations = super::sign::parse_annotations(&args.annotations)?;
    let trust = trust::load(args.keyless.trust_config.as_deref())?;
    let services = trust.services()?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let created = super::sign::created()?;
    let client = http_client()?;
    let (image, stored, signed) = rt
        .block_on(async {
            let token = oidc::token(&client).await?;
            let ctx = super::registry::context(&args.registry).map_err(SignError::Oci)?;
            let store = ctx.store(&loc, false).map_err(SignError::Oci)?;
            let image = super::sign::resolve(&store, &loc).await?;
            let req = keyless_sign::Request {
                services,
                token: &token,
                annotations: &annotations,
                created,
                client,
            };
            let (stored, signed) = keyless_sign::sign(&store, &Subject::of(&image), &req).await?;
            Ok::<_, SignError>((image, stored, signed))
        })
        .map_err(sign_error)?;
    let out = if args.json {
        let v = serde_json::json!({
            "digest": image.digest, "format": "bundle", "manifest": stored.manifest,
            "written": stored.written, "identity": signed.identity, "issuer": signed.issuer,
            "log_index": signed.log_index,
        });
        format!("{v:#}\n")
    } else {
        format!(
            "signed {} keylessly\n  identity {}\n  issuer {}\n  log index {}\n  signature {}\n",
            image.digest,
            plain(signed.identity.as_deref().unwrap_or("?")),
            plain(signed.issuer.as_deref().unwrap_or("?")),
            signed.log_index.map_or("?".into(), |i| i.to_string()),
            stored.manifest
        )
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, &crate::report::escape::json(out.into_bytes()))?;
    Ok(Exit::Ok)
}

/// Attests `predicate` about the image (and, with `--recursive`, each platform manifest)
/// with a Fulcio certificate for the OIDC identity and a Rekor entry.
pub fn attest(
    args: &AttestArgs,
    predicate_type: &str,
    predicate: &serde_json::Value,
    created: String,
    offline: bool,
) -> Result<Exit, Error> {
    if !args.tlog_upload {
        return Err(Error::Usage(
            "keyless attestations are always logged (the certificate lives only minutes, the log proves when it signed); --tlog-upload=false needs --key".into(),
        ));
    }
    if args.format == SignatureFormat::Legacy {
        return Err(Error::Usage(
            "keyless attestation writes the bundle format only; drop --format legacy or attest with --key".into(),
        ));
    }
    if offline {
        return Err(Error::NeedsNetwork("keyless attest (Fulcio, Rekor)"));
    }
    let trust = trust::load(args.keyless.trust_config.as_deref())?;
    let services = trust.services()?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let client = http_client()?;
    let annotations = std::collections::BTreeMap::new();
    let (image, done) = rt
        .block_on(async {
            let token = oidc::token(&client).await?;
            let ctx = super::registry::context(&args.registry).map_err(SignError::Oci)?;
            let store = ctx.store(&loc, false).map_err(SignError::Oci)?;
            let image = super::sign::resolve(&store, &loc).await?;
            let req = keyless_sign::Request {
                services,
                token: &token,
                annotations: &annotations,
                created,
                client,
            };
            let mut done = Vec::new();
            for (subject, _) in super::sign::subjects(&store, &image, args.recursive).await? {
                let (stored, signed) =
                    keyless_sign::attest(&store, &subject, predicate_type, predicate, &req).await?;
                done.push((subject.digest, stored, signed));
            }
            Ok::<_, SignError>((image, done))
        })
        .map_err(sign_error)?;
    let out = if args.json {
        let list: Vec<_> = done
            .iter()
            .map(|(d, s, k)| {
                serde_json::json!({"digest": d, "manifest": s.manifest,
                "written": s.written, "identity": k.identity, "issuer": k.issuer,
                "log_index": k.log_index})
            })
            .collect();
        let v = serde_json::json!({
            "digest": image.digest, "predicate_type": predicate_type,
            "format": "bundle", "attested": list,
        });
        format!("{v:#}\n")
    } else {
        let mut out = String::new();
        for (digest, stored, signed) in &done {
            out.push_str(&format!(
                "attested {digest} ({predicate_type}) keylessly\n  identity {}\n  issuer {}\n  log index {}\n  attestation {}\n",
                plain(signed.identity.as_deref().unwrap_or("?")),
                plain(signed.issuer.as_deref().unwrap_or("?")),
                signed.log_index.map_or("?".into(), |i| i.to_string()),
                stored.manifest
            ));
        }
        out
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, &crate::report::escape::json(out.into_bytes()))?;
    Ok(Exit::Ok)
}

/// Key-based signing with the entry in Rekor (cosign's default): the bundle the key signs,
/// with the log entry the trust config's Rekor returned.
pub fn sign_key_logged(
    args: &SignArgs,
    key: &p256::ecdsa::SigningKey,
    offline: bool,
) -> Result<Exit, Error> {
    use crate::sign::{bundle, dsse, statement, store};
    if offline {
        return Err(Error::NeedsNetwork("sign with a Rekor entry"));
    }
    let annotations = super::sign::parse_annotations(&args.annotations)?;
    let log = rekor_log(args.keyless.trust_config.as_deref())?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let created = super::sign::created()?;
    let (image, stored, log_index) = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry).map_err(SignError::Oci)?;
            let store = ctx.store(&loc, false).map_err(SignError::Oci)?;
            let image = super::sign::resolve(&store, &loc).await?;
            let subject = Subject::of(&image);
            let payload = statement::statement(
                subject.digest.hex(),
                &annotations,
                statement::SIGN_PREDICATE,
                &serde_json::json!({}),
            );
            let envelope = dsse::sign(key, statement::PAYLOAD_TYPE, payload);
            let entry = log.upload(&envelope, key.verifying_key()).await?;
            let log_index = Some(u64::from(entry.log_index));
            let b = bundle::key_based(key.verifying_key(), envelope, vec![entry]);
            let bytes = bundle::to_bytes(&b).map_err(|e| SignError::Oci(OciError::Manifest(e)))?;
            let stored = store::put_bundle(
                &store,
                &subject,
                &bytes,
                statement::SIGN_PREDICATE,
                &created,
            )
            .await?;
            Ok::<_, SignError>((image, stored, log_index))
        })
        .map_err(sign_error)?;
    let out = if args.json {
        let v = serde_json::json!({
            "digest": image.digest, "format": "bundle", "manifest": stored.manifest,
            "written": stored.written, "log_index": log_index,
        });
        format!("{v:#}\n")
    } else {
        let what = if stored.written {
            "signed"
        } else {
            "already signed (nothing written)"
        };
        format!(
            "{what} {}\n  log index {}\n  signature {}\n",
            image.digest,
            log_index.map_or("?".into(), |i| i.to_string()),
            stored.manifest
        )
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, &crate::report::escape::json(out.into_bytes()))?;
    Ok(Exit::Ok)
}
