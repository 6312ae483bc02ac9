//! `cicd pin` pins container images through the registry client: a tag becomes the digest
//! the registry serves for it (see: issue 4).

use crate::harness::registry::plain;
use crate::harness::{cicd, images};

#[test]
fn pin_gives_images_the_digest_their_tag_resolves_to() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("layout");
    let img = images::multi(&src, "v1", 131);
    let pushed = format!("docker://{}/pin/base:v1", reg.addr);
    let out = cicd()
        .args([
            "image",
            "copy",
            &format!("oci:{}:v1", src.display()),
            &pushed,
        ])
        .output()
        .expect("push");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let dockerfile = format!(
        "FROM {addr}/pin/base:v1 AS build\nFROM {addr}/pin/missing:v9\n",
        addr = reg.addr
    );
    std::fs::write(repo.join("Dockerfile"), &dockerfile).expect("write");
    let out = cicd()
        .current_dir(&repo)
        .args(["pin", "--json"])
        .output()
        .expect("pin");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // pin/missing:v9 does not exist: the file is pinned as far as it can be, and exit 2 says
    // a reference is wrong.
    assert_eq!(out.status.code(), Some(2), "{json}");
    let text = std::fs::read_to_string(repo.join("Dockerfile")).expect("read");
    assert_eq!(
        text,
        format!(
            "FROM {addr}/pin/base:v1@{digest} AS build\nFROM {addr}/pin/missing:v9\n",
            addr = reg.addr,
            digest = img.digest
        )
    );
    // The tag the registry does not have is reported, not guessed.
    let unresolved = json["unresolved"].as_array().expect("unresolved");
    assert_eq!(unresolved.len(), 1, "{json}");
    assert!(
        unresolved[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no such tag")),
        "{json}"
    );
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let bin = crate::harness::require_tool("skopeo", "apt-get install skopeo");
    let out = std::process::Command::new(bin)
        .args(args)
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A two-platform index pushed by skopeo, referenced from a workflow, a compose file and a
/// Dockerfile: every reference gets the index digest skopeo reports (never a platform's),
/// a second run changes nothing, `cicd check` is then clean, and `--update` follows the tag
/// when it moves.
#[test]
fn multi_arch_tags_get_the_index_digest_skopeo_reports() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let (v1, v2) = (tmp.path().join("v1"), tmp.path().join("v2"));
    images::multi(&v1, "v1", 7);
    images::multi(&v2, "v1", 8);
    let tag = format!("docker://{}/pinned/app:1.0", reg.addr);
    let push = |layout: &std::path::Path| {
        skopeo(&[
            "copy",
            "--quiet",
            "--all",
            "--dest-tls-verify=false",
            &format!("oci:{}:v1", layout.display()),
            &tag,
        ]);
    };
    // The digest of what the registry serves for the tag, as skopeo sees it.
    let index_digest = || {
        let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &tag]);
        let index: serde_json::Value = serde_json::from_slice(&raw).expect("index JSON");
        let children: Vec<String> = index["manifests"]
            .as_array()
            .expect("an index")
            .iter()
            .map(|m| m["digest"].as_str().expect("digest").to_owned())
            .collect();
        (sha256(&raw), children)
    };
    push(&v1);
    let (index, children) = index_digest();
    assert_eq!(children.len(), 2, "two platforms");

    let repo = tmp.path().join("repo");
    let wf = repo.join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    let image = format!("{}/pinned/app:1.0", reg.addr);
    let workflow = format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    container: \"{image}\"\n    services:\n      db:\n        image: {image} # the database\n    steps:\n      - uses: docker://{image}\n"
    );
    std::fs::write(wf.join("ci.yml"), &workflow).expect("write");
    let compose = format!("services:\n  app:\n    image: {image}\n  built:\n    build: .\n");
    std::fs::write(repo.join("compose.yaml"), &compose).expect("write");
    std::fs::write(repo.join("Dockerfile"), format!("FROM {image}\r\n")).expect("write");

    let pin = |args: &[&str]| {
        let out = cicd()
            .current_dir(&repo)
            .arg("pin")
            .args(args)
            .output()
            .expect("pin");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    pin(&[]);
    let pinned = format!("{image}@{index}");
    let read = |p: &str| std::fs::read_to_string(repo.join(p)).expect("read");
    assert_eq!(
        read(".github/workflows/ci.yml"),
        workflow.replace(&image, &pinned)
    );
    assert_eq!(read("compose.yaml"), compose.replace(&image, &pinned));
    assert_eq!(read("Dockerfile"), format!("FROM {pinned}\r\n"));
    for child in &children {
        assert!(
            !read(".github/workflows/ci.yml").contains(child.as_str()),
            "a platform digest was pinned"
        );
    }

    // Nothing moves on a second run; check has nothing left to say about images.
    let before = (
        read(".github/workflows/ci.yml"),
        read("compose.yaml"),
        read("Dockerfile"),
    );
    pin(&[]);
    assert_eq!(
        before,
        (
            read(".github/workflows/ci.yml"),
            read("compose.yaml"),
            read("Dockerfile")
        )
    );
    let (_, json) = crate::harness::check_json(&repo, &[]);
    // What pinning leaves: no unpinned image (hardening rules judge other things).
    let unpinned = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "unpinned-image")
        .count();
    assert_eq!(unpinned, 0, "{json}");

    // The tag moves: --update follows it; plain pin leaves digests alone.
    push(&v2);
    let (moved, _) = index_digest();
    assert_ne!(moved, index);
    pin(&[]);
    assert_eq!(read("Dockerfile"), format!("FROM {pinned}\r\n"));
    pin(&["--update"]);
    assert_eq!(read("Dockerfile"), format!("FROM {image}@{moved}\r\n"));
    assert_eq!(
        read("compose.yaml"),
        compose.replace(&image, &format!("{image}@{moved}"))
    );
}

/// A registry that refuses (no credentials) is a message per reference, and exit 3 when
/// nothing at all could be pinned; the file is untouched.
#[test]
fn refusing_registry_is_reported_per_reference() {
    let reg = crate::harness::registry::htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!("FROM {}/locked/app:1\n", reg.addr);
    std::fs::write(tmp.path().join("Dockerfile"), &text).expect("write");
    let out = cicd()
        .current_dir(tmp.path())
        .args(["pin", "--json"])
        .output()
        .expect("pin");
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let reason = json["unresolved"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("401")
            || reason.contains("credentials")
            || reason.contains("CICD_REGISTRY"),
        "{reason}"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("Dockerfile")).expect("read"),
        text
    );
}
