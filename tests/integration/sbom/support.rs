//! The sbom tests' own plumbing: the cached real package trees (built once by
//! `scripts/test` with `data/sbom/prepare.sh` from the Debian mirror, PyPI and npm), and an OCI layout writer that
//! packs tar layers (gzip, streamed to disk) the way an image builder does.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{data, repo_root};

/// The prepared data: `rootfs.tar`, `dpkg-query.txt`, `py/`, `node/`, built once by
/// `scripts/test` (which runs `data/sbom/prepare.sh` before the suite, like any tool install):
/// the tests themselves reach no network. A missing cache fails with the command to run.
pub fn prepared() -> PathBuf {
    let script = data("sbom/prepare.sh");
    let text = fs::read(&script).expect("prepare.sh");
    let stamp = hex(&Sha256::digest(&text))[..16].to_owned();
    let out = repo_root().join(format!("target/test-data/sbom-{stamp}"));
    assert!(
        out.join("dpkg-query.txt").exists(),
        "the sbom test data is not prepared: run scripts/test (or `bash \
         tests/integration/data/sbom/prepare.sh {}`; needs mmdebstrap, pip and npm)",
        out.display()
    );
    out
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One layer being written: a tar stream, gzip-compressed into the layout's blob directory.
pub struct LayerWriter {
    tar: tar::Builder<flate2::write::GzEncoder<Hashing<fs::File>>>,
    tmp: PathBuf,
    blobs: PathBuf,
}

pub struct Hashing<W> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A layer descriptor as the manifest lists it.
#[derive(Clone, Debug)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
}

impl LayerWriter {
    pub fn new(layout: &Path) -> Self {
        let blobs = layout.join("blobs/sha256");
        fs::create_dir_all(&blobs).expect("blobs dir");
        let tmp = blobs.join(format!("tmp-{}", std::process::id()));
        let file = fs::File::create(&tmp).expect("layer file");
        let hashing = Hashing {
            inner: file,
            hash: Sha256::new(),
            len: 0,
        };
        let gz = flate2::write::GzEncoder::new(hashing, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        Self { tar, tmp, blobs }
    }

    pub fn file(&mut self, path: &str, contents: &[u8]) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        h.set_size(contents.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar
            .append_data(&mut h, path, contents)
            .expect("append file");
        self
    }

    /// An empty whiteout file (`.wh.NAME` or `.wh..wh..opq`).
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        self.file(path, b"")
    }

    /// Everything under `dir` on disk, placed at `at` in the layer.
    pub fn dir(&mut self, at: &str, dir: &Path) -> &mut Self {
        self.tar.append_dir_all(at, dir).expect("append dir");
        self
    }

    /// Every entry of an existing tar stream (a root filesystem from mmdebstrap).
    pub fn tar_stream(&mut self, r: impl Read) -> &mut Self {
        let mut archive = tar::Archive::new(r);
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let mut header = entry.header().clone();
            let path = entry.path().expect("path").into_owned();
            let link = entry
                .link_name()
                .expect("link name")
                .map(|l| l.into_owned());
            match (entry.header().entry_type(), link) {
                (tar::EntryType::Symlink | tar::EntryType::Link, Some(target)) => self
                    .tar
                    .append_link(&mut header, &path, &target)
                    .expect("append link"),
                _ => self
                    .tar
                    .append_data(&mut header, &path, &mut entry)
                    .expect("append entry"),
            }
        }
        self
    }

    pub fn finish(self) -> Blob {
        let gz = self.tar.into_inner().expect("finish tar");
        let mut hashing = gz.finish().expect("finish gzip");
        hashing.flush().expect("flush");
        let digest = format!("sha256:{}", hex(&hashing.hash.finalize()));
        fs::rename(&self.tmp, self.blobs.join(&digest[7..])).expect("rename blob");
        Blob {
            digest,
            size: hashing.len,
        }
    }
}

pub fn put_blob(layout: &Path, bytes: &[u8]) -> Blob {
    let blobs = layout.join("blobs/sha256");
    fs::create_dir_all(&blobs).expect("blobs dir");
    let digest = format!("sha256:{}", hex(&Sha256::digest(bytes)));
    fs::write(blobs.join(&digest[7..]), bytes).expect("write blob");
    Blob {
        digest,
        size: bytes.len() as u64,
    }
}

/// Writes config + manifest for `layers`, returning the manifest blob.
pub fn image(layout: &Path, arch: &str, layers: &[Blob]) -> Blob {
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.clone()).collect();
    let config = json!({
        "architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}
    });
    let config = put_blob(layout, config.to_string().as_bytes());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.digest, "size": config.size},
        "layers": layers.iter().map(|l| json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l.digest, "size": l.size
        })).collect::<Vec<_>>()
    });
    put_blob(layout, manifest.to_string().as_bytes())
}

/// Writes `oci-layout` and `index.json` naming `manifest` as `tag`.
pub fn index_json(layout: &Path, tag: &str, media_type: &str, manifest: &Blob) {
    fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media_type, "digest": manifest.digest, "size": manifest.size,
            "annotations": {"org.opencontainers.image.ref.name": tag}
        }]
    });
    fs::write(layout.join("index.json"), index.to_string()).expect("index.json");
}

/// A one-image layout holding `layers`.
pub fn single(layout: &Path, tag: &str, layers: &[Blob]) -> Blob {
    let m = image(layout, "amd64", layers);
    index_json(
        layout,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        &m,
    );
    m
}

/// Components of one cataloger from a CycloneDX document, as `name version purl`.
pub fn components(doc: &Value, cataloger: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| {
            c["properties"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|p| p["name"] == "cicd:cataloger" && p["value"] == cataloger)
            })
        })
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["version"].as_str().unwrap_or_default().to_owned(),
                c["purl"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}
