//! A native build does not send layers the destination already has: a re-run to the same
//! repository, or the same files to another repository of the registry (mounted), sends no
//! layer bytes — counted by a proxy in front of the real registry — and gives the same
//! digests; a changed file, or a remembered layer whose files no longer hash the same, is
//! compressed and sent again.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde_json::Value;

use super::{digest_of, project, skopeo};
use crate::harness::cicd;
use crate::harness::proxy::Proxy;
use crate::harness::registry::{Registry, plain};

/// A project tree, its own layer cache, and a proxy counting what reaches the real registry.
struct Rig {
    reg: &'static Registry,
    proxy: Proxy,
    tmp: tempfile::TempDir,
    tree: PathBuf,
    cache: PathBuf,
}

impl Rig {
    fn new() -> Self {
        let reg = plain();
        let proxy = Proxy::start(&reg.addr);
        let tmp = tempfile::tempdir().expect("tmp");
        let tree = tmp.path().join("tree");
        project(&tree);
        let cache = tmp.path().join("cache");
        Self {
            reg,
            proxy,
            tmp,
            tree,
            cache,
        }
    }

    /// Bytes uploaded through the proxy so far.
    fn sent(&self) -> u64 {
        self.proxy.uploaded.load(Ordering::Relaxed)
    }

    /// `cicd build bb --to docker://PROXY/REPO --json` with the rig's layer cache.
    fn build(&self, repo: &str) -> Value {
        let out = cicd()
            .current_dir(&self.tree)
            .env_remove("SOURCE_DATE_EPOCH")
            .env("XDG_CACHE_HOME", &self.cache)
            .args([
                "build",
                "bb",
                "--to",
                &format!("docker://{}/{repo}", self.proxy.addr),
                "--json",
            ])
            .output()
            .expect("run cicd");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    }

    /// Rewrites every layer the cache remembers with `edit`.
    fn edit_cache(&self, edit: impl Fn(&mut Value)) {
        let file = self.cache.join("cicd/layers.json");
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("cache")).expect("json");
        for (_, layer) in v["layers"].as_object_mut().expect("layers").iter_mut() {
            edit(layer);
        }
        std::fs::write(&file, serde_json::to_vec(&v).expect("json")).expect("write");
    }
}

/// Every blob of `repo@digest` is readable and matches its digest (skopeo checks them).
fn pulls(addr: &str, repo: &str, digest: &str, into: &Path) {
    skopeo(&[
        "copy",
        "--all",
        "--src-tls-verify=false",
        &format!("docker://{addr}/{repo}@{digest}"),
        &format!("oci:{}", into.display()),
    ]);
}

#[test]
fn native_rebuild_sends_no_layer_the_registry_already_has() {
    let r = Rig::new();
    let (reg, tmp, tree, cache) = (r.reg, &r.tmp, &r.tree, &r.cache);
    let sent = || r.sent();
    let stamp = std::process::id();
    let (a, b) = (format!("reuse/a{stamp}"), format!("reuse/b{stamp}"));

    let first = r.build(&a);
    let layers = sent();
    // Two busybox layers (about 1 MiB gzipped each) and the shared one went up.
    assert!(layers > 1_000_000, "only {layers} bytes uploaded");
    assert!(cache.join("cicd/layers.json").is_file());

    // A re-run to the same repository: same image, nothing uploaded at all (the configs
    // are there too).
    let again = r.build(&a);
    assert_eq!(again, first);
    assert_eq!(sent(), layers, "a re-run uploaded layer bytes");

    // Another repository on the same registry: layers mounted, only the configs sent.
    let before = sent();
    let other = r.build(&b);
    assert_eq!(other["digest"], first["digest"]);
    let configs = sent() - before;
    assert!(configs < 8_192, "{configs} bytes uploaded to {b}");
    let digest = first["digest"].as_str().expect("digest");
    pulls(&reg.addr, &b, digest, &tmp.path().join("b"));

    // A changed shared file: that layer alone is compressed and sent.
    std::fs::write(tree.join("motd"), "changed\n").expect("motd");
    let before = sent();
    let changed = r.build(&a);
    assert_ne!(changed["digest"], first["digest"]);
    assert_ne!(
        digest_of(&changed, "linux/amd64"),
        digest_of(&first, "linux/amd64")
    );
    let delta = sent() - before;
    assert!(
        delta > 0 && delta < 100_000,
        "{delta} bytes uploaded for a changed 8-byte file"
    );
}

#[test]
fn native_reuse_trusts_neither_a_stale_cache_nor_a_registry_without_the_layer() {
    let r = Rig::new();
    let (reg, tmp) = (r.reg, &r.tmp);
    let sent = || r.sent();
    let stamp = std::process::id();
    let (a, c) = (format!("reuse/s{stamp}"), format!("reuse/t{stamp}"));
    let first = r.build(&a);
    let full = sent();

    // The cache says the layers' files hash to something else (as if rewritten without
    // their times changing): every layer is built and sent again, the image unchanged.
    r.edit_cache(|layer| layer["diff_id"] = Value::from(format!("sha256:{}", "0".repeat(64))));
    let before = sent();
    let again = r.build(&a);
    assert_eq!(again, first);
    assert!(
        sent() - before > full / 2,
        "a layer whose files no longer match the cache was not sent again"
    );

    // A repository the layers were never sent to, with no mount source remembered: they
    // are sent, and the image pulls back whole.
    r.edit_cache(|layer| layer["repos"] = Value::Array(Vec::new()));
    let before = sent();
    let other = r.build(&c);
    assert_eq!(other["digest"], first["digest"]);
    assert!(
        sent() - before > full / 2,
        "layers missing from {c} were not sent"
    );
    let digest = first["digest"].as_str().expect("digest");
    pulls(&reg.addr, &c, digest, &tmp.path().join("c"));
}
