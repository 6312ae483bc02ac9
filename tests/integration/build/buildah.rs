//! The buildah backend end to end: a COPY-only Dockerfile for two platforms, built without a
//! daemon and pushed by digest to the real registry as an index.

use serde_json::Value;

use super::{busybox, json, skopeo};
use crate::harness::registry::plain;
use crate::harness::require_tool;

#[test]
fn buildah_copy_only_dockerfile_two_platforms_lands_as_an_index() {
    require_tool("buildah", "apt-get install buildah");
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let ctx = tmp.path().join("app");
    for arch in ["amd64", "arm64"] {
        std::fs::create_dir_all(ctx.join(arch)).expect("dir");
        std::fs::copy(busybox(arch), ctx.join(arch).join("busybox")).expect("copy");
    }
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}/busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\n",
    )
    .expect("Dockerfile");
    std::fs::write(
        tmp.path().join("cicd.yaml"),
        "images:\n  - name: app\n    platforms: [linux/amd64, linux/arm64]\n    dockerfile: { context: app }\n",
    )
    .expect("config");
    let repo = format!("docker://{}/build/buildah", reg.addr);
    let built = json(tmp.path(), &["build", "app", "--to", &repo, "--json"]);
    assert_eq!(
        built["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{repo}@{}", built["digest"].as_str().expect("digest")),
    ]);
    assert_eq!(
        cicd::oci::digest::sha256(raw.as_bytes()),
        built["digest"].as_str().expect("d")
    );
    let index: Value = serde_json::from_str(&raw).expect("index");
    let mut arches: Vec<&str> = index["manifests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["platform"]["architecture"].as_str())
        .collect();
    arches.sort_unstable();
    assert_eq!(arches, ["amd64", "arm64"]);
    for p in built["platforms"].as_array().expect("platforms") {
        let cfg: Value = serde_json::from_str(&skopeo(&[
            "inspect",
            "--config",
            "--tls-verify=false",
            &format!("{repo}@{}", p["digest"].as_str().expect("d")),
        ]))
        .expect("config");
        assert_eq!(
            format!("linux/{}", cfg["architecture"].as_str().expect("arch")),
            p["platform"].as_str().expect("platform")
        );
    }
}
