//! Fan-out: one process per platform (as separate runners would) pushes by digest and writes
//! a record; `cicd build merge` joins the records into one index, refusing bad ones.

use serde_json::Value;

use super::{json, project, run, skopeo};
use crate::harness::registry::plain;

#[test]
fn fanout_records_merge_into_an_index_whose_children_match() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    project(tmp.path());
    let repo = format!("docker://{}/build/fan", reg.addr);
    let mut records = Vec::new();
    let mut singles = Vec::new();
    for (p, slug) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let record = tmp.path().join(format!("{slug}.json"));
        let out = json(
            tmp.path(),
            &[
                "build",
                "bb",
                "--platform",
                p,
                "--to",
                &repo,
                "--record",
                record.to_str().expect("utf8"),
                "--json",
            ],
        );
        // One platform: the root is that platform's image manifest, not an index.
        assert_eq!(
            out["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        let r: Value =
            serde_json::from_slice(&std::fs::read(&record).expect("record")).expect("json");
        assert_eq!(r["platform"], p);
        assert_eq!(r["digest"], out["digest"]);
        assert_eq!(r["repository"], repo.as_str());
        records.push(record);
        singles.push(out["digest"].as_str().expect("d").to_owned());
    }
    let mut args = vec!["build", "merge", "--to", &repo, "--json"];
    let paths: Vec<String> = records.iter().map(|r| r.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let merged = json(tmp.path(), &args);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{repo}@{}", merged["digest"].as_str().expect("digest")),
    ]);
    let index: Value = serde_json::from_str(&raw).expect("index");
    let children: Vec<(&str, &str)> = index["manifests"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().unwrap_or_default(),
                m["platform"]["architecture"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        children,
        [
            (singles[0].as_str(), "amd64"),
            (singles[1].as_str(), "arm64")
        ]
    );
    // The same as building both platforms in one process.
    let whole = json(tmp.path(), &["build", "bb", "--to", &repo, "--json"]);
    assert_eq!(whole["platforms"], merged["platforms"]);

    // A record whose platform is wrong, or whose digest is not there, is refused; nothing is
    // pushed to the destination.
    let lying = tmp.path().join("lying.json");
    let mut r: Value = serde_json::from_slice(&std::fs::read(&records[0]).expect("r")).expect("j");
    r["platform"] = "linux/arm64".into();
    std::fs::write(&lying, r.to_string()).expect("w");
    let refused_repo = format!("docker://{}/build/refused", reg.addr);
    let (code, _, stderr) = run(
        tmp.path(),
        &[
            "build",
            "merge",
            "--to",
            &refused_repo,
            lying.to_str().expect("utf8"),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("says linux/arm64") && stderr.contains("linux/amd64 image"),
        "{stderr}"
    );
    let missing = tmp.path().join("missing.json");
    r["platform"] = "linux/amd64".into();
    r["digest"] = format!("sha256:{}", "0".repeat(64)).into();
    std::fs::write(&missing, r.to_string()).expect("w");
    let (code, _, stderr) = run(
        tmp.path(),
        &[
            "build",
            "merge",
            "--to",
            &refused_repo,
            missing.to_str().expect("utf8"),
            &paths[1],
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not in"), "{stderr}");
    let bin = crate::harness::require_tool("skopeo", "apt-get install skopeo");
    let (ok, text) = crate::harness::run_tool(
        &bin,
        &[
            "list-tags".as_ref(),
            "--tls-verify=false".as_ref(),
            refused_repo.as_ref(),
        ],
    );
    assert!(
        !ok || !text.contains("sha256"),
        "something was pushed: {text}"
    );
}

#[test]
fn plan_matrix_lists_image_by_platform_with_native_runners() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("cicd.yaml"),
        "images:\n  - name: bb\n    platforms: [linux/amd64, linux/arm64]\n    native: {}\n    runners: {linux/amd64: self-hosted-x64}\n",
    )
    .expect("config");
    let (code, stdout, stderr) = run(tmp.path(), &["plan", "matrix"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout, @r#"{"include":[{"image":"bb","platform":"linux/amd64","slug":"linux-amd64","runner":"self-hosted-x64"},{"image":"bb","platform":"linux/arm64","slug":"linux-arm64","runner":"ubuntu-24.04-arm"}]}"#);
}
