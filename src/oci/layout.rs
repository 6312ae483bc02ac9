//! OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), the format
//! skopeo's `oci:` transport reads and writes. Blobs land in a temporary file first and are
//! renamed into place only after their digest checked out.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::blob::{self, BlobStream};
use super::confine::{Confined, Refusal};
use super::digest::{Digest, Mismatch, Verifier};
use super::error::OciError;
use super::manifest::{Descriptor, REF_NAME};

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
/// `oci-layout` and `index.json` list manifests, not content; a larger one is refused.
const MAX_LAYOUT_FILE: u64 = 64 << 20;
/// Manifests and configs are read whole; anything larger is not one.
const SMALL_BLOB_MAX: u64 = 4 << 20;

#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
    confined: Confined,
}

impl Layout {
    /// An existing layout.
    pub fn open(root: &Path) -> Result<Self, OciError> {
        let confined = Confined::new(root).map_err(|e| OciError::Layout {
            path: root.to_path_buf(),
            message: format!("not an OCI image layout ({e})"),
        })?;
        let layout = Self {
            root: root.to_path_buf(),
            confined,
        };
        let text = layout
            .read_file(LAYOUT_FILE)
            .map_err(|e| OciError::Layout {
                path: root.to_path_buf(),
                message: format!("not an OCI image layout ({LAYOUT_FILE} {e})"),
            })?;
        let v: Value = serde_json::from_slice(&text).map_err(|e| OciError::Layout {
            path: root.to_path_buf(),
            message: format!("{LAYOUT_FILE} is not JSON: {e}"),
        })?;
        if v.get("imageLayoutVersion").and_then(Value::as_str) != Some("1.0.0") {
            return Err(OciError::Layout {
                path: root.to_path_buf(),
                message: "unsupported imageLayoutVersion (expected 1.0.0)".into(),
            });
        }
        Ok(layout)
    }

    /// The layout at `root`, created (with an empty index) when the directory has none.
    pub fn create(root: &Path) -> Result<Self, OciError> {
        if fs::symlink_metadata(root.join(LAYOUT_FILE)).is_ok() {
            return Self::open(root);
        }
        let bad = |message: String| OciError::Layout {
            path: root.to_path_buf(),
            message,
        };
        if fs::metadata(root).is_ok_and(|m| !m.is_dir()) {
            return Err(bad("exists and is not a directory".into()));
        }
        fs::create_dir_all(root.join("blobs/sha256"))
            .map_err(|e| bad(format!("cannot create it: {e}")))?;
        let confined = Confined::new(root).map_err(|e| bad(e.to_string()))?;
        write_atomic(
            &root.join(LAYOUT_FILE),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        if fs::symlink_metadata(root.join(INDEX_FILE)).is_err() {
            let index = json!({"schemaVersion": 2, "mediaType": super::manifest::OCI_INDEX, "manifests": []});
            write_atomic(&root.join(INDEX_FILE), index.to_string().as_bytes())?;
        }
        Ok(Self {
            root: root.to_path_buf(),
            confined,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `oci:PATH`, how messages name this layout.
    pub fn describe(&self) -> String {
        format!("oci:{}", self.root.display())
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// Whether the blob is here with that size (a regular file: a link is rewritten).
    pub fn has_blob(&self, digest: &Digest, size: u64) -> bool {
        fs::symlink_metadata(self.blob_path(digest)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    fn layout_error(&self, path: &Path, why: impl std::fmt::Display) -> OciError {
        OciError::Layout {
            path: self.root.clone(),
            message: format!("{}: {why}", path.display()),
        }
    }

    /// A file of the layout, read whole, refusing links out of it and special files.
    fn read_file(&self, name: &str) -> Result<Vec<u8>, String> {
        let path = self.root.join(name);
        let file = self.confined.open(&path).map_err(|r| r.to_string())?;
        crate::fs::read_capped(file, MAX_LAYOUT_FILE).map_err(|e| e.to_string())
    }

    /// Opens a blob for reading (the reader must verify it).
    pub fn open_blob(&self, digest: &Digest) -> Result<fs::File, OciError> {
        let path = self.blob_path(digest);
        self.confined.open(&path).map_err(|r| match r {
            Refusal::Missing => OciError::Layout {
                path: self.root.clone(),
                message: format!("blob {digest} is missing ({})", path.display()),
            },
            other => self.layout_error(&path, other),
        })
    }

    /// The error for a blob of this layout whose bytes do not match its digest.
    pub fn corrupt(&self, digest: &Digest, Mismatch(actual): Mismatch) -> OciError {
        OciError::Layout {
            path: self.root.clone(),
            message: format!(
                "blob {digest} does not match its digest: {} holds {actual}; the layout is damaged, nothing was sent or tagged",
                self.blob_path(digest).display()
            ),
        }
    }

    /// A whole blob (for manifests and configs, so at most 4 MiB), verified against its digest.
    pub fn read_verified(&self, digest: &Digest) -> Result<Vec<u8>, OciError> {
        let path = self.blob_path(digest);
        let file = self.open_blob(digest)?;
        let bytes = crate::fs::read_capped(file, SMALL_BLOB_MAX).map_err(|e| {
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                self.layout_error(
                    &path,
                    format!("{digest} is larger than 4 MiB: not a manifest or config"),
                )
            } else {
                OciError::io(&path)(e)
            }
        })?;
        let mut v = Verifier::new(digest);
        v.update(&bytes);
        v.check(None).map_err(|m| self.corrupt(digest, m))?;
        Ok(bytes)
    }

    /// A blob as a verified stream: a damaged blob ends it with an error naming this layout.
    pub fn blob_stream(&self, desc: &Descriptor) -> Result<BlobStream, OciError> {
        let file = self.open_blob(&desc.digest)?;
        let raw = blob::from_file(file, self.blob_path(&desc.digest));
        let this = self.clone();
        let digest = desc.digest.clone();
        Ok(blob::verified(
            raw,
            &desc.digest,
            desc.size,
            Box::new(move |m| this.corrupt(&digest, m)),
        ))
    }

    /// A writer for one blob; [`BlobWriter::commit`] verifies it and moves it into place.
    pub fn blob_writer(&self, digest: &Digest, size: u64) -> Result<BlobWriter, OciError> {
        let path = self.blob_path(digest);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(OciError::io(&dir))?;
        let tmp = crate::fs::temp_file_in(&dir).map_err(OciError::io(&dir))?;
        Ok(BlobWriter {
            verifier: Verifier::new(digest),
            path,
            size,
            out: BufWriter::with_capacity(1 << 20, tmp),
            place: self.describe(),
        })
    }

    pub fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<(), OciError> {
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
    pub fn resolve(
        &self,
        tag: Option<&str>,
        digest: Option<&Digest>,
    ) -> Result<Descriptor, OciError> {
        let entries = self.entries()?;
        let place = self.describe();
        if let Some(d) = digest {
            if let Some(e) = entries.iter().find(|e| &e.digest == d) {
                return Ok(e.clone());
            }
            // A child of an index or an attachment is not listed, but is a blob here.
            let bytes = self.read_verified(d)?;
            let m = super::manifest::Manifest::parse(&bytes, None)?;
            return Ok(Descriptor {
                media_type: m.media_type,
                digest: d.clone(),
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
        // `index.json` is read, changed and rewritten: writers in this process (a release's
        // images run at once) take turns, so no entry is lost.
        static INDEX_WRITE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = INDEX_WRITE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        let text = self.read_file(INDEX_FILE).map_err(|e| OciError::Layout {
            path: self.root.clone(),
            message: format!("{INDEX_FILE} {e}"),
        })?;
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

    /// Names where the bytes come from, for the error when they do not match.
    pub fn from_source(mut self, place: String) -> Self {
        self.place = place;
        self
    }

    /// Moves the writer to a blocking thread: bytes sent on the channel are written there,
    /// and the future gives the writer back (to commit) once the channel is closed.
    pub fn spawn(
        mut self,
    ) -> (
        tokio::sync::mpsc::Sender<bytes::Bytes>,
        futures_util::future::BoxFuture<'static, Result<BlobWriter, OciError>>,
    ) {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(64);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = rx.blocking_recv() {
                self.write(&chunk)?;
            }
            Ok(self)
        });
        let done = async move {
            task.await
                .map_err(|e| OciError::Unsupported(format!("blob write task failed: {e}")))?
        };
        (tx, Box::pin(done))
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

    #[test]
    fn writes_reads_and_tags() {
        let dir = tempfile::tempdir().expect("tmp");
        let l = Layout::create(dir.path()).expect("create");
        let blob = b"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:00\",\"size\":0}}";
        let d = Digest::of(blob);
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
        let mut w = l.blob_writer(&Digest::of(b"x"), 1).expect("writer");
        w.write(b"y").expect("write");
        assert!(matches!(w.commit(), Err(OciError::DigestMismatch { .. })));
        assert!(!l.has_blob(&Digest::of(b"x"), 1));
        assert!(Layout::open(&dir.path().join("nope")).is_err());
        // A damaged or missing blob is the layout's fault, named with its path (exit 2).
        std::fs::write(l.blob_path(&d), vec![b'x'; blob.len()]).expect("damage");
        let e = l.read_verified(&d).expect_err("damaged");
        assert!(
            e.is_bad_input() && e.to_string().contains(d.as_str()),
            "{e}"
        );
        std::fs::remove_file(l.blob_path(&d)).expect("rm");
        let e = l.read_verified(&d).expect_err("missing");
        assert!(e.is_bad_input() && e.to_string().contains("missing"), "{e}");
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
                let d = Digest::of(bytes.as_bytes());
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
