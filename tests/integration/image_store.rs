//! The `oci::Store` write API (what builders and signers write through) against real parts:
//! blobs and manifests written to a layout and to the real registry, read back by skopeo (not
//! our reader); bytes that do not match their digest are refused and nothing is left behind.

use bytes::Bytes;
use cicd::oci::auth::Sources;
use cicd::oci::blob;
use cicd::oci::digest::Digest;
use cicd::oci::manifest::{Descriptor, OCI_MANIFEST};
use cicd::oci::registry::Options;
use cicd::oci::store::{Context, Fetched, Store};
use cicd::oci::transport::Location;
use futures_util::TryStreamExt;

use crate::harness::registry::plain;
use crate::harness::{images, require_tool, run_tool};

fn skopeo(args: &[&str]) -> (bool, String) {
    let skopeo = require_tool("skopeo", "apt-get install skopeo");
    let os: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    run_tool(&skopeo, &os)
}

/// A one-layer image written through `store`, tagged `v1`; returns the manifest.
/// A blob of `store` read whole through its verifying reader.
async fn read_back(store: &Store, desc: &Descriptor) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .open_blob(desc)
        .await
        .expect("open")
        .try_collect()
        .await
        .expect("verified");
    chunks.concat()
}

async fn write_image(store: &Store, seed: u64) -> Fetched {
    let layer = images::tar_layer("hello.txt", 300_000, seed);
    let layer = store
        .put_blob_bytes("application/vnd.oci.image.layer.v1.tar", Bytes::from(layer))
        .await
        .expect("layer");
    let config = serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer.digest]}});
    let config = store
        .put_blob_bytes(
            "application/vnd.oci.image.config.v1+json",
            Bytes::from(config.to_string()),
        )
        .await
        .expect("config");
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": config, "layers": [layer]});
    let m = Fetched::new(manifest.to_string().into_bytes(), OCI_MANIFEST);
    store.put_manifest(&m, Some("v1")).await.expect("manifest");
    m
}

/// Bytes that are not what the descriptor says are refused and never become a blob.
async fn refuses_wrong_bytes(store: &Store) {
    let desc = Descriptor {
        media_type: "application/octet-stream".into(),
        digest: Digest::of(b"the right bytes"),
        size: 15,
        ..Descriptor::default()
    };
    let e = store
        .put_blob(
            &desc,
            blob::from_bytes(Bytes::from_static(b"the wrong bytes")),
        )
        .await
        .expect_err("wrong bytes");
    assert!(e.to_string().contains(desc.digest.as_str()), "{e}");
    assert!(!store.has_blob(&desc).await.expect("ask"));
    let wrong_manifest = Fetched {
        digest: Digest::of(b"{}"),
        ..Fetched::new(b"{\"schemaVersion\":2}".to_vec(), OCI_MANIFEST)
    };
    assert!(
        store
            .put_manifest(&wrong_manifest, Some("bad"))
            .await
            .is_err()
    );
    assert!(store.manifest("bad").await.expect("ask").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_through_the_store_read_back_by_skopeo() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let ctx = Context::new(Options::default(), Sources::default()).expect("context");
    let layout = format!("oci:{}:v1", tmp.path().join("lay").display());
    let remote = format!("docker://{}/store/app:v1", reg.addr);
    for (i, where_) in [layout, remote].iter().enumerate() {
        let loc = Location::parse(where_).expect("location");
        let store = ctx.store(&loc, true).expect("store");
        let m = write_image(&store, 900 + i as u64).await;
        // skopeo finds the very bytes, and copies the image out (checking every digest).
        let (ok, raw) = skopeo(&["inspect", "--raw", "--tls-verify=false", where_]);
        assert!(ok, "{raw}");
        assert_eq!(raw.trim().as_bytes(), m.bytes.as_slice());
        let out = tmp.path().join(format!("copied-{i}"));
        let dir = format!("dir:{}", out.display());
        let (ok, text) = skopeo(&["copy", "--src-tls-verify=false", where_, &dir]);
        assert!(ok, "{text}");
        // Our own verified reader agrees.
        let back = store.resolve(&loc).await.expect("resolve");
        assert_eq!(back.digest, m.digest);
        let parsed = back.parse().expect("parse");
        for d in parsed.blobs() {
            assert_eq!(Digest::of(&read_back(&store, d).await), d.digest);
        }
        refuses_wrong_bytes(&store).await;
    }
}

/// An upload whose bytes turn out wrong (found before its last bytes go out) is cancelled:
/// the registry keeps none of what it received and no blob — chunked, or in the one streamed
/// `PATCH` the store uses by default.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_upload_is_cancelled() {
    let reg = plain();
    for (chunk_size, repo) in [(Some(1 << 20), "store/chunked"), (None, "store/patched")] {
        let opts = Options {
            chunk_size,
            ..Options::default()
        };
        let ctx = Context::new(opts, Sources::default()).expect("context");
        let loc = Location::parse(&format!("docker://{}/{repo}", reg.addr)).expect("loc");
        let store = ctx.store(&loc, false).expect("store");
        let bytes = images::tar_layer("big.bin", 2_500_000, 903);
        let mut damaged = bytes.clone();
        damaged[2_000_000] ^= 1;
        let desc = Descriptor {
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            digest: Digest::of(&bytes),
            size: bytes.len() as u64,
            ..Descriptor::default()
        };
        let chunks: Vec<Result<Bytes, _>> = damaged
            .chunks(1 << 20)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let body: blob::BlobStream = Box::pin(futures_util::stream::iter(chunks));
        let e = store.put_blob(&desc, body).await.expect_err("wrong bytes");
        assert!(e.to_string().contains(desc.digest.as_str()), "{repo}: {e}");
        assert!(!store.has_blob(&desc).await.expect("ask"));
        let uploads = reg
            .dir
            .path()
            .join("store/docker/registry/v2/repositories")
            .join(repo)
            .join("_uploads");
        // The registry keeps an empty hash-state folder of a cancelled session; the bytes it
        // had received must be gone.
        let left: Vec<_> = std::fs::read_dir(&uploads)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("data"))
            .filter(|d| d.exists())
            .collect();
        assert!(left.is_empty(), "{repo}: uploaded bytes left: {left:?}");
        // The right bytes go through the same way.
        store
            .put_blob(&desc, blob::from_bytes(Bytes::from(bytes)))
            .await
            .expect("right bytes");
        assert!(store.has_blob(&desc).await.expect("ask"));
    }
}

/// A blob whose digest is learned from its bytes (a layer streamed while it is compressed):
/// committed under what the bytes hash to, read back verified; a body that breaks off commits
/// nothing — in a layout, and in the real registry streamed and chunked.
#[tokio::test(flavor = "multi_thread")]
async fn hashed_blobs_commit_under_their_own_digest_and_never_when_cut_short() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let bytes = images::tar_layer("streamed.bin", 2_500_000, 905);
    let want = Digest::of(&bytes);
    let places = [
        (None, format!("oci:{}", tmp.path().join("lay").display())),
        (None, format!("docker://{}/store/hashed", reg.addr)),
        (
            Some(1 << 20),
            format!("docker://{}/store/hashed-chunked", reg.addr),
        ),
    ];
    for (chunk_size, place) in places {
        let opts = Options {
            chunk_size,
            ..Options::default()
        };
        let ctx = Context::new(opts, Sources::default()).expect("context");
        let store = ctx
            .store(&Location::parse(&place).expect("loc"), true)
            .expect("store");
        let pieces = |bytes: &[u8]| -> Vec<Result<Bytes, cicd::oci::error::OciError>> {
            bytes
                .chunks(1 << 20)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect()
        };
        // Cut short: two pieces, then the producer fails.
        let mut cut = pieces(&bytes[..2 << 20]);
        cut.push(Err(cicd::oci::error::OciError::Unsupported(
            "compressor stopped".into(),
        )));
        let e = store
            .put_hashed_blob(
                "application/octet-stream",
                Box::pin(futures_util::stream::iter(cut)),
            )
            .await
            .expect_err("cut short");
        assert!(e.to_string().contains("compressor stopped"), "{place}: {e}");
        for (d, size) in [
            (&want, bytes.len()),
            (&Digest::of(&bytes[..2 << 20]), 2 << 20),
        ] {
            let desc = Descriptor {
                digest: d.clone(),
                size: size as u64,
                ..Descriptor::default()
            };
            assert!(!store.has_blob(&desc).await.expect("ask"), "{place}: {d}");
        }
        // Whole: stored under the digest of its bytes, and read back verified.
        let desc = store
            .put_hashed_blob(
                "application/octet-stream",
                Box::pin(futures_util::stream::iter(pieces(&bytes))),
            )
            .await
            .expect("whole");
        assert_eq!((&desc.digest, desc.size), (&want, bytes.len() as u64));
        assert_eq!(read_back(&store, &desc).await, bytes, "{place}");
    }
}

/// A small blob in memory goes up as `POST` + one `PUT` carrying it (no `PATCH`), and the
/// registry then holds exactly those bytes; a blob over `SMALL_BLOB` is still streamed (one
/// `PATCH`). See: issue 14.
#[tokio::test(flavor = "multi_thread")]
async fn small_blobs_go_up_in_one_put_and_large_ones_are_streamed() {
    use std::sync::atomic::Ordering;
    let reg = plain();
    let proxy = crate::harness::proxy::Proxy::start(&reg.addr);
    let ctx = Context::new(Options::default(), Sources::default()).expect("context");
    let loc = Location::parse(&format!("docker://{}/store/small", proxy.addr)).expect("loc");
    let store = ctx.store(&loc, false).expect("store");
    let small = Bytes::from(images::tar_layer("small.bin", 200_000, 907));
    let desc = store
        .put_blob_bytes("application/vnd.oci.image.layer.v1.tar", small.clone())
        .await
        .expect("small blob");
    assert_eq!(desc.digest, Digest::of(&small));
    assert_eq!(
        proxy.patches.load(Ordering::Relaxed),
        0,
        "a small blob was PATCHed"
    );
    assert_eq!(read_back(&store, &desc).await, small.to_vec());
    // Stored once: a second put finds it and sends nothing.
    store
        .put_blob_bytes("application/vnd.oci.image.layer.v1.tar", small)
        .await
        .expect("again");
    assert_eq!(proxy.patches.load(Ordering::Relaxed), 0);
    let large = Bytes::from(images::tar_layer("large.bin", 1_500_000, 908));
    assert!(large.len() as u64 > cicd::oci::store::SMALL_BLOB);
    store
        .put_blob_bytes("application/vnd.oci.image.layer.v1.tar", large)
        .await
        .expect("large blob");
    assert_eq!(
        proxy.patches.load(Ordering::Relaxed),
        1,
        "a large blob is streamed"
    );
}
