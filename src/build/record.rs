//! Digest records: what one fan-out runner built (repository, platform, digest, size, source
//! revision), written with `--record FILE` and read back by `cicd build merge`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::BuildError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// `docker://HOST/REPO` or `oci:PATH`, without tag or digest.
    pub repository: String,
    pub platform: String,
    pub digest: String,
    pub size: u64,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

impl Record {
    pub fn write(&self, path: &Path) -> Result<(), BuildError> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| BuildError::Usage(format!("record: {e}")))?;
        bytes.push(b'\n');
        crate::fs::write_atomically(path, &bytes).map_err(BuildError::io(path))
    }

    /// Reads and checks one record (exit 2 naming the file when it is not one).
    pub fn read(path: &Path) -> Result<Self, BuildError> {
        let bad = |reason: String| BuildError::Input {
            path: path.to_path_buf(),
            reason,
        };
        // A record is a few hundred bytes; an endless file is refused at the cap.
        let bytes = crate::fs::read_bounded(path, 1 << 20)
            .map_err(|e| bad(format!("cannot be read: {e}")))?;
        let r: Record = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not a cicd build record: {e}")))?;
        crate::oci::digest::sha256_hex(&r.digest).map_err(|e| bad(format!("digest: {e}")))?;
        super::platform::parse(&r.platform).map_err(bad)?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_refuse_junk() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("r.json");
        let r = Record {
            repository: "docker://127.0.0.1:5000/app".into(),
            platform: "linux/arm64".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            size: 10,
            media_type: crate::oci::manifest::OCI_MANIFEST.into(),
            revision: None,
        };
        r.write(&path).expect("write");
        assert_eq!(Record::read(&path).expect("read"), r);
        std::fs::write(&path, r#"{"repository":"x","platform":"linux/arm64","digest":"sha256:../x","size":1,"mediaType":"m"}"#).expect("w");
        assert!(Record::read(&path).is_err());
        assert!(Record::read(&dir.path().join("missing")).is_err());
    }
}
