//! `cicd sign` and `cicd attest` without `--key` (a Fulcio certificate and a Rekor entry), and
//! key-based signing with a Rekor entry. Verification of both kinds is one path
//! (`verify::policy`, `sign::verify::Verifier`).

use crate::cli::sign::{AttestArgs, SignArgs, SignatureFormat};
use crate::error::{Error, Exit};
use crate::http::{Client, Purpose};
use crate::oci::digest::Digest;
use crate::report::escape::plain;
use crate::sign::keyless::sign::Signed;
use crate::sign::keyless::sign::{self as keyless_sign, SignError};
use crate::sign::keyless::{oidc, rekor, trust};
use crate::sign::store::{Stored, Subject};

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

/// The trust config `CICD_TRUST_CONFIG` names, for commands without `--trust-config`. Set
/// but empty means unset (Sigstore's public-good instance), as clap reads the flag's `env`.
pub fn trust_config_from_env() -> Option<std::path::PathBuf> {
    std::env::var_os("CICD_TRUST_CONFIG")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

/// A signing failure as the command's error (services: exit 2/3; the store: exit 3).
pub fn sign_error(e: SignError) -> Error {
    match e {
        SignError::Keyless(k) => Error::Keyless(k),
        SignError::Oci(o) => Error::Image(o),
    }
}

/// Signs with a Fulcio certificate for the OIDC identity and a Rekor entry; with
/// `--recursive` or `--format legacy`, every digest with one certificate.
pub fn sign(args: &SignArgs, offline: bool) -> Result<Exit, Error> {
    if !args.tlog_upload {
        return Err(Error::Usage(
            "keyless signatures are always logged (the certificate lives only minutes, the log proves when it signed); --tlog-upload=false needs --key".into(),
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
    let legacy = args.format == SignatureFormat::Legacy;
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
            let subjects: Vec<Subject> = super::sign::subjects(&store, &image, args.recursive)
                .await?
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let signed = if legacy {
                let reference = super::sign::docker_reference(&loc);
                keyless_sign::sign_legacy(&store, &subjects, &reference, &req).await?
            } else if args.recursive {
                keyless_sign::sign_each(&store, &subjects, &req).await?
            } else {
                vec![keyless_sign::sign(&store, &subjects[0], &req).await?]
            };
            let done: Vec<_> = subjects
                .into_iter()
                .zip(signed)
                .map(|(s, (stored, who))| (s.digest, stored, who))
                .collect();
            Ok::<_, SignError>((image, done))
        })
        .map_err(sign_error)?;
    let format = if legacy { "legacy" } else { "bundle" };
    let out = if args.json {
        let (_, stored, signed) = &done[0];
        let mut v = serde_json::json!({
            "digest": image.digest, "format": format, "manifest": stored.manifest,
            "written": stored.written, "identity": signed.identity, "issuer": signed.issuer,
            "log_index": signed.log_index,
        });
        if args.recursive {
            v["signed"] = done
                .iter()
                .map(|(d, s, k)| serde_json::json!({"digest": d, "manifest": s.manifest, "written": s.written, "log_index": k.log_index}))
                .collect();
        }
        format!("{v:#}\n")
    } else {
        text(&done, |d| format!("signed {d} keylessly"), "signature")
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, &crate::report::escape::json(out.into_bytes()))?;
    Ok(Exit::Ok)
}

/// Each digest signed or attested keylessly, as text: `head`, then who signed, the log
/// index and where the signature or attestation (`what`) is.
fn text(done: &[(Digest, Stored, Signed)], head: impl Fn(&Digest) -> String, what: &str) -> String {
    let mut out = String::new();
    for (digest, stored, signed) in done {
        out.push_str(&format!(
            "{}\n  identity {}\n  issuer {}\n  log index {}\n  {what} {}\n",
            head(digest),
            plain(signed.identity.as_deref().unwrap_or("?")),
            plain(signed.issuer.as_deref().unwrap_or("?")),
            signed.log_index.map_or("?".into(), |i| i.to_string()),
            stored.manifest
        ));
    }
    out
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
            let subjects: Vec<Subject> = super::sign::subjects(&store, &image, args.recursive)
                .await?
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let mut done = Vec::new();
            if args.format == SignatureFormat::Legacy {
                let all =
                    keyless_sign::attest_legacy(&store, &subjects, predicate_type, predicate, &req)
                        .await?;
                for (subject, (stored, signed)) in subjects.into_iter().zip(all) {
                    done.push((subject.digest, stored, signed));
                }
            } else {
                for subject in subjects {
                    let (stored, signed) =
                        keyless_sign::attest(&store, &subject, predicate_type, predicate, &req)
                            .await?;
                    done.push((subject.digest, stored, signed));
                }
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
            "format": if args.format == SignatureFormat::Legacy { "legacy" } else { "bundle" },
            "attested": list,
        });
        format!("{v:#}\n")
    } else {
        let head = |d: &Digest| format!("attested {d} ({predicate_type}) keylessly");
        text(&done, head, "attestation")
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, &crate::report::escape::json(out.into_bytes()))?;
    Ok(Exit::Ok)
}

/// Key-based signing with the entry in Rekor (cosign's default): the bundle the key signs,
/// with the log entry the trust config's Rekor returned (`sign::signer::sign_logged`); with
/// `--recursive` each platform manifest too.
pub fn sign_key_logged(
    args: &SignArgs,
    key: &p256::ecdsa::SigningKey,
    offline: bool,
) -> Result<Exit, Error> {
    if offline {
        return Err(Error::NeedsNetwork("sign with a Rekor entry"));
    }
    let annotations = super::sign::parse_annotations(&args.annotations)?;
    let log = rekor_log(args.keyless.trust_config.as_deref())?;
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let req = crate::sign::signer::Request {
        key,
        format: crate::sign::signer::Format::Bundle,
        annotations,
        docker_reference: String::new(),
        created: super::sign::created()?,
    };
    let (image, done) = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry).map_err(SignError::Oci)?;
            let store = ctx.store(&loc, false).map_err(SignError::Oci)?;
            let image = super::sign::resolve(&store, &loc).await?;
            let mut done = Vec::new();
            for (subject, _) in super::sign::subjects(&store, &image, args.recursive).await? {
                let (stored, index) =
                    crate::sign::signer::sign_logged(&store, &subject, &req, &log).await?;
                done.push((subject.digest, stored, index));
            }
            Ok::<_, SignError>((image, done))
        })
        .map_err(sign_error)?;
    let out = if args.json {
        let (_, first, index) = &done[0];
        let mut v = serde_json::json!({
            "digest": image.digest, "format": "bundle", "manifest": first.manifest,
            "written": first.written, "log_index": index,
        });
        if args.recursive {
            v["signed"] = done
                .iter()
                .map(|(d, s, i)| serde_json::json!({"digest": d, "manifest": s.manifest, "written": s.written, "log_index": i}))
                .collect();
        }
        format!("{v:#}\n")
    } else {
        let mut out = String::new();
        for (digest, stored, index) in &done {
            let what = if stored.written {
                "signed"
            } else {
                "already signed (nothing written)"
            };
            out.push_str(&format!(
                "{what} {digest}\n  log index {index}\n  signature {}\n",
                stored.manifest
            ));
        }
        out
    };
    super::sign::set_digest_output(image.digest.as_str())?;
    super::deliver(None, &crate::report::escape::json(out.into_bytes()))?;
    Ok(Exit::Ok)
}
