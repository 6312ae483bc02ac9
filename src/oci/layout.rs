//! OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), the format
//! skopeo's `oci:` transport reads and writes. Blobs land in a temporary file first and are
//! renamed into place only after their digest checked out.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::digest::{Verifier, sha256_hex};
use super::error::OciError;
use super::manifest::{Descriptor, REF_NAME};

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
/// Manifests and configs are read whole; anything larger is not one.
const SMALL_BLOB_MAX: u64 = 4 << 20;

#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// An existing layout.
    pub fn open(root: &Path) -> Result<Self, OciError> {
        let marker = root.join(LAYOUT_FILE);
        let text = fs::read_to_string(&marker).map_err(|e| OciError::Layout {
            path: root.to_path_buf(),
            message: format!("not an OCI image layout (reading {LAYOUT_FILE}: {e})"),
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|e| OciError::Layout {
            path: root.to_path_buf(),
            message: format!("{LAYOUT_FILE} is not JSON: {e}"),
        })?;
        if v.get("imageLayoutVersion").and_then(Value::as_str) != Some("1.0.0") {
            return Err(OciError::Layout {
                path: root.to_path_buf(),
                message: "unsupported imageLayoutVersion (expected 1.0.0)".into(),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The layout at `root`, created (with an empty index) when the directory has none.
    pub fn create(root: &Path) -> Result<Self, OciError> {
        if root.join(LAYOUT_FILE).exists() {
            return Self::open(root);
        }
        let io = OciError::io(root);
        fs::create_dir_all(root.join("blobs/sha256")).map_err(io)?;
        write_atomic(
            &root.join(LAYOUT_FILE),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        if !root.join(INDEX_FILE).exists() {
            let index = json!({"schemaVersion": 2, "mediaType": super::manifest::OCI_INDEX, "manifests": []});
            write_atomic(&root.join(INDEX_FILE), index.to_string().as_bytes())?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, OciError> {
        Ok(self.root.join("blobs/sha256").join(sha256_hex(digest)?))
    }

    pub fn has_blob(&self, digest: &str, size: u64) -> bool {
        self.blob_path(digest)
            .ok()
            .and_then(|p| fs::metadata(p).ok())
            .is_some_and(|m| m.len() == size)
    }

    /// A whole blob (for manifests and configs, so at most 4 MiB), verified against its digest.
    pub fn read_verified(&self, digest: &str) -> Result<Vec<u8>, OciError> {
        let path = self.blob_path(digest)?;
        if fs::metadata(&path).is_ok_and(|m| m.len() > SMALL_BLOB_MAX) {
            return Err(OciError::Manifest(format!(
                "{digest} in oci:{} is larger than 4 MiB: not a manifest or config",
                self.root.display()
            )));
        }
        let bytes = fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => OciError::NotFound {
                what: format!("blob {digest}"),
                place: format!("oci:{}", self.root.display()),
            },
            _ => OciError::Io { path, source: e },
        })?;
        let mut v = Verifier::new(digest)?;
        v.update(&bytes);
        v.finish(None, "blob", &format!("oci:{}", self.root.display()))?;
        Ok(bytes)
    }

    /// Opens a blob for streaming; the reader must verify it.
    pub fn open_blob(&self, digest: &str) -> Result<fs::File, OciError> {
        let path = self.blob_path(digest)?;
        fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => OciError::NotFound {
                what: format!("blob {digest}"),
                place: format!("oci:{}", self.root.display()),
            },
            _ => OciError::Io { path, source: e },
        })
    }

    /// A writer for one blob; [`BlobWriter::commit`] verifies it and moves it into place.
    pub fn blob_writer(&self, digest: &str, size: u64) -> Result<BlobWriter, OciError> {
        let dir = self.root.join("blobs/sha256");
        fs::create_dir_all(&dir).map_err(OciError::io(&dir))?;
        let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(OciError::io(&dir))?;
        Ok(BlobWriter {
            verifier: Verifier::new(digest)?,
            path: self.blob_path(digest)?,
            size,
            out: BufWriter::with_capacity(1 << 20, tmp),
            place: format!("oci:{}", self.root.display()),
        })
    }

    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> Result<(), OciError> {
        if self.has_blob(digest, bytes.len() as u64) {
            return Ok(());
        }
        let mut w = self.blob_writer(digest, bytes.len() as u64)?;
        w.write(bytes)?;
        w.commit()
    }

    /// The manifests `index.json` lists (tagged or not).
    pub fn entries(&self) -> Result<Vec<Descriptor>, OciError> {
        let index = self.index()?;
        let list = index.get("manifests").cloned().unwrap_or(Value::Null);
        serde_json::from_value(list).map_err(|e| OciError::Layout {
            path: self.root.clone(),
            message: format!("{INDEX_FILE} has a malformed `manifests` list: {e}"),
        })
    }

    /// The descriptor for `tag`, for `digest`, or (neither given) the only manifest listed.
    pub fn resolve(&self, tag: Option<&str>, digest: Option<&str>) -> Result<Descriptor, OciError> {
        let entries = self.entries()?;
        let place = format!("oci:{}", self.root.display());
        if let Some(d) = digest {
            if let Some(e) = entries.iter().find(|e| e.digest == d) {
                return Ok(e.clone());
            }
            // A child of an index or an attachment is not listed, but is a blob here.
            let bytes = self.read_verified(d)?;
            let m = super::manifest::Manifest::parse(&bytes, None)?;
            return Ok(Descriptor {
                media_type: m.media_type,
                digest: d.to_owned(),
                size: bytes.len() as u64,
                ..Descriptor::default()
            });
        }
        match tag {
            Some(t) => entries
                .into_iter()
                .find(|e| ref_name(e) == Some(t))
                .ok_or_else(|| OciError::NotFound {
                    what: format!("tag `{t}`"),
                    place,
                }),
            None if entries.len() == 1 => Ok(entries.into_iter().next().unwrap_or_default()),
            None => Err(OciError::Layout {
                path: self.root.clone(),
                message: format!(
                    "lists {} images; name one with oci:{}:TAG",
                    entries.len(),
                    self.root.display()
                ),
            }),
        }
    }

    /// Records `desc` in `index.json`, under `tag` (replacing what it named) or untagged.
    pub fn set_ref(&self, tag: Option<&str>, desc: &Descriptor) -> Result<(), OciError> {
        let mut index = self.index()?;
        let mut entry = Descriptor {
            media_type: desc.media_type.clone(),
            digest: desc.digest.clone(),
            size: desc.size,
            platform: None,
            artifact_type: None,
            annotations: None,
        };
        if let Some(t) = tag {
            entry.annotations = Some([(REF_NAME.to_owned(), t.to_owned())].into());
        }
        let entry = serde_json::to_value(&entry).map_err(|e| OciError::Layout {
            path: self.root.clone(),
            message: e.to_string(),
        })?;
        let list = index
            .as_object_mut()
            .map(|o| o.entry("manifests").or_insert_with(|| json!([])));
        let Some(Value::Array(list)) = list else {
            return Err(OciError::Layout {
                path: self.root.clone(),
                message: format!("{INDEX_FILE} is not an index"),
            });
        };
        list.retain(|e| match tag {
            Some(t) => {
                e.pointer(&format!("/annotations/{}", REF_NAME.replace('/', "~1")))
                    .and_then(Value::as_str)
                    != Some(t)
            }
            None => {
                e.get("digest").and_then(Value::as_str) != Some(desc.digest.as_str())
                    || e.get("annotations").is_some()
            }
        });
        list.push(entry);
        let bytes = serde_json::to_vec(&index).map_err(|e| OciError::Layout {
            path: self.root.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&self.root.join(INDEX_FILE), &bytes)
    }

    fn index(&self) -> Result<Value, OciError> {
        let path = self.root.join(INDEX_FILE);
        let text = fs::read(&path).map_err(OciError::io(&path))?;
        let v: Value = serde_json::from_slice(&text).map_err(|e| OciError::Layout {
            path: self.root.clone(),
            message: format!("{INDEX_FILE} is not JSON: {e}"),
        })?;
        if !v.is_object() {
            return Err(OciError::Layout {
                path: self.root.clone(),
                message: format!("{INDEX_FILE} is not an index"),
            });
        }
        Ok(v)
    }
}

pub fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
}

/// One blob being written: hashed as it is written, renamed into place when complete.
pub struct BlobWriter {
    verifier: Verifier,
    path: PathBuf,
    size: u64,
    out: BufWriter<tempfile::NamedTempFile>,
    place: String,
}

impl BlobWriter {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OciError> {
        self.verifier.update(bytes);
        self.out.write_all(bytes).map_err(OciError::io(&self.path))
    }

    /// Copies everything from `reader` (a file in another layout).
    pub fn copy_from(&mut self, mut reader: impl Read) -> Result<(), OciError> {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf).map_err(OciError::io(&self.path))?;
            if n == 0 {
                return Ok(());
            }
            self.write(&buf[..n])?;
        }
    }

    pub fn commit(self) -> Result<(), OciError> {
        let BlobWriter {
            verifier,
            path,
            size,
            out,
            place,
        } = self;
        verifier.finish(Some(size), "blob", &place)?;
        let tmp = out.into_inner().map_err(|e| OciError::Io {
            path: path.clone(),
            source: e.into_error(),
        })?;
        tmp.persist(&path).map_err(|e| OciError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    crate::fs::write_atomically(path, bytes).map_err(OciError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::digest::sha256;

    #[test]
    fn writes_reads_and_tags() {
        let dir = tempfile::tempdir().expect("tmp");
        let l = Layout::create(dir.path()).expect("create");
        let blob = b"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:00\",\"size\":0}}";
        let d = sha256(blob);
        l.write_blob(&d, blob).expect("write");
        assert_eq!(l.read_verified(&d).expect("read"), blob);
        let desc = Descriptor {
            media_type: crate::oci::manifest::OCI_MANIFEST.into(),
            digest: d.clone(),
            size: blob.len() as u64,
            ..Descriptor::default()
        };
        l.set_ref(Some("v1"), &desc).expect("tag");
        l.set_ref(Some("v1"), &desc).expect("tag again");
        assert_eq!(l.entries().expect("entries").len(), 1);
        assert_eq!(l.resolve(Some("v1"), None).expect("v1").digest, d);
        assert_eq!(l.resolve(None, None).expect("only").digest, d);
        assert!(l.resolve(Some("v2"), None).is_err());
        // A wrong digest never lands.
        let mut w = l.blob_writer(&sha256(b"x"), 1).expect("writer");
        w.write(b"y").expect("write");
        assert!(matches!(w.commit(), Err(OciError::DigestMismatch { .. })));
        assert!(!l.has_blob(&sha256(b"x"), 1));
        assert!(Layout::open(&dir.path().join("nope")).is_err());
    }

    proptest::proptest! {
        /// Whatever order tags are set in, each names the last manifest given to it, once.
        #[test]
        fn tags_name_the_last_manifest_set(ops in proptest::collection::vec((0u8..4, 0u8..3), 1..12)) {
            let dir = tempfile::tempdir().expect("tmp");
            let l = Layout::create(dir.path()).expect("create");
            let mut expected = std::collections::HashMap::new();
            for (tag, m) in &ops {
                let bytes = format!("{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"c\",\"digest\":\"sha256:{m}\",\"size\":0}}}}");
                let d = sha256(bytes.as_bytes());
                l.write_blob(&d, bytes.as_bytes()).expect("blob");
                let desc = Descriptor { media_type: crate::oci::manifest::OCI_MANIFEST.into(), digest: d.clone(), size: bytes.len() as u64, ..Descriptor::default() };
                let name = format!("t{tag}");
                l.set_ref(Some(&name), &desc).expect("tag");
                expected.insert(name, d);
            }
            let entries = l.entries().expect("entries");
            proptest::prop_assert_eq!(entries.len(), expected.len());
            for (tag, d) in &expected {
                proptest::prop_assert_eq!(&l.resolve(Some(tag), None).expect("tagged").digest, d);
            }
        }
    }
}
