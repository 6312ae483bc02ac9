//! What keyless signing talks to and what verification trusts, from one file: sigstore's
//! client trust config (`--trust-config`, the JSON sigstore-python reads: `trustedRoot` +
//! `signingConfig`), or a bare `trusted_root.json` for verification only. Without a file,
//! the snapshot of Sigstore's public-good instance embedded in sigstore-trust-root.
//! Parsing and selection of services are sigstore-trust-root's and sigstore-sign's.

use std::path::{Path, PathBuf};

use sigstore_sign::SigningServices;
use sigstore_trust_root::{SigningConfig, SigstoreInstance, TrustedRoot};

use super::KeylessError;

/// The most bytes a trust file may have.
const MAX_BYTES: u64 = 4 << 20;

/// The trusted root, and the signing config when the source has one.
#[derive(Debug)]
pub struct Trust {
    pub root: TrustedRoot,
    pub signing: Option<SigningConfig>,
    /// Where it came from, for messages.
    pub source: String,
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> KeylessError {
    KeylessError::TrustFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Loads `path`, or the embedded public-good snapshot without one.
pub fn load(path: Option<&Path>) -> Result<Trust, KeylessError> {
    let Some(path) = path else {
        let instance = SigstoreInstance::PublicGood;
        let embedded = |e: sigstore_trust_root::Error| {
            KeylessError::Usage(format!("the embedded public-good trust root: {e}"))
        };
        return Ok(Trust {
            root: instance.embedded_trusted_root().map_err(embedded)?,
            signing: instance.embedded_signing_config().map_err(embedded)?,
            source: "Sigstore public-good (embedded snapshot)".into(),
        });
    };
    // The file the user named, through any symlink; but a device or FIFO (`/dev/zero`)
    // would never end, and a size can change between the check and the read.
    let bytes = crate::fs::read_found(path, MAX_BYTES).map_err(|e| file_error(path, e))?;
    if bytes.is_empty() {
        return Err(file_error(path, "empty (expected a trust config's JSON)"));
    }
    let text = String::from_utf8(bytes).map_err(|_| file_error(path, "not UTF-8 text"))?;
    parse(&text, path)
}

/// A client trust config, or a bare trusted root.
pub fn parse(text: &str, path: &Path) -> Result<Trust, KeylessError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| file_error(path, format!("not JSON: {e}")))?;
    let media = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    let source = path.display().to_string();
    if media.starts_with("application/vnd.dev.sigstore.clienttrustconfig") {
        let part = |name: &str| {
            value
                .get(name)
                .map(|v| v.to_string())
                .ok_or_else(|| file_error(path, format!("client trust config without `{name}`")))
        };
        let root = TrustedRoot::from_json(&part("trustedRoot")?)
            .map_err(|e| file_error(path, format!("trustedRoot: {e}")))?;
        let signing = SigningConfig::from_json(&part("signingConfig")?)
            .map_err(|e| file_error(path, format!("signingConfig: {e}")))?;
        Ok(Trust {
            root,
            signing: Some(signing),
            source,
        })
    } else if media.starts_with("application/vnd.dev.sigstore.trustedroot") {
        let root = TrustedRoot::from_json(text)
            .map_err(|e| file_error(path, format!("trusted root: {e}")))?;
        Ok(Trust {
            root,
            signing: None,
            source,
        })
    } else {
        Err(file_error(
            path,
            format!(
                "mediaType `{media}` is neither a sigstore client trust config nor a trusted root"
            ),
        ))
    }
}

impl Trust {
    /// The Fulcio, Rekor and TSA endpoints to sign with.
    pub fn services(&self) -> Result<SigningServices, KeylessError> {
        let config = self.signing.as_ref().ok_or_else(|| {
            KeylessError::Usage(format!(
                "{}: a trusted root names no services; keyless signing needs a client trust config with a signingConfig",
                self.source
            ))
        })?;
        SigningServices::from_signing_config(config)
            .map_err(|e| KeylessError::Usage(format!("{}: signing config: {e}", self.source)))
    }
}

/// Where `--trust-config` pointed, for messages.
pub fn describe(path: Option<&PathBuf>) -> String {
    path.map_or_else(
        || "Sigstore public-good (embedded snapshot)".to_owned(),
        |p| p.display().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_public_good_loads_with_services() {
        let t = load(None).expect("embedded");
        assert!(!t.root.tlogs.is_empty());
        let s = t.services().expect("services");
        assert!(s.fulcio_url().starts_with("https://"), "{}", s.fulcio_url());
    }

    #[test]
    fn malformed_files_are_refused_with_the_path() {
        let p = Path::new("t.json");
        for bad in [
            "",
            "[]",
            "{\"mediaType\":\"x\"}",
            "{\"mediaType\":\"application/vnd.dev.sigstore.clienttrustconfig.v0.1+json\"}",
            "{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":7}",
        ] {
            let e = parse(bad, p).expect_err(bad).to_string();
            assert!(e.starts_with("t.json: "), "{e}");
        }
    }
}
