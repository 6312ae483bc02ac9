//! `cicd sign` without `--key` and `cicd verify` with an identity policy: the keyless paths
//! of the two commands (the key-based ones stay in sign.rs and verify.rs, which call here).

use crate::cli::sign::{SignArgs, SignatureFormat, VerifyArgs};
use crate::error::{Error, Exit};
use crate::http::{Client, Purpose};
use crate::oci::error::OciError;
use crate::sign::identity::Policy;
use crate::sign::keyless::sign::{self as keyless_sign, SignError};
use crate::sign::keyless::{KeylessError, oidc, rekor, trust, verify};
use crate::sign::store::Subject;

fn http_client() -> Result<reqwest::Client, Error> {
    Client::new(Purpose::Api)
        .map(Client::into_reqwest)
        .map_err(|e| Error::Runtime(format!("HTTP client: {e}")))
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
        .map_err(|e| match e {
            SignError::Keyless(k) => Error::Keyless(k),
            SignError::Oci(o) => Error::Image(o),
        })?;
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
            signed.identity.as_deref().unwrap_or("?"),
            signed.issuer.as_deref().unwrap_or("?"),
            signed.log_index.map_or("?".into(), |i| i.to_string()),
            stored.manifest
        )
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, out.as_bytes())?;
    Ok(Exit::Ok)
}

/// Verifies the image's keyless signatures against the trust root and identity policy.
pub fn verify(args: &VerifyArgs, reference: &str, offline: bool) -> Result<Exit, Error> {
    let policy = Policy::from_flags(&args.identity.flags()).map_err(Error::Usage)?;
    let trust = trust::load(args.identity.trust.trust_config.as_deref())?;
    if args.insecure_ignore_tlog {
        return Err(Error::Keyless(KeylessError::Usage(
            "--insecure-ignore-tlog applies to key-based signatures only: a keyless certificate is checked at the log's (or TSA's) time".into(),
        )));
    }
    let verifier = verify::verifier(&trust)?;
    let (loc, rt) = super::sign::target(reference, offline)?;
    let verdict = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry)?;
            let store = ctx.store(&loc, false)?;
            let image = super::sign::resolve(&store, &loc).await?;
            verify::verify(&store, &Subject::of(&image), &verifier, &policy).await
        })
        .map_err(Error::Image)?;
    let out = if args.json {
        let v = serde_json::to_value(&verdict).map_err(|e| Error::Usage(e.to_string()))?;
        format!("{v:#}\n")
    } else if verdict.verified {
        let mut s = format!("verified {}\n", verdict.digest);
        for c in verdict.signatures.iter().filter(|c| c.verified) {
            s.push_str(&format!(
                "  {} {}\n    identity {}\n    issuer {}\n    log index {}, integrated {}\n",
                c.format,
                c.location,
                c.identity.as_deref().unwrap_or("?"),
                c.issuer.as_deref().unwrap_or("?"),
                c.log_index.map_or("?".into(), |i| i.to_string()),
                c.integrated_time.as_deref().unwrap_or("?"),
            ));
        }
        s
    } else {
        String::new()
    };
    super::deliver(None, out.as_bytes())?;
    if verdict.verified {
        super::sign::set_digest_output(verdict.digest.as_str())?;
        Ok(Exit::Ok)
    } else {
        eprintln!(
            "error: verification failed for {}: {}",
            verdict.digest,
            verdict.reason()
        );
        Ok(Exit::Violation)
    }
}

/// Key-based verify's log check: a verifier over the trusted root, unless the log is ignored.
pub fn log_verifier(
    args: &VerifyArgs,
) -> Result<Option<std::sync::Arc<sigstore_verify::Verifier>>, Error> {
    if args.insecure_ignore_tlog {
        return Ok(None);
    }
    let trust = trust::load(args.identity.trust.trust_config.as_deref())?;
    Ok(Some(std::sync::Arc::new(verify::verifier(&trust)?)))
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
    let trust = trust::load(args.keyless.trust_config.as_deref())?;
    let url = rekor::url(&trust)?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let created = super::sign::created()?;
    let client = http_client()?;
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
            let entry = rekor::upload(&client, &url, &envelope, key.verifying_key()).await?;
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
        .map_err(|e| match e {
            SignError::Keyless(k) => Error::Keyless(k),
            SignError::Oci(o) => Error::Image(o),
        })?;
    let out = if args.json {
        let v = serde_json::json!({
            "digest": image.digest, "format": "bundle", "manifest": stored.manifest,
            "written": stored.written, "log_index": log_index,
        });
        format!("{v:#}\n")
    } else {
        format!(
            "signed {}\n  log index {}\n  signature {}\n",
            image.digest,
            log_index.map_or("?".into(), |i| i.to_string()),
            stored.manifest
        )
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, out.as_bytes())?;
    Ok(Exit::Ok)
}
