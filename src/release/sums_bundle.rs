//! The release's own signature over its files: `SHA256SUMS.sigstore.json`, a Sigstore bundle
//! (v0.3, DSSE) of an in-toto statement whose subjects are every release asset and
//! `SHA256SUMS` itself (name and SHA-256), with cosign's custom predicate carrying the
//! `SHA256SUMS` text, as `cosign attest-blob` would write it. Signed the way the release signs
//! its images: with the cosign key (its Rekor entry in the bundle unless `tlog-upload: false`),
//! or keylessly (Fulcio certificate and Rekor entry). Any
//! Sigstore verifier checks an asset against it (`sigstore verify identity --bundle
//! SHA256SUMS.sigstore.json FILE`): the file's digest must be one of the subjects.

use std::path::Path;

use serde_json::json;

use super::PipelineError;
use super::assets::{self, AssetFile};
use super::evidence::Signer;
use crate::sign::{attest, bundle, dsse, statement};

/// The bundle's file name, beside `SHA256SUMS`.
pub const NAME: &str = "SHA256SUMS.sigstore.json";

/// The statement over `files` (every asset, `SHA256SUMS` among them), sorted by name.
pub fn statement(files: &[AssetFile], sums_text: &str, created: &str) -> Vec<u8> {
    let mut subjects: Vec<serde_json::Value> = files
        .iter()
        .map(|f| json!({"name": f.name, "digest": {"sha256": f.sha256}}))
        .collect();
    subjects.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let s = json!({
        "_type": statement::STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": attest::CUSTOM,
        "predicate": attest::custom_predicate(sums_text, created),
    });
    serde_json::to_vec(&s).unwrap_or_default()
}

/// Signs the statement over `files` and writes the bundle into `dist`; returns it as an
/// asset. `files` must hold `SHA256SUMS`.
pub async fn write(
    signer: &Signer<'_>,
    files: &[AssetFile],
    dist: &Path,
    created: &str,
) -> Result<AssetFile, PipelineError> {
    if !files.iter().any(|f| f.name == assets::SUMS) {
        return Err(PipelineError::Plan(format!(
            "{NAME}: no {} to sign",
            assets::SUMS
        )));
    }
    // The text `collect_assets` wrote (`sums` leaves SHA256SUMS itself out), not read back.
    let sums_text = assets::sums(files);
    let payload = statement(files, &sums_text, created);
    let bytes = match signer {
        Signer::Key(key, log) => {
            let envelope = dsse::sign(key, statement::PAYLOAD_TYPE, payload);
            // Logged in Rekor like the release's other key-based evidence, unless
            // `tlog-upload: false`.
            let entries = match log {
                Some(log) => vec![log.upload(&envelope, key.verifying_key()).await?],
                None => Vec::new(),
            };
            let b = bundle::key_based(key.verifying_key(), envelope, entries);
            bundle::to_bytes(&b).map_err(PipelineError::Plan)?
        }
        Signer::Keyless(req) => {
            let (b, _) = crate::sign::keyless::sign::sign_raw(&payload, req)
                .await
                .map_err(PipelineError::Keyless)?;
            bundle::to_bytes(&b).map_err(PipelineError::Plan)?
        }
    };
    let path = dist.join(NAME);
    crate::fs::write_atomically(&path, &bytes)
        .map_err(|e| PipelineError::Plan(format!("{}: {e}", path.display())))?;
    AssetFile::read(&path).map_err(PipelineError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_a_subject_sorted_by_name() {
        let d = tempfile::tempdir().expect("tmp");
        let mut files = Vec::new();
        for (name, text) in [
            ("b.tar.gz", "b"),
            (assets::SUMS, "x  b.tar.gz\n"),
            ("a.json", "a"),
        ] {
            std::fs::write(d.path().join(name), text).expect("write");
            files.push(AssetFile::read(&d.path().join(name)).expect("read"));
        }
        let s: serde_json::Value =
            serde_json::from_slice(&statement(&files, "x  b.tar.gz\n", "2026-01-01T00:00:00Z"))
                .expect("json");
        let names: Vec<&str> = s["subject"]
            .as_array()
            .expect("subjects")
            .iter()
            .map(|v| v["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["SHA256SUMS", "a.json", "b.tar.gz"]);
        assert_eq!(
            s["subject"][1]["digest"]["sha256"],
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        );
        assert_eq!(s["predicateType"], attest::CUSTOM);
        assert_eq!(s["predicate"]["Data"], "x  b.tar.gz\n");
    }
}
