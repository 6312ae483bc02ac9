//! `cicd release --records`: the fan-out path the generated release.yml takes. Each runner
//! built one platform with `cicd build --platform P --record FILE`; the release merges those
//! digests (no rebuild), signs, tags and verifies; a record missing for one platform is exit 2
//! before anything is written.
//! See: issue 14 item 5 ("build, or take the digest records a fan-out build wrote").

use super::*;

/// `cicd build NAME --platform P --record rec/NAME-ARCH.json --to oci:out/NAME` in `dir`.
fn build_one(dir: &Path, name: &str, arch: &str) {
    let out = cicd()
        .current_dir(dir)
        .args(["build", name, "--platform", &format!("linux/{arch}")])
        .args(["--record", &format!("rec/{name}-{arch}.json")])
        .args(["--to", &format!("oci:out/{name}")])
        .output()
        .expect("build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn release_merges_fan_out_records_instead_of_building() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], true, "v1.0.0");
    std::fs::create_dir_all(dir.join("rec")).expect("rec");
    for name in ["bb", "motd"] {
        for arch in ["amd64", "arm64"] {
            build_one(dir, name, arch);
        }
    }
    // One record missing: refused before anything is signed or tagged.
    std::fs::rename(dir.join("rec/motd-arm64.json"), dir.join("motd-arm64.json")).expect("mv");
    let run = release(
        dir,
        &[],
        &["--to", "oci:out", "--offline", "--records", "rec"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--records hold platforms [linux/amd64]"),
        "{}",
        run.stderr
    );
    assert!(
        !layout_tags(&dir.join("out/motd"))
            .iter()
            .any(|(t, _)| t == "1.0.0")
    );
    std::fs::rename(dir.join("motd-arm64.json"), dir.join("rec/motd-arm64.json")).expect("mv");

    let run = release(
        dir,
        &[],
        &["--to", "oci:out", "--offline", "--records", "rec"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("merged bb from 2 fan-out record(s)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("built bb"), "{}", run.stderr);
    for name in ["bb", "motd"] {
        let tags = layout_tags(&dir.join("out").join(name));
        let digest = &tags.iter().find(|(t, _)| t == "1.0.0").expect("1.0.0").1;
        for t in ["1.0", "1", "latest"] {
            assert!(
                tags.contains(&(t.to_owned(), digest.clone())),
                "{name} {t}: {tags:?}"
            );
        }
        let verified = cicd()
            .current_dir(dir)
            .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
            .arg(format!("oci:out/{name}@{digest}"))
            .output()
            .expect("verify");
        assert_eq!(verified.status.code(), Some(0), "{name}");
    }
}
