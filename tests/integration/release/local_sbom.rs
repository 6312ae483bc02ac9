//! The SBOM `cicd release` writes for a native image reads the layers the build made from
//! local files again from those files (not fetched back) and the base image's layers from the
//! registry: the document is byte for byte the one `cicd sbom` reads from the registry for the
//! same platform manifest. See: issue 14. (A file changed between build and SBOM is refused:
//! `sbom::local`'s lib test reaches that window.)

use std::path::Path;

use serde_json::Value;

use super::{git, release};
use crate::build::{busybox, skopeo};
use crate::harness::cicd;
use crate::harness::registry::plain;
use crate::sbom::support::{LayerWriter, single};

const DPKG_STATUS: &str = "Package: libbase1\nStatus: install ok installed\nPriority: optional\n\
Section: libs\nInstalled-Size: 10\nMaintainer: t <t@example.com>\nArchitecture: amd64\n\
Source: base\nVersion: 1.2-3\nDescription: the base image's library\n the base image's library\n";

const METADATA: &str = "Metadata-Version: 2.1\nName: localpkg\nVersion: 0.3.1\n";

/// A one-layer linux/amd64 base image with a dpkg database, pushed to `repo`; its digest.
fn push_base(dir: &Path, repo: &str) -> String {
    let layout = dir.join("base-layout");
    let mut layer = LayerWriter::new(&layout);
    layer.file("var/lib/dpkg/status", DPKG_STATUS.as_bytes());
    let m = single(&layout, "base", &[layer.finish()]);
    skopeo(&[
        "copy",
        "-q",
        "--dest-tls-verify=false",
        &format!("oci:{}:base", layout.display()),
        &format!("docker://{repo}:1"),
    ]);
    m.digest
}

#[test]
fn sbom_from_the_builds_own_layers_is_the_sbom_read_back_from_the_registry() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let base = push_base(dir, &format!("{}/rel-local/base", reg.addr));
    let app = format!("{}/rel-local/app", reg.addr);
    std::fs::copy(busybox("amd64"), dir.join("busybox")).expect("busybox");
    std::fs::write(dir.join("motd"), "local layers\n").expect("motd");
    std::fs::write(dir.join("METADATA"), METADATA).expect("METADATA");
    let yaml = format!(
        "images:\n  - name: app\n    repository: {app}\n    platforms: [linux/amd64]\n    native:\n      base: {}/rel-local/base@{base}\n      files:\n        - {{ src: busybox, dst: /bin/busybox, mode: \"0755\" }}\n        - {{ src: motd, dst: /etc/motd }}\n        - {{ src: METADATA, dst: /usr/lib/python3/dist-packages/localpkg-0.3.1.dist-info/METADATA }}\n",
        reg.addr
    );
    std::fs::write(dir.join("cicd.yaml"), yaml).expect("cicd.yaml");
    std::fs::write(dir.join(".gitignore"), "dist/\nbase-layout/\n.gh-*\n").expect("gitignore");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "feat: first release"]);
    git(dir, &["tag", "-a", "v1.0.0", "-m", "v1.0.0"]);

    let run = release(dir, &[], &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = run.json();
    let platform = &record["images"][0]["platforms"][0];
    let written = std::fs::read(platform["sbom"].as_str().expect("sbom path")).expect("sbom");
    let digest = platform["digest"].as_str().expect("platform digest");

    let read_back = dir.join("read-back.cdx.json");
    let out = cicd()
        .current_dir(dir)
        .args([
            "sbom",
            &format!("docker://{app}@{digest}"),
            "--spec-version",
        ])
        .args(["1.6", "--output", read_back.to_str().expect("utf8")])
        .output()
        .expect("cicd sbom");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read_back = std::fs::read(&read_back).expect("read back");
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&read_back),
        "the release's SBOM differs from the one read back from the registry"
    );
    // Both halves are described: the base image's package (fetched) and the local layer's.
    let doc: Value = serde_json::from_slice(&written).expect("json");
    let names: Vec<&str> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for want in ["libbase1", "localpkg"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
}
