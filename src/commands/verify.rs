//! `cicd verify`: checks an image's signatures with a cosign public key and prints what
//! holds; exit 1 with every signature's reason when none does.

use crate::cli::sign::VerifyArgs;
use crate::error::{Error, Exit};
use crate::oci::error::OciError;
use crate::sign::keys;
use crate::sign::store::Subject;
use crate::sign::verify::{self, Policy};

pub fn run(args: &VerifyArgs, offline: bool) -> Result<Exit, Error> {
    let Some(key_path) = &args.key else {
        return super::keyless::verify(args, offline);
    };
    let pem = std::fs::read_to_string(key_path).map_err(|e| Error::BadInput {
        path: key_path.clone(),
        reason: e.to_string(),
    })?;
    let key = keys::public_key(&pem).map_err(|e| super::keygen::key_error(key_path, e))?;
    let policy = Policy {
        key,
        ignore_tlog: args.insecure_ignore_tlog,
        log: super::keyless::log_verifier(args)?,
    };
    let (loc, rt) = super::sign::target(&args.reference, offline)?;
    let verdict = rt
        .block_on(async {
            let ctx = super::registry::context(&args.registry)?;
            let store = ctx.store(&loc, false)?;
            let image = super::sign::resolve(&store, &loc).await?;
            verify::verify(&store, &Subject::of(&image), &policy).await
        })
        .map_err(|e: OciError| Error::Image(e))?;
    let out = if args.json {
        let v = serde_json::to_value(&verdict).map_err(|e| Error::Usage(e.to_string()))?;
        format!("{v:#}\n")
    } else if verdict.verified {
        let mut s = format!("verified {}\n", verdict.digest);
        for c in verdict.signatures.iter().filter(|c| c.verified) {
            s.push_str(&format!(
                "  {} {} ({})\n",
                c.format,
                c.location,
                if args.insecure_ignore_tlog {
                    "no transparency-log entry checked"
                } else {
                    "transparency-log entry checked"
                }
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
