//! cicd releasing itself: the steps of this repository's `.github/workflows/release.yml`, run
//! in order as its jobs run them, against loopback stand-ins — `scripts/dist/package.py`
//! (binaries job), the packaged binary building its own image with a digest record (image
//! job), that binary's `cicd release --records` with keyless signing (@sigstore/mock) and the
//! GitHub REST stand-in (release job), `scripts/dist/commit_action_table.py` committing the
//! checksum table through the REST API (action-table job) — and then the action installing
//! the released archive by that table and running it.
//!
//! What this test does not do: cross-compile (the musl and arm64 builds compile every
//! dependency again, about 30 minutes on 2 cores; `scripts/dist/cross-check` does the arm64
//! one by hand) or build for macOS. The one binary is the statically linked x86_64 build
//! `scripts/test` makes, packaged under the x86_64 musl target's name, and the repository's
//! cicd.yaml is released for `linux/amd64` only (no arm64 cicd is built in the suite).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::runner::run_action;
use super::{Runner, TARGET, VERSION, action_copy, release_server, sha256_hex};
use crate::harness::github_rest::GithubRest;
use crate::harness::{cicd, repo_root};
use crate::release::git;
use crate::sign::keyless::{Mock, REQUEST_TOKEN, SAN};

const GH_TOKEN: &str = "ghs_selfReleaseT0kenNeverPrinted";

/// A clone-like copy of what the release workflow reads, committed and tagged `v1.2.3`.
fn checkout(dir: &Path) -> String {
    let root = repo_root();
    for file in [
        "Dockerfile",
        "action.yml",
        "action/checksums.txt",
        "action/update-checksums.sh",
        "action/install.sh",
        "action/run.sh",
        "scripts/dist/package.py",
        "scripts/dist/commit_action_table.py",
    ] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(root.join(file), &to).expect("copy");
    }
    let config = std::fs::read_to_string(root.join("cicd.yaml")).expect("cicd.yaml");
    assert!(config.contains("platforms: [linux/amd64, linux/arm64]"));
    let config = config.replace(
        "platforms: [linux/amd64, linux/arm64]",
        "platforms: [linux/amd64]",
    );
    std::fs::write(dir.join("cicd.yaml"), config).expect("write cicd.yaml");
    std::fs::write(
        dir.join(".gitignore"),
        "dist/\nout/\nrecords/\nr1/\nr2/\nsmall-binary\n.gh-*\n",
    )
    .expect("ignore");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "feat: cicd"]);
    git(dir, &["tag", "-a", &format!("v{VERSION}"), "-m", "release"]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// `python3 scripts/dist/package.py` as the binaries job runs it, with the binary given.
fn package(dir: &Path, binary: &Path, out: &str, epoch: &str) -> Vec<u8> {
    let run = Command::new("python3")
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", epoch)
        .args([
            "scripts/dist/package.py",
            "--target",
            TARGET,
            "--version",
            VERSION,
        ])
        .arg("--binary")
        .arg(binary)
        .args(["--out", out])
        .output()
        .expect("package.py");
    assert!(run.status.success(), "{run:?}");
    std::fs::read(
        dir.join(out)
            .join(format!("archives/cicd-{VERSION}-{TARGET}.tar.gz")),
    )
    .expect("archive")
}

/// GitHub's example answer `name` from its OpenAPI description.
fn example(name: &str) -> Value {
    let spec: Value = serde_json::from_slice(
        &std::fs::read(crate::harness::github_api::openapi_path()).expect("spec"),
    )
    .expect("json");
    spec["components"]["examples"][name]["value"].clone()
}

/// Stand-in answers for the two REST operations the table commit makes, and the reads a
/// re-run makes; the branch's table is kept in `held`.
fn route_contents(gh: &GithubRest, commit_sha: &'static str) -> Arc<Mutex<Option<String>>> {
    let held: Arc<Mutex<Option<String>>> = Arc::default();
    let (git_ref, file_commit, content) = (
        example("git-ref"),
        example("file-commit"),
        example("content-file"),
    );
    let h = held.clone();
    gh.route("POST", "/repos/{owner}/{repo}/git/refs", move |c| {
        let body: Value = serde_json::from_slice(c.body).ok()?;
        if h.lock().expect("lock").is_some() {
            return Some((
                422,
                json!({"message": "Reference already exists", "documentation_url": "https://docs.github.com"}),
            ));
        }
        let mut answer = git_ref.clone();
        answer["ref"] = body["ref"].clone();
        answer["object"]["sha"] = body["sha"].clone();
        Some((201, answer))
    });
    let h = held.clone();
    gh.route(
        "PUT",
        "/repos/{owner}/{repo}/contents/action%2Fchecksums.txt",
        move |c| {
            let body: Value = serde_json::from_slice(c.body).ok()?;
            let text = base64_decode(body["content"].as_str()?);
            *h.lock().expect("lock") = Some(text);
            let mut answer = file_commit.clone();
            answer["commit"]["sha"] = json!(commit_sha);
            Some((200, answer))
        },
    );
    let h = held.clone();
    gh.route(
        "GET",
        "/repos/{owner}/{repo}/contents/action%2Fchecksums.txt",
        move |_| {
            let text = h.lock().expect("lock").clone()?;
            let mut answer = content.clone();
            answer["content"] = json!(base64_encode(text.as_bytes()));
            Some((200, answer))
        },
    );
    held
}

fn base64_decode(text: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.replace('\n', ""))
        .expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The action-table job's step.
fn commit_table(dir: &Path, gh: &GithubRest, sha: &str) -> (std::process::Output, String) {
    commit_table_at(dir, &gh.api_url, sha, VERSION)
}

fn commit_table_at(
    dir: &Path,
    api_url: &str,
    sha: &str,
    version: &str,
) -> (std::process::Output, String) {
    let output = dir.join(".gh-table-output");
    let _ = std::fs::remove_file(&output);
    let run = Command::new("python3")
        .current_dir(dir)
        .env("GH_TOKEN", GH_TOKEN)
        .env("GITHUB_REPOSITORY", super::REPOSITORY)
        .env("GITHUB_SHA", sha)
        .env("GITHUB_API_URL", api_url)
        .env("GITHUB_OUTPUT", &output)
        .env("CICD_HTTP_TIMEOUT", "1")
        .args([
            "scripts/dist/commit_action_table.py",
            version,
            "dist/archives",
        ])
        .output()
        .expect("commit_action_table.py");
    (run, std::fs::read_to_string(&output).unwrap_or_default())
}

// See: issue 16 ("cicd's own repository is its first user … its release workflow").
#[test]
fn cicd_releases_itself_and_the_action_runs_what_it_released() {
    let mock = Mock::start();
    let gh = GithubRest::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let sha = checkout(dir);
    let epoch = git(dir, &["log", "-1", "--format=%ct"]).trim().to_owned();

    // binaries: the archive is reproducible (the same bytes whatever the file's own mtime).
    let static_bin = std::env::var_os("CICD_STATIC_BIN")
        .map_or_else(|| repo_root().join("target/static/cicd"), PathBuf::from);
    assert!(static_bin.is_file(), "{} is missing", static_bin.display());
    let small = dir.join("small-binary");
    std::fs::write(&small, b"\x7fELF not really").expect("write");
    let once = package(dir, &small, "r1", &epoch);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&small, b"\x7fELF not really").expect("rewrite");
    assert_eq!(once, package(dir, &small, "r2", &epoch), "not reproducible");
    let archive = package(dir, &static_bin, "dist", &epoch);
    let image_bin = dir.join("dist/amd64/cicd");

    // image: the packaged binary builds its own image by digest, with a record.
    std::fs::create_dir_all(dir.join("records")).expect("records");
    let built = Command::new(&image_bin)
        .current_dir(dir)
        .args(["build", "cicd", "--platform", "linux/amd64"])
        .args([
            "--to",
            "oci:out/cicd",
            "--record",
            "records/record-amd64.json",
        ])
        .output()
        .expect("build");
    assert!(built.status.success(), "{built:?}");

    // release: that binary releases itself, keylessly, onto the GitHub stand-in.
    let trust = mock.trust();
    let token_url = format!("http://127.0.0.1:{}/token?api-version=2.0", mock.port);
    let released = Command::new(&image_bin)
        .current_dir(dir)
        .env_remove("GITHUB_REF")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join(".gh-output"))
        .env("GITHUB_TOKEN", GH_TOKEN)
        .env("GITHUB_REPOSITORY", super::REPOSITORY)
        .env("GITHUB_API_URL", &gh.api_url)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &token_url)
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
        .env("CICD_TRUST_CONFIG", &trust)
        .env("CICD_HTTP_TIMEOUT", "5")
        .args(["release", "--records", "records", "--to", "oci:out"])
        .output()
        .expect("release");
    let stderr = String::from_utf8_lossy(&released.stderr);
    assert!(released.status.success(), "{stderr}");
    let outputs = std::fs::read_to_string(dir.join(".gh-output")).expect("outputs");
    assert!(
        outputs.contains(&format!("version={VERSION}\n")),
        "{outputs}"
    );

    let assets = gh.assets_of(&format!("v{VERSION}"));
    let asset = |name: &str| {
        assets
            .iter()
            .find(|a| a.json["name"] == name)
            .unwrap_or_else(|| {
                let names: Vec<&Value> = assets.iter().map(|a| &a.json["name"]).collect();
                panic!("no asset {name}: {names:?}")
            })
            .bytes
            .clone()
    };
    let archive_name = format!("cicd-{VERSION}-{TARGET}.tar.gz");
    assert_eq!(
        asset(&archive_name),
        archive,
        "the release holds the packaged bytes"
    );
    let sums = String::from_utf8(asset("SHA256SUMS")).expect("utf-8");
    assert!(
        sums.contains(&format!("{}  {archive_name}\n", sha256_hex(&archive))),
        "{sums}"
    );
    assert!(
        assets.iter().any(|a| a.json["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("cicd.linux-amd64") && n.ends_with(".json"))),
        "no SBOM asset"
    );
    verify_image_keyless(dir, &trust);
    // The release's own signature over its files, checked by sigstore-python's CLI for the
    // archive (its digest is one of the statement's subjects) and refused for other bytes.
    let bundle = dir.join("SHA256SUMS.sigstore.json");
    std::fs::write(&bundle, asset("SHA256SUMS.sigstore.json")).expect("bundle");
    let packaged = dir.join(&archive_name);
    std::fs::write(&packaged, &archive).expect("archive");
    let (ok, log) = sigstore_cli(&trust, &bundle, &packaged);
    assert!(ok, "sigstore-python: {log}");
    std::fs::write(&packaged, b"other bytes").expect("tamper");
    let (ok, log) = sigstore_cli(&trust, &bundle, &packaged);
    assert!(!ok, "sigstore-python accepted other bytes: {log}");

    // action-table: the table is committed through the REST API; a re-run reports the same.
    let held = route_contents(&gh, "0123456789abcdef0123456789abcdef01234567");
    let (first, output) = commit_table(dir, &gh, &sha);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        output,
        "action-sha=0123456789abcdef0123456789abcdef01234567\n"
    );
    let table = held
        .lock()
        .expect("lock")
        .clone()
        .expect("a table was committed");
    assert!(
        table.contains(&format!("{}  {archive_name}\n", sha256_hex(&archive))),
        "{table}"
    );
    assert!(table.contains(&format!("# repository: {}\n", super::REPOSITORY)));
    let mut branch = example("branch-get");
    branch["commit"]["sha"] = json!("0123456789abcdef0123456789abcdef01234567");
    gh.route(
        "GET",
        "/repos/{owner}/{repo}/branches/action-v1.2.3",
        move |_| Some((200, branch.clone())),
    );
    let (again, output) = commit_table(dir, &gh, &sha);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(
        output,
        "action-sha=0123456789abcdef0123456789abcdef01234567\n"
    );
    for text in [&first.stdout, &first.stderr, &again.stdout, &again.stderr] {
        assert!(!String::from_utf8_lossy(text).contains(GH_TOKEN));
    }
    gh.assert_openapi_valid();

    // The action, at the commit holding that table, installs the released archive and runs it.
    let server = release_server::ReleaseServer::start(
        super::REPOSITORY,
        &format!("v{VERSION}"),
        [(
            archive_name,
            asset(&format!("cicd-{VERSION}-{TARGET}.tar.gz")),
        )]
        .into(),
    );
    let runner = Runner::new(&server.url);
    let action = action_copy(runner.root.path(), &table);
    let run = run_action(
        &action,
        &[("command", "--version")],
        &runner.env(),
        &runner.workspace(),
        "tok",
    );
    assert_eq!(run.code(), 0, "{run:#?}");
    assert!(run.stdout().contains("cicd "), "{run:#?}");
}

/// `sigstore verify identity --offline` (sigstore-python's CLI) of `file` with `bundle`, for
/// the workflow identity the mock certifies.
fn sigstore_cli(trust: &Path, bundle: &Path, file: &Path) -> (bool, String) {
    let sigstore = crate::harness::require_tool("sigstore", "pip install sigstore==4.5.1");
    let mut args: Vec<&std::ffi::OsStr> = vec!["--trust-config".as_ref(), trust.as_os_str()];
    args.extend(["verify", "identity", "--offline", "--bundle"].map(std::ffi::OsStr::new));
    args.push(bundle.as_os_str());
    args.extend(["--cert-identity", SAN, "--cert-oidc-issuer"].map(std::ffi::OsStr::new));
    args.push(crate::sign::keyless::ISSUER.as_ref());
    args.push(file.as_os_str());
    crate::harness::run_tool(&sigstore, &args)
}

/// The released image verifies for the workflow identity that signed it.
fn verify_image_keyless(dir: &Path, trust: &Path) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/cicd/index.json")).expect("index"))
            .expect("json");
    let digest = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == VERSION)
        .and_then(|m| m["digest"].as_str())
        .expect("the version tag")
        .to_owned();
    let verify = cicd()
        .current_dir(dir)
        .args(["verify", "--trust-config"])
        .arg(trust)
        .args(["--certificate-identity", SAN])
        .args([
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
        ])
        .arg(format!("oci:{}@{digest}", dir.join("out/cicd").display()))
        .output()
        .expect("verify");
    assert!(verify.status.success(), "{verify:?}");
}

// See: issue 16. The table commit fails closed: a version holding a newline and `::` is
// refused before any request; GitHub failing, or accepting and never answering, is exit 3;
// a branch that already holds another table is exit 1 — each with no `action-sha` output.
#[test]
fn the_table_commit_fails_closed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let sha = checkout(dir);
    let archives = dir.join("dist/archives");
    std::fs::create_dir_all(&archives).expect("mkdir");
    std::fs::write(
        archives.join(format!("cicd-{VERSION}-{TARGET}.tar.gz")),
        b"bytes",
    )
    .expect("w");

    let gh = GithubRest::start();
    let (run, output) = commit_table_at(dir, &gh.api_url, &sha, "1.2.3\n::error::pwned");
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(output.is_empty() && gh.exchanges().is_empty());

    gh.fail("POST", "/repos/{owner}/{repo}/git/refs", 502, 3);
    let (run, output) = commit_table(dir, &gh, &sha);
    assert_eq!(run.status.code(), Some(3), "{run:?}");
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("after 3 attempts"),
        "{run:?}"
    );
    assert!(output.is_empty(), "{output}");

    let held = route_contents(&gh, "0123456789abcdef0123456789abcdef01234567");
    *held.lock().expect("lock") = Some("# another release's table\n".into());
    let (run, output) = commit_table(dir, &gh, &sha);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("holds another"),
        "{run:?}"
    );
    assert!(output.is_empty(), "{output}");
    assert!(
        !gh.exchanges().iter().any(|e| e.method == "PUT"),
        "a refused re-run wrote"
    );
    gh.assert_openapi_valid();

    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let (run, output) = commit_table_at(dir, &url, &sha, VERSION);
    assert_eq!(run.status.code(), Some(3), "{run:?}");
    assert!(output.is_empty(), "{output}");
    for text in [&run.stdout, &run.stderr] {
        assert!(!String::from_utf8_lossy(text).contains(GH_TOKEN));
    }
    drop(silent);
}

/// `package.py` with `args`, in `dir`: (exit code, stderr).
fn package_run(dir: &Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = Command::new("python3")
        .current_dir(dir)
        .arg("scripts/dist/package.py")
        .args(["--target", TARGET])
        .args(args)
        .output()
        .expect("package.py");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// See: issue 16. `package.py` as a hostile checkout would drive it: an empty and a truncated
// binary, a version holding a newline and `::`, and an output file or directory that is a
// symlink out of the tree — each exit 2 with its reason (the version shown escaped), and
// nothing written outside `--out`.
#[test]
fn packaging_refuses_empty_truncated_hostile_and_symlinked_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    checkout(dir);
    let os = |s: &str| std::ffi::OsString::from(s);
    let elf = dir.join("ok-binary");
    std::fs::write(&elf, b"\x7fELF\x02 a small stand-in").expect("write");
    for (name, bytes) in [("empty", &b""[..]), ("cut", &b"\x7fE"[..])] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        let (code, stderr) = package_run(
            dir,
            &[
                &os("--version"),
                &os("1.2.3"),
                &os("--binary"),
                path.as_os_str(),
            ],
        );
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(stderr.contains("not an executable"), "{stderr}");
    }
    let (code, stderr) = package_run(
        dir,
        &[
            &os("--version"),
            &os("1.2.3\n::error::forged"),
            &os("--binary"),
            elf.as_os_str(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
    assert!(!dir.join("dist").exists());

    // A symlinked archive is replaced, never written through; a symlinked directory refused.
    let outside = tempfile::tempdir().expect("outside");
    let archives = dir.join("dist/archives");
    std::fs::create_dir_all(&archives).expect("mkdir");
    let victim = outside.path().join("victim");
    std::os::unix::fs::symlink(
        &victim,
        archives.join(format!("cicd-1.2.3-{TARGET}.tar.gz")),
    )
    .expect("symlink");
    std::os::unix::fs::symlink(outside.path(), dir.join("dist/amd64")).expect("symlink");
    let (code, stderr) = package_run(
        dir,
        &[
            &os("--version"),
            &os("1.2.3"),
            &os("--binary"),
            elf.as_os_str(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("a symlink; refusing to write through it"),
        "{stderr}"
    );
    assert!(!victim.exists(), "written through a symlink");
    assert_eq!(std::fs::read_dir(outside.path()).expect("read").count(), 0);
}
