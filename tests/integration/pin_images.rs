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
    assert_eq!(out.status.code(), Some(0), "{json}");
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
