//! The cicd image: `images: [cicd]` in this repository's cicd.yaml built by `cicd build`
//! (native backend) from a static binary, into an OCI layout; its config says what the
//! Dockerfile says (entrypoint, PATH, non-root user), and the binary it holds prints `cicd
//! --version` when started as the image's entrypoint would start it (amd64, directly: there is
//! no container runtime on these machines).

use std::path::{Path, PathBuf};

use crate::harness::{cicd, repo_root};

/// The static x86_64 binary: `CICD_STATIC_BIN`, else what `scripts/test` builds into
/// `target/static/cicd` (`cargo rustc --bin cicd -- -C target-feature=+crt-static`: glibc
/// linked statically, as no musl target can be installed on these machines).
fn static_binary() -> PathBuf {
    let path = std::env::var_os("CICD_STATIC_BIN")
        .map_or_else(|| repo_root().join("target/static/cicd"), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: run `scripts/test` (it builds the static binary) or set CICD_STATIC_BIN",
        path.display()
    );
    path
}

/// No `PT_INTERP` program header: the kernel runs it with no dynamic loader (a scratch image
/// has none).
fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[o..o + 8]);
        u64::from_le_bytes(b) as usize
    };
    assert_eq!(&bytes[..5], b"\x7fELF\x02", "a 64-bit ELF");
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) != 3
    })
}

fn layout_config(layout: &Path) -> serde_json::Value {
    let read = |d: &str| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .expect("blob")
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&read(index["manifests"][0]["digest"].as_str().expect("d")))
            .expect("m");
    if m.get("manifests").is_some() {
        m = serde_json::from_slice(&read(m["manifests"][0]["digest"].as_str().expect("d")))
            .expect("child");
    }
    serde_json::from_slice(&read(m["config"]["digest"].as_str().expect("config"))).expect("config")
}

// See: issue 16.
#[test]
fn cicd_image_is_built_natively_and_runs_its_entrypoint() {
    let binary = static_binary();
    let bytes = std::fs::read(&binary).expect("read binary");
    assert!(
        is_static_elf(&bytes),
        "{} is dynamically linked",
        binary.display()
    );

    let tree = tempfile::tempdir().expect("tempdir");
    std::fs::copy(repo_root().join("cicd.yaml"), tree.path().join("cicd.yaml")).expect("copy");
    std::fs::create_dir_all(tree.path().join("dist/amd64")).expect("mkdir");
    std::fs::copy(&binary, tree.path().join("dist/amd64/cicd")).expect("copy binary");
    let layout = tree.path().join("layout");
    let out = cicd()
        .current_dir(tree.path())
        .args(["build", "cicd", "--platform", "linux/amd64", "--to"])
        .arg(format!("oci:{}:cicd", layout.display()))
        .output()
        .expect("run cicd build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let config = layout_config(&layout);
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["cicd"]));
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(
        config["config"]["Env"],
        serde_json::json!(["PATH=/usr/local/bin"])
    );
    // The Dockerfile describes the same image.
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    for line in [
        "FROM scratch",
        "COPY --chmod=0755 dist/${TARGETARCH}/cicd /usr/local/bin/cicd",
        "ENV PATH=/usr/local/bin",
        "USER 65532:65532",
        "ENTRYPOINT [\"cicd\"]",
    ] {
        assert!(
            dockerfile.lines().any(|l| l == line),
            "Dockerfile lacks `{line}`"
        );
    }

    let root = tree.path().join("root");
    crate::build::unpack(&layout, &root);
    // The entrypoint `cicd`, found on the image's PATH, is the binary that was put in.
    let entry = root.join("usr/local/bin/cicd");
    assert_eq!(std::fs::read(&entry).expect("entrypoint"), bytes);
    let run = std::process::Command::new(&entry)
        .arg("--version")
        .env_clear()
        .env("PATH", "/usr/local/bin")
        .current_dir(&root)
        .output()
        .expect("run the image's binary");
    assert!(run.status.success());
    let version = String::from_utf8_lossy(&run.stdout);
    assert!(
        version.starts_with(concat!("cicd ", env!("CARGO_PKG_VERSION"), " (")),
        "{version}"
    );
}
