//! The Rust, Java and rpm catalogers on real data from `data/sbom/prepare.sh`: a binary built
//! by `cargo auditable` from crates.io crates with its Cargo.lock, the jar Debian ships in
//! libcommons-lang3-java (alone and nested in another jar), and an rpmdb.sqlite the real
//! `rpm` tool wrote. Ground truth comes from the tools that made the data, not from cicd.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::support::{LayerWriter, components, prepared, single};
use super::{sbom, validate};
use crate::harness::{require_tool, run_tool};

/// One image holding the Rust, Java and rpm trees, plus an os-release naming the rpm distro.
fn layout(dir: &Path) -> PathBuf {
    let data = prepared();
    let layout = dir.join("layout");
    let mut l = LayerWriter::new(&layout);
    l.dir("usr/local/bin", &data.join("rust/usr/local/bin"))
        .dir("srv/rust", &data.join("rust/app"))
        .dir("usr/share/java", &data.join("java/usr/share/java"))
        .dir("srv/java", &data.join("java/app"))
        .dir("var/lib/rpm", &data.join("rpm/var/lib/rpm"))
        // The rpm database came from rpmbuild'd packages, not a distribution: this line only
        // gives the purls a distro to carry.
        .file(
            "etc/os-release",
            b"NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=39\n",
        );
    let layer = l.finish();
    single(&layout, "v1", &[layer]);
    layout
}

fn by_purl<'a>(doc: &'a Value, purl: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["purl"] == purl))
        .unwrap_or_else(|| panic!("no component {purl}"))
}

fn depends_on(doc: &Value, purl: &str) -> BTreeSet<String> {
    doc["dependencies"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["ref"] == purl))
        .and_then(|d| d["dependsOn"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn locations(component: &Value) -> BTreeSet<String> {
    component["evidence"]["occurrences"]
        .as_array()
        .map(|o| {
            o.iter()
                .filter_map(|o| o["location"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `name@version` of every package a Cargo.lock lists, read line by line.
fn lock_packages(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            out.insert(format!("pkg:cargo/{n}@{}", v.trim_matches('"')));
        }
    }
    out
}

#[test]
fn rust_binary_built_by_cargo_auditable_and_its_lock_give_the_locked_crates_and_edges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (doc, file) = sbom(&format!("oci:{}:v1", layout(dir.path()).display()), &[]);
    let lock = fs::read_to_string(prepared().join("rust/app/Cargo.lock")).expect("Cargo.lock");
    let want = lock_packages(&lock);
    assert_eq!(
        want,
        BTreeSet::from([
            "pkg:cargo/hello@0.3.1".to_owned(),
            "pkg:cargo/itoa@1.0.11".to_owned(),
            "pkg:cargo/ryu@1.0.18".to_owned()
        ])
    );
    let cargo: BTreeSet<String> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .filter(|p| p.starts_with("pkg:cargo/"))
        .map(str::to_owned)
        .collect();
    assert_eq!(cargo, want);
    // Both the binary's .dep-v0 section and the lock file are evidence for every crate.
    for purl in &want {
        assert_eq!(
            locations(by_purl(&doc, purl)),
            BTreeSet::from([
                "/srv/rust/Cargo.lock".to_owned(),
                "/usr/local/bin/hello".to_owned()
            ]),
            "{purl}"
        );
    }
    assert_eq!(
        by_purl(&doc, "pkg:cargo/hello@0.3.1")["type"],
        "application"
    );
    assert_eq!(
        depends_on(&doc, "pkg:cargo/hello@0.3.1"),
        BTreeSet::from([
            "pkg:cargo/itoa@1.0.11".to_owned(),
            "pkg:cargo/ryu@1.0.18".to_owned()
        ])
    );
    validate("1.6", &file);
}

#[test]
fn jar_from_debian_and_the_jar_nesting_it_give_its_maven_coordinates() {
    let data = prepared();
    let expected = fs::read_to_string(data.join("java/expected.txt")).expect("expected.txt");
    let (ga, version) = expected
        .trim()
        .split_once(' ')
        .expect("group:artifact version");
    let (group, artifact) = ga.split_once(':').expect("group:artifact");
    let dir = tempfile::tempdir().expect("tempdir");
    let (doc, file) = sbom(&format!("oci:{}:v1", layout(dir.path()).display()), &[]);
    let java = components(&doc, "java");
    assert_eq!(
        java,
        [(
            ga.to_owned(),
            version.to_owned(),
            format!("pkg:maven/{group}/{artifact}@{version}")
        )]
    );
    let jar = fs::read_dir(data.join("java/usr/share/java"))
        .expect("java dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .expect("a jar");
    assert_eq!(
        locations(by_purl(&doc, &java[0].2)),
        BTreeSet::from([
            format!("/srv/java/fat.jar!/{jar}"),
            format!("/usr/share/java/{jar}")
        ])
    );
    validate("1.5", &file);
}

#[test]
fn rpmdb_sqlite_written_by_rpm_gives_what_rpm_qa_lists() {
    let data = prepared();
    let truth: BTreeSet<String> = fs::read_to_string(data.join("rpm/rpm-qa.txt"))
        .expect("rpm-qa.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(truth.len(), 2, "{truth:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let (doc, file) = sbom(&format!("oci:{}:v1", layout(dir.path()).display()), &[]);
    let ours: BTreeSet<String> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:rpm/"))
        })
        .map(|c| {
            let purl = c["purl"].as_str().unwrap_or_default();
            let q = |k: &str| {
                purl.split(['?', '&'])
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .unwrap_or("(none)")
                    .to_owned()
            };
            format!(
                "{} {} {} {} {}",
                c["name"].as_str().unwrap_or_default(),
                q("epoch"),
                c["version"].as_str().unwrap_or_default(),
                q("arch"),
                c["licenses"][0]["license"]["id"]
                    .as_str()
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(ours, truth);
    let app = "pkg:rpm/fedora/cicd-demo-app@2.0.1-1?arch=noarch&distro=fedora-39&epoch=4";
    assert_eq!(by_purl(&doc, app)["name"], "cicd-demo-app");
    assert_eq!(
        depends_on(&doc, app),
        BTreeSet::from([
            "pkg:rpm/fedora/cicd-demo-lib@1.4.2-3?arch=noarch&distro=fedora-39&epoch=0".to_owned()
        ])
    );
    validate("1.6", &file);
    // The SPDX rendering of the same image passes spdx-tools too.
    let (_, spdx) = sbom(
        &format!("oci:{}:v1", layout(dir.path()).display()),
        &["--format", "spdx-json"],
    );
    let tool = require_tool("pyspdxtools", "scripts/test (a venv with spdx-tools)");
    let (ok, text) = run_tool(&tool, &["-i".as_ref(), spdx.as_os_str()]);
    assert!(ok && text.trim().is_empty(), "spdx-tools: {text}");
}
