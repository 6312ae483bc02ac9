//! The native backend end to end: a two-platform busybox image pushed to the real registry,
//! pulled back with skopeo and run (arm64 under qemu-aarch64-static); reproducibility; `oci:`.

use std::process::Command;

use serde_json::Value;

use super::{digest_of, json, project, run, skopeo, unpack};
use crate::harness::registry::plain;
use crate::harness::require_tool;

fn run_bin(program: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn native_two_platform_image_pulls_back_and_runs_on_both_arches() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let repo = format!("{}/build/bb", reg.addr);
    let built = json(
        tmp.path(),
        &["build", "bb", "--to", &format!("docker://{repo}"), "--json"],
    );
    let digest = built["digest"].as_str().expect("digest").to_owned();
    // The index skopeo sees is the one cicd reported, and names both platforms.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{repo}@{digest}"),
    ]);
    assert_eq!(cicd::oci::digest::sha256(raw.as_bytes()), digest);
    let index: Value = serde_json::from_str(&raw).expect("index");
    let platforms: Vec<(String, String)> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            (
                m["platform"]["os"].as_str().unwrap_or_default().to_owned(),
                m["platform"]["architecture"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [
            ("linux".into(), "amd64".into()),
            ("linux".into(), "arm64".into())
        ]
    );
    // Pushed by digest only: no tag appeared.
    // (distribution answers 404 for the tag list of a repository without tags)
    let bin = require_tool("skopeo", "apt-get install skopeo");
    let (ok, tags) = crate::harness::run_tool(
        &bin,
        &[
            "list-tags".as_ref(),
            "--tls-verify=false".as_ref(),
            format!("docker://{repo}").as_ref(),
        ],
    );
    assert!(
        if ok {
            !tags.contains("\"latest\"") && tags.contains("\"Tags\": []")
        } else {
            tags.contains("404")
        },
        "{tags}"
    );
    let config: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{repo}@{}", digest_of(&built, "linux/arm64")),
    ]))
    .expect("config");
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(config["config"]["Env"], serde_json::json!(["GREETING=hi"]));
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.description"],
        "busybox"
    );
    assert_eq!(
        config["rootfs"]["diff_ids"].as_array().expect("ids").len(),
        2
    );
    for (platform, expect) in [("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")] {
        let pulled = tmp.path().join(format!("pulled-{expect}"));
        skopeo(&[
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{repo}@{}", digest_of(&built, platform)),
            &format!("oci:{}:x", pulled.display()),
        ]);
        let root = tmp.path().join(format!("root-{expect}"));
        unpack(&pulled, &root);
        let bin = root.join("bin/busybox");
        assert_eq!(
            std::fs::read_to_string(root.join("etc/motd")).expect("motd"),
            "built by cicd\n"
        );
        let said = if expect == "aarch64" {
            let qemu = require_tool("qemu-aarch64-static", "apt-get install qemu-user-static");
            run_bin(&qemu, &[bin.to_str().expect("utf8"), "uname", "-m"])
        } else {
            run_bin(&bin, &["uname", "-m"])
        };
        assert_eq!(said, expect);
    }
}

#[test]
fn native_builds_are_reproducible_and_follow_their_inputs() {
    let a = tempfile::tempdir().expect("a");
    let b = tempfile::tempdir().expect("b");
    project(a.path());
    // A second tree made later: different directory, different file times.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    project(b.path());
    let build = |dir: &std::path::Path| {
        let out = dir.join("out");
        json(
            dir,
            &[
                "build",
                "bb",
                "--to",
                &format!("oci:{}", out.display()),
                "--json",
            ],
        )
    };
    let first = build(a.path());
    let second = build(b.path());
    assert_eq!(first["digest"], second["digest"]);
    assert_eq!(first["platforms"], second["platforms"]);
    // The shared file goes in one layer both platforms use.
    assert_eq!(first["shared_layers"], 1);
    std::fs::write(b.path().join("motd"), "changed\n").expect("motd");
    let changed = build(b.path());
    assert_ne!(changed["digest"], first["digest"]);
    assert_ne!(
        digest_of(&changed, "linux/arm64"),
        digest_of(&first, "linux/arm64")
    );
    // SOURCE_DATE_EPOCH sets every time in the image.
    let out = a.path().join("epoch");
    let epoch = crate::harness::cicd()
        .current_dir(a.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "build",
            "bb",
            "--to",
            &format!("oci:{}", out.display()),
            "--json",
        ])
        .output()
        .expect("run");
    assert!(
        epoch.status.success(),
        "{}",
        String::from_utf8_lossy(&epoch.stderr)
    );
    let v: Value = serde_json::from_slice(&epoch.stdout).expect("json");
    assert_ne!(v["digest"], first["digest"]);
    let config: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        "--override-arch",
        "amd64",
        &format!("oci:{}", out.display()),
    ]))
    .expect("config");
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn native_oci_output_copies_with_skopeo_and_inspects_identically() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let out = tmp.path().join("layout");
    let built = json(
        tmp.path(),
        &[
            "build",
            "bb",
            "--to",
            &format!("oci:{}:v1", out.display()),
            "--json",
        ],
    );
    let dst = format!("docker://{}/build/from-oci:v1", reg.addr);
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:v1", out.display()),
        &dst,
    ]);
    let local = skopeo(&["inspect", "--raw", &format!("oci:{}:v1", out.display())]);
    let remote = skopeo(&["inspect", "--raw", "--tls-verify=false", &dst]);
    assert_eq!(local, remote);
    assert_eq!(
        cicd::oci::digest::sha256(remote.as_bytes()),
        built["digest"].as_str().expect("d")
    );
    // And the plain rendering names every platform.
    let (code, stdout, _) = run(
        tmp.path(),
        &["build", "bb", "--to", &format!("oci:{}:v1", out.display())],
    );
    assert_eq!(code, 0);
    let redacted = regex_lite_redact(&stdout, &out.display().to_string());
    insta::assert_snapshot!(redacted, @r"
    built bb -> oci:[LAYOUT]:v1
      digest [DIGEST]
      linux/amd64    [DIGEST] ([SIZE] bytes)
      linux/arm64    [DIGEST] ([SIZE] bytes)
    ");
}

/// Paths and digests vary per run; snapshots show their shape only.
fn regex_lite_redact(text: &str, path: &str) -> String {
    let mut s = text.replace(path, "[LAYOUT]");
    while let Some(i) = s.find("sha256:") {
        let end = (i + 71).min(s.len());
        s.replace_range(i..end, "[DIGEST]");
    }
    s.lines()
        .map(|l| match l.find(" (") {
            Some(i) if l.ends_with(" bytes)") => format!("{} ([SIZE] bytes)", &l[..i]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source labels come from git (one `git log`, with `remote get-url` and `describe` run
/// alongside): commit time, full revision, exact tag, and the remote without its credentials.
#[test]
fn native_source_labels_come_from_git() {
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(tmp.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .env("GIT_COMMITTER_DATE", "1700000000 +0000")
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "feat: labels"]);
    git(&["tag", "v1.2.3"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://x-access-token:ghs_secret@example.invalid/acme/app.git",
    ]);
    let head = git(&["rev-parse", "HEAD"]);
    let out = tmp.path().join("out");
    let built = crate::harness::cicd()
        .current_dir(tmp.path())
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REF")
        .env_remove("GITHUB_REPOSITORY")
        .args(["build", "bb", "--to", &format!("oci:{}", out.display())])
        .output()
        .expect("run");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let config: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        "--override-arch",
        "arm64",
        &format!("oci:{}", out.display()),
    ]))
    .expect("config");
    let labels = &config["config"]["Labels"];
    assert_eq!(labels["org.opencontainers.image.revision"], head.as_str());
    assert_eq!(labels["org.opencontainers.image.version"], "v1.2.3");
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://example.invalid/acme/app"
    );
    assert_eq!(
        labels["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
}

/// A project whose per-platform files (5 × 20 MiB, each starting with its own byte) are more
/// than one layer holds, plus a small shared file.
fn big_project(dir: &std::path::Path) {
    let mut files = String::new();
    for arch in ["amd64", "arm64"] {
        let d = dir.join("dist").join(arch);
        std::fs::create_dir_all(&d).expect("dist");
        for n in 0..5u8 {
            let first = n + if arch == "amd64" { 1 } else { 101 };
            let mut f = std::fs::File::create(d.join(format!("part{n}"))).expect("part");
            std::io::Write::write_all(&mut f, &[first]).expect("first byte");
            f.set_len(20 << 20).expect("size");
        }
    }
    for n in 0..5 {
        files.push_str(&format!(
            "        - {{ src: \"dist/{{arch}}/part{n}\", dst: /data/part{n} }}\n"
        ));
    }
    std::fs::write(dir.join("motd"), "built by cicd\n").expect("motd");
    std::fs::write(
        dir.join("cicd.yaml"),
        format!(
            "images:\n  - name: big\n    platforms: [linux/amd64, linux/arm64]\n    native:\n      files:\n        - {{ src: motd, dst: /etc/motd }}\n{files}"
        ),
    )
    .expect("cicd.yaml");
}

#[test]
fn native_big_payloads_are_cut_into_layers_that_unpack_to_every_file() {
    let a = tempfile::tempdir().expect("a");
    let b = tempfile::tempdir().expect("b");
    big_project(a.path());
    big_project(b.path());
    let build = |dir: &std::path::Path| {
        let out = dir.join("out");
        let v = json(
            dir,
            &[
                "build",
                "big",
                "--to",
                &format!("oci:{}", out.display()),
                "--json",
            ],
        );
        (v, out)
    };
    let (first, out) = build(a.path());
    let (second, _) = build(b.path());
    // The cut depends only on the files' order and sizes: another tree, the same image.
    assert_eq!(first["digest"], second["digest"]);
    assert_eq!(first["shared_layers"], 1);
    // 100 MiB per platform: a layer closes at 64 MiB or more (4 files), the 5th is its own.
    let read = |d: &str| {
        std::fs::read(
            out.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .expect("blob")
    };
    let manifest: Value =
        serde_json::from_slice(&read(&digest_of(&first, "linux/amd64"))).expect("manifest");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 3, "{manifest}");
    let config: Value = serde_json::from_slice(&read(
        manifest["config"]["digest"].as_str().expect("config"),
    ))
    .expect("config");
    assert_eq!(
        config["rootfs"]["diff_ids"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(config["history"].as_array().map(Vec::len), Some(3));
    // skopeo reads it, and the layers, unpacked in order, give back every file.
    let copy = a.path().join("copy");
    skopeo(&[
        "copy",
        "--override-arch",
        "amd64",
        &format!("oci:{}", out.display()),
        &format!("oci:{}", copy.display()),
    ]);
    let root = a.path().join("root");
    unpack(&copy, &root);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/motd")).expect("motd"),
        "built by cicd\n"
    );
    for n in 0..5u8 {
        let bytes = std::fs::read(root.join(format!("data/part{n}"))).expect("part");
        assert_eq!(bytes.len(), 20 << 20);
        assert_eq!(bytes[0], n + 1, "part{n} is amd64's");
        assert!(bytes[1..].iter().all(|b| *b == 0));
    }
}
