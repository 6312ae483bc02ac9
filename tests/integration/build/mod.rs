//! `cicd build` against real parts: busybox-static for amd64 and arm64 (Debian packages that
//! `scripts/test` downloads into target/test-data/build), the real registry, skopeo, buildah
//! and qemu-aarch64-static.

mod buildah;
mod fanout;
mod native;
mod reuse;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{cicd, repo_root, require_tool, run_tool};

/// The busybox binary for `arch`, unpacked once from the cached Debian package.
pub fn busybox(arch: &str) -> PathBuf {
    let dir = repo_root().join("target/test-data/build");
    let out = dir.join(format!("x-{arch}"));
    let bin = out.join("bin/busybox");
    if bin.is_file() {
        return bin;
    }
    let deb = std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
            n.starts_with("busybox-static_") && n.ends_with(&format!("_{arch}.deb"))
        })
        .unwrap_or_else(|| {
            panic!(
                "busybox-static_*_{arch}.deb is missing from {}: run scripts/test (it runs `apt-get download busybox-static:{arch}` there)",
                dir.display()
            )
        });
    let dpkg = require_tool("dpkg-deb", "apt-get install dpkg");
    let tmp = dir.join(format!(".x-{arch}-{}", std::process::id()));
    let (ok, text) = run_tool(&dpkg, &["-x".as_ref(), deb.as_os_str(), tmp.as_os_str()]);
    assert!(ok, "dpkg-deb -x {}: {text}", deb.display());
    let _ = std::fs::rename(&tmp, &out);
    let _ = std::fs::remove_dir_all(&tmp);
    bin
}

/// A project with a two-platform native image `bb` (busybox per arch plus a shared file).
pub fn project(dir: &Path) {
    for arch in ["amd64", "arm64"] {
        let d = dir.join("dist").join(arch);
        std::fs::create_dir_all(&d).expect("dist");
        std::fs::copy(busybox(arch), d.join("busybox")).expect("copy busybox");
    }
    std::fs::write(dir.join("motd"), "built by cicd\n").expect("motd");
    std::fs::write(
        dir.join("cicd.yaml"),
        r#"images:
  - name: bb
    platforms: [linux/amd64, linux/arm64]
    native:
      files:
        - { src: "dist/{arch}/busybox", dst: /bin/busybox, mode: "0755" }
        - { src: motd, dst: /etc/motd }
      entrypoint: [/bin/busybox]
      cmd: [echo, hello]
      user: "65532:65532"
      env: { GREETING: hi }
      labels: { org.opencontainers.image.description: "busybox" }
"#,
    )
    .expect("cicd.yaml");
}

/// `cicd build …` in `dir`; returns (exit code, stdout, stderr).
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = cicd()
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .args(args)
        .output()
        .expect("run cicd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cicd …` that must succeed with JSON on stdout.
pub fn json(dir: &Path, args: &[&str]) -> Value {
    let (code, stdout, stderr) = run(dir, args);
    assert_eq!(code, 0, "cicd {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

pub fn skopeo(args: &[&str]) -> String {
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let out = Command::new(bin).args(args).output().expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Unpacks the single image in layout `dir` (every layer, in order) into `root`.
pub fn unpack(layout: &Path, root: &Path) {
    let read = |d: &str| {
        let hex = d.trim_start_matches("sha256:");
        std::fs::read(layout.join("blobs/sha256").join(hex)).expect("blob")
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let mut m: Value = serde_json::from_slice(&read(
        index["manifests"][0]["digest"].as_str().expect("digest"),
    ))
    .expect("manifest");
    if m.get("manifests").is_some() {
        m = serde_json::from_slice(&read(m["manifests"][0]["digest"].as_str().expect("d")))
            .expect("child");
    }
    for layer in m["layers"].as_array().expect("layers") {
        let bytes = read(layer["digest"].as_str().expect("digest"));
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        archive.set_preserve_permissions(true);
        archive.unpack(root).expect("unpack layer");
    }
}

pub fn digest_of(v: &Value, platform: &str) -> String {
    v["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .find(|p| p["platform"] == platform)
        .and_then(|p| p["digest"].as_str())
        .unwrap_or_else(|| panic!("no {platform} in {v}"))
        .to_owned()
}
