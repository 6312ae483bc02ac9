//! Small real images written as OCI layouts: a tar layer, an image config naming the
//! platform, a manifest, and optionally an index over several platforms.

use std::path::Path;

use cicd::oci::digest::sha256;
use serde_json::{Value, json};

pub struct Written {
    pub digest: String,
    pub children: Vec<String>,
}

pub fn put(dir: &Path, bytes: &[u8]) -> (String, u64) {
    let d = sha256(bytes);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    std::fs::write(blobs.join(&d[7..]), bytes).expect("write blob");
    (d, bytes.len() as u64)
}

/// A one-file tar archive of `size` pseudo-random bytes (seeded, so digests are stable).
pub fn tar_layer(name: &str, size: usize, seed: u64) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    let sz = format!("{size:011o}");
    header[124..135].copy_from_slice(sz.as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = header.to_vec();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    out.reserve(size + 1536);
    for _ in 0..size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push((x >> 24) as u8);
    }
    let pad = (512 - size % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad + 1024));
    out
}

/// Writes an image manifest for `arch` (blobs only; not listed in index.json).
pub fn image(dir: &Path, arch: &str, layer_size: usize, seed: u64) -> (String, u64) {
    let layer = tar_layer("payload.bin", layer_size, seed);
    let (ld, ls) = put(dir, &layer);
    let config = json!({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["/payload.bin"]},
        "rootfs": {"type": "layers", "diff_ids": [ld]},
    });
    let (cd, cs) = put(dir, config.to_string().as_bytes());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}],
    });
    put(dir, manifest.to_string().as_bytes())
}

fn init(dir: &Path) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
}

pub fn tag_in_index(dir: &Path, media_type: &str, digest: &str, size: u64, tag: &str) {
    let path = dir.join("index.json");
    let mut index: Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"schemaVersion": 2, "manifests": []}));
    let list = index["manifests"].as_array_mut().expect("list");
    list.push(
        json!({"mediaType": media_type, "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": tag}}),
    );
    std::fs::write(path, index.to_string()).expect("write index");
}

/// A single-platform image tagged `tag` in the layout at `dir`.
pub fn single(dir: &Path, tag: &str, layer_size: usize, seed: u64) -> Written {
    init(dir);
    let (d, s) = image(dir, "amd64", layer_size, seed);
    tag_in_index(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        &d,
        s,
        tag,
    );
    Written {
        digest: d,
        children: Vec::new(),
    }
}

/// An amd64 + arm64 index tagged `tag`.
pub fn multi(dir: &Path, tag: &str, seed: u64) -> Written {
    init(dir);
    let mut children = Vec::new();
    let mut descs = Vec::new();
    for (i, arch) in ["amd64", "arm64"].iter().enumerate() {
        let (d, s) = image(dir, arch, 3000 + i * 100, seed + i as u64);
        descs.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": s,
            "platform": {"architecture": arch, "os": "linux"}}));
        children.push(d);
    }
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descs});
    let (d, s) = put(dir, index.to_string().as_bytes());
    tag_in_index(dir, "application/vnd.oci.image.index.v1+json", &d, s, tag);
    Written {
        digest: d,
        children,
    }
}

/// A cosign-style attachment (an artifact manifest with one small layer) tagged
/// `sha256-<hex><suffix>` next to `subject`.
pub fn attach(dir: &Path, subject: &str, suffix: &str, payload: &str) -> String {
    let (ld, ls) = put(dir, payload.as_bytes());
    let (cd, cs) = put(dir, b"{}");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": ld, "size": ls}],
    });
    let (d, s) = put(dir, manifest.to_string().as_bytes());
    let tag = format!("sha256-{}{suffix}", &subject[7..]);
    tag_in_index(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        &d,
        s,
        &tag,
    );
    d
}

/// The OCI 1.1 referrers tag-schema fallback: an index tagged `sha256-<hex>` listing
/// `referrers` (manifest digests in this layout).
pub fn referrers_fallback(dir: &Path, subject: &str, referrers: &[&str]) -> String {
    let manifests: Vec<Value> = referrers
        .iter()
        .map(|d| {
            let size = std::fs::metadata(dir.join("blobs/sha256").join(&d[7..]))
                .expect("referrer blob")
                .len();
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
                "size": size, "artifactType": "application/vnd.example.sbom"})
        })
        .collect();
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests});
    let (d, s) = put(dir, index.to_string().as_bytes());
    let tag = format!("sha256-{}", &subject[7..]);
    tag_in_index(dir, "application/vnd.oci.image.index.v1+json", &d, s, &tag);
    d
}
