//! Adversarial cases for the oci area (see `mod.rs`): damaged and hostile image layouts,
//! references and registry servers given on purpose, secrets that must never reach a stream
//! or a file, and messages that must name the right thing. Real `docker-registry` from the
//! harness, skopeo as the independent client.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::harness::registry::{PASSWORD, USER, htpasswd, plain};
use crate::harness::{cicd, images, require_tool, run_tool};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn image(args: &[&str]) -> Output {
    cicd()
        .arg("image")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run cicd")
}

/// Whether skopeo (not our client) finds `reference` in a registry.
fn skopeo_finds(reference: &str) -> bool {
    let skopeo = require_tool("skopeo", "apt-get install skopeo");
    let args = ["inspect", "--raw", "--tls-verify=false", reference];
    let os: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    run_tool(&skopeo, &os).0
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(&digest[7..])
}

/// The layer digest of the single-platform image `images::single` wrote.
fn layer_of(layout: &Path, manifest: &str) -> String {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(layout, manifest)).expect("manifest"))
            .expect("json");
    m["layers"][0]["digest"]
        .as_str()
        .expect("layer digest")
        .to_owned()
}

/// Flips one byte in the middle of a blob: same size, wrong digest.
fn corrupt(path: &Path) {
    let mut bytes = std::fs::read(path).expect("blob");
    let i = bytes.len() / 2;
    bytes[i] ^= 0x55;
    std::fs::write(path, bytes).expect("write blob");
}

/// Upload sessions of `repo` still holding bytes the registry received (a cancelled session
/// leaves only an empty hash-state folder behind).
fn open_uploads(root: &Path, repo: &str) -> usize {
    let dir = root
        .join("store/docker/registry/v2/repositories")
        .join(repo)
        .join("_uploads");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("data").exists())
        .count()
}

// See: issue 8 item 6
#[test]
fn corrupted_layout_blob_is_refused_before_the_upload_completes() {
    let reg = plain();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("bad-src");
    let img = images::single(&src, "v1", 1_600_000, 801);
    let layer = layer_of(&src, &img.digest);
    corrupt(&blob(&src, &layer));
    for (repo, extra) in [("adv6/streamed", None), ("adv6/chunked", Some("1"))] {
        let dst = format!("docker://{}/{repo}:v1", reg.addr);
        let mut args = vec!["copy", "--json"];
        if let Some(mib) = extra {
            args.extend(["--chunk-size", mib]);
        }
        let from = format!("oci:{}:v1", src.display());
        args.extend([from.as_str(), dst.as_str()]);
        let out = image(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{repo}: {}", text(&out));
        assert!(err.contains(&src.display().to_string()), "{err}");
        assert!(err.contains(&layer), "{err}");
        assert!(!err.contains("answered"), "blames the registry: {err}");
        assert!(
            !skopeo_finds(&format!("docker://{}/{repo}:v1", reg.addr)),
            "{repo}: the tag was written"
        );
        assert_eq!(
            open_uploads(reg.dir.path(), repo),
            0,
            "{repo}: the upload session was left open"
        );
        let digest_url = format!("docker://{}/{repo}@{layer}", reg.addr);
        assert!(!skopeo_finds(&digest_url));
    }
}

// See: issue 8 item 7
#[test]
fn layout_blob_symlinked_outside_the_layout_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 2000, 802);
    let layer = layer_of(&src, &img.digest);
    // The outside file holds the right bytes: only the link itself can be the reason.
    let outside = tmp.path().join("outside-secret");
    std::fs::rename(blob(&src, &layer), &outside).expect("move");
    std::os::unix::fs::symlink(&outside, blob(&src, &layer)).expect("symlink");
    let dst = tmp.path().join("dst");
    let out = image(&[
        "copy",
        &format!("oci:{}:v1", src.display()),
        &format!("oci:{}:v1", dst.display()),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        err.contains(&blob(&src, &layer).display().to_string()),
        "{err}"
    );
    assert!(err.contains("outside"), "{err}");
    assert!(!dst.join("blobs/sha256").join(&layer[7..]).exists());

    // index.json pointing at a file outside (here /etc/passwd) is never read.
    let src2 = tmp.path().join("src2");
    images::single(&src2, "v1", 100, 803);
    std::fs::remove_file(src2.join("index.json")).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", src2.join("index.json")).expect("symlink");
    let out = image(&["inspect", &format!("oci:{}:v1", src2.display())]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("index.json"), "{}", text(&out));
    assert!(!text(&out).contains("root:"), "{}", text(&out));

    // A hard link to a file outside the layout.
    let src3 = tmp.path().join("src3");
    let img3 = images::single(&src3, "v1", 2000, 804);
    let layer3 = layer_of(&src3, &img3.digest);
    let outside3 = tmp.path().join("outside-hard");
    std::fs::rename(blob(&src3, &layer3), &outside3).expect("move");
    std::fs::hard_link(&outside3, blob(&src3, &layer3)).expect("hard link");
    let out = image(&[
        "copy",
        &format!("oci:{}:v1", src3.display()),
        &format!("oci:{}:v1", tmp.path().join("dst3").display()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains(&blob(&src3, &layer3).display().to_string()),
        "{}",
        text(&out)
    );

    // A symlink that stays inside the layout is fine.
    let src4 = tmp.path().join("src4");
    let img4 = images::single(&src4, "v1", 2000, 805);
    let layer4 = layer_of(&src4, &img4.digest);
    std::fs::create_dir_all(src4.join("extra")).expect("mkdir");
    std::fs::rename(blob(&src4, &layer4), src4.join("extra/layer")).expect("move");
    std::os::unix::fs::symlink("../../extra/layer", blob(&src4, &layer4)).expect("symlink");
    let out = image(&[
        "copy",
        &format!("oci:{}:v1", src4.display()),
        &format!("oci:{}:v1", tmp.path().join("dst4").display()),
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

// See: issue 8 item 7
#[test]
fn layout_blob_that_is_a_fifo_is_refused_without_hanging() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 2000, 806);
    let layer = layer_of(&src, &img.digest);
    std::fs::remove_file(blob(&src, &layer)).expect("rm");
    let ok = std::process::Command::new("mkfifo")
        .arg(blob(&src, &layer))
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo failed");
    let out = cicd()
        .args([
            "image",
            "copy",
            &format!("oci:{}:v1", src.display()),
            &format!("oci:{}:v1", tmp.path().join("dst").display()),
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("run cicd");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&blob(&src, &layer).display().to_string()),
        "{err}"
    );
    assert!(err.contains("not a regular file"), "{err}");
}

/// Every file under `dir`, read whole.
fn files_under(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

// See: issue 8 item 9
#[test]
fn login_never_prints_the_password_in_github_actions() {
    let reg = htpasswd();
    for (password, refused) in [("wrong-Pw-55ab-never-print", true), (PASSWORD, false)] {
        let tmp = tempfile::tempdir().expect("tmp");
        let docker = tmp.path().join("docker");
        let output = tmp.path().join("github_output");
        let summary = tmp.path().join("step_summary");
        std::fs::write(&output, "").expect("touch");
        std::fs::write(&summary, "").expect("touch");
        let out = cicd()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("DOCKER_CONFIG", &docker)
            .env("HOME", tmp.path())
            .args(["image", "login", &reg.addr, "-u", USER, "--password-stdin"])
            .write_stdin(format!("{password}\n"))
            .timeout(Duration::from_secs(60))
            .output()
            .expect("login");
        assert_eq!(out.status.success(), !refused, "{}", text(&out));
        assert!(!contains(&out.stdout, password), "stdout has the password");
        assert!(!contains(&out.stderr, password), "stderr has the password");
        let mut written = Vec::new();
        files_under(tmp.path(), &mut written);
        for (path, bytes) in &written {
            assert!(
                !contains(bytes, password),
                "{} has the password",
                path.display()
            );
        }
        let config = docker.join("config.json");
        if refused {
            assert!(
                !config.exists(),
                "a refused login wrote {}",
                config.display()
            );
        } else {
            use base64::Engine;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
            let cfg = std::fs::read(&config).expect("config written");
            assert!(
                contains(&cfg, &encoded),
                "credential not stored as Docker does"
            );
        }
    }
}

// See: issue 8 item 12
#[test]
fn bad_input_exits_2_not_3() {
    let tmp = tempfile::tempdir().expect("tmp");
    // A port no TCP address can have.
    let out = image(&["inspect", "docker://127.0.0.1:99999/app:v1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("99999"), "{}", text(&out));

    // `oci:/dev/full` as a destination: not a directory.
    let src = tmp.path().join("src");
    images::single(&src, "v1", 500, 807);
    let out = image(&[
        "copy",
        &format!("oci:{}:v1", src.display()),
        "oci:/dev/full",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("/dev/full"), "{}", text(&out));

    // A blob missing from a local layout.
    let src2 = tmp.path().join("src2");
    let img2 = images::single(&src2, "v1", 500, 808);
    let layer = layer_of(&src2, &img2.digest);
    std::fs::remove_file(blob(&src2, &layer)).expect("rm");
    let out = image(&[
        "copy",
        &format!("oci:{}:v1", src2.display()),
        &format!("oci:{}:v1", tmp.path().join("dst2").display()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains(&layer), "{}", text(&out));
    assert!(
        stderr(&out).contains(&src2.display().to_string()),
        "{}",
        text(&out)
    );

    // A platform the index does not have.
    let multi = tmp.path().join("multi");
    images::multi(&multi, "v1", 809);
    let out = image(&[
        "copy",
        "--platform",
        "linux/s390x",
        &format!("oci:{}:v1", multi.display()),
        &format!("oci:{}:v1", tmp.path().join("dst3").display()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("linux/s390x"), "{err}");
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
}

// See: issue 8 item 12
#[test]
fn login_accepts_a_scheme_prefixed_server_like_docker() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let docker = tmp.path().join("docker");
    for server in [
        format!("http://{}", reg.addr),
        format!("https://{}/v2/", reg.addr),
    ] {
        let out = cicd()
            .env("DOCKER_CONFIG", &docker)
            .args(["image", "login", &server, "-u", USER, "--password-stdin"])
            .write_stdin(PASSWORD)
            .timeout(Duration::from_secs(60))
            .output()
            .expect("login");
        assert!(out.status.success(), "{server}: {}", text(&out));
        assert!(!text(&out).contains("http//"), "{}", text(&out));
        let cfg: serde_json::Value =
            serde_json::from_slice(&std::fs::read(docker.join("config.json")).expect("config"))
                .expect("json");
        assert!(cfg["auths"][reg.addr.as_str()].is_object(), "{cfg}");
    }
    for server in ["http://", "ftp://host", "http://bad host"] {
        let out = cicd()
            .env("DOCKER_CONFIG", &docker)
            .args(["image", "login", server, "-u", USER, "--password-stdin"])
            .write_stdin(PASSWORD)
            .timeout(Duration::from_secs(60))
            .output()
            .expect("login");
        assert_eq!(out.status.code(), Some(2), "{server}: {}", text(&out));
    }
}

// See: issue 8 item 13
#[test]
fn inspect_names_a_missing_platform_manifest() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("multi");
    let img = images::multi(&dir, "v1", 810);
    let gone = &img.children[1];
    std::fs::remove_file(blob(&dir, gone)).expect("rm");
    let out = image(&["inspect", &format!("oci:{}:v1", dir.display())]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains(gone.as_str()), "{}", text(&out));
    assert!(!text(&out).contains("0 layers"), "{}", text(&out));
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// `cicd ARGS` under `umask 022`, as a shell would start it.
fn with_umask_022(args: &[&str]) -> Output {
    let mut cmd = cicd();
    cmd.env("CICD_UNDER_TEST", env!("CARGO_BIN_EXE_cicd"));
    let mut shell = std::process::Command::new("sh");
    shell
        .arg("-c")
        .arg("umask 022; exec \"$CICD_UNDER_TEST\" \"$@\"")
        .arg("sh")
        .args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => shell.env(k, v),
            None => shell.env_remove(k),
        };
    }
    shell.output().expect("run cicd under sh")
}

// See: issue 8 item 11
#[test]
fn new_files_honour_the_umask_like_skopeo() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 800, 811);
    let dst = tmp.path().join("dst");
    let out = with_umask_022(&[
        "image",
        "copy",
        &format!("oci:{}:v1", src.display()),
        &format!("oci:{}:v1", dst.display()),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    for file in [
        dst.join("index.json"),
        dst.join("oci-layout"),
        blob(&dst, &img.digest),
        blob(&dst, &layer_of(&src, &img.digest)),
    ] {
        assert_eq!(mode(&file), 0o644, "{}", file.display());
    }
    let report = tmp.path().join("report.json");
    let out = with_umask_022(&[
        "check",
        "--offline",
        "--format",
        "json",
        "--output",
        report.to_str().expect("utf-8"),
        crate::harness::data("check/clean").to_str().expect("utf-8"),
    ]);
    assert!(report.exists(), "{}", text(&out));
    assert_eq!(mode(&report), 0o644);
}

// See: issue 8 item 15
#[test]
fn a_corrupt_source_blob_names_the_source_layout() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("bad1");
    let img = images::single(&src, "v1", 5000, 812);
    let layer = layer_of(&src, &img.digest);
    corrupt(&blob(&src, &layer));
    let dst = tmp.path().join("good2");
    let out = image(&[
        "copy",
        &format!("oci:{}:v1", src.display()),
        &format!("oci:{}:v1", dst.display()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains(&src.display().to_string()), "{err}");
    assert!(!err.contains("good2"), "{err}");
    assert!(err.contains(&layer), "{err}");
}

// See: issue 8 item 16
#[test]
fn messages_name_what_the_user_gave() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 500, 813);

    let out = image(&["tag", &format!("oci:{}:v1", src.display()), "bad tag"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("`bad tag`"), "{err}");
    assert!(!err.contains("x:"), "{err}");

    let long = format!("127.0.0.1:5000/{}:v1", "a".repeat(300));
    let out = image(&["inspect", &long]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("255"), "{err}");
    assert!(!err.contains("lowercase letters"), "{err}");

    let out = image(&["inspect", &format!("oci:{}:v1", src.display())]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("(1 layer,"), "{shown}");
    assert!(!shown.contains("1 layers"), "{shown}");
    assert!(shown.contains(&img.digest), "{shown}");

    let missing_dir = tmp.path().join("no-such-dir/report.json");
    let out = cicd()
        .args(["check", "--offline", "--output"])
        .arg(&missing_dir)
        .arg(crate::harness::data("check/clean"))
        .output()
        .expect("run cicd");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains(&missing_dir.display().to_string()), "{err}");
    let outside_tmp = err.replace(&tmp.path().display().to_string(), "TMP");
    assert!(
        !outside_tmp.contains(".tmp"),
        "names a temporary file: {err}"
    );
}

// See: issue 8 item 16
#[test]
fn a_refused_login_says_what_was_refused() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let out = cicd()
        .env("DOCKER_CONFIG", tmp.path())
        .args(["image", "login", &reg.addr, "-u", USER, "--password-stdin"])
        .write_stdin("wrong-password-for-the-test")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("login");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = stderr(&out);
    assert!(!err.contains("for :"), "{err}");
    assert!(err.contains(USER), "{err}");
    assert!(!err.contains("cicd image login"), "{err}");
    assert!(err.contains("password"), "{err}");
}

/// stderr with the temporary directory, the registry address and digests redacted.
fn redacted_stderr(out: &Output, tmp: &Path) -> String {
    let text = stderr(out).replace(&tmp.display().to_string(), "TMP");
    let digest = regex_lite_digest(&text);
    digest.trim_end().to_owned()
}

/// Replaces every `sha256:<64 hex>` with `sha256:[digest]` (and `sha256-<hex>` alike).
fn regex_lite_digest(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("sha256") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let hex_len = after
            .get(1..)
            .map(|h| h.bytes().take_while(u8::is_ascii_hexdigit).count())
            .unwrap_or(0);
        if hex_len == 64 && after.starts_with([':', '-', '/']) {
            out.push_str("sha256");
            out.push_str(&after[..1]);
            out.push_str("[digest]");
            rest = &after[65..];
        } else {
            out.push_str("sha256");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

// See: issue 8 items 6, 7, 12, 13, 15, 16: what the refusals say, as a user reads them.
#[test]
fn refusals_read_well() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 500, 814);
    let layer = layer_of(&src, &img.digest);
    let from = format!("oci:{}:v1", src.display());
    let to = format!("oci:{}:v1", tmp.path().join("dst").display());
    let mut seen = Vec::new();

    corrupt(&blob(&src, &layer));
    let out = image(&["copy", &from, &to]);
    seen.push(redacted_stderr(&out, tmp.path()));

    std::fs::remove_file(blob(&src, &layer)).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", blob(&src, &layer)).expect("symlink");
    let out = image(&["copy", &from, &to]);
    seen.push(redacted_stderr(&out, tmp.path()));

    std::fs::remove_file(blob(&src, &layer)).expect("rm");
    let out = image(&["copy", &from, &to]);
    seen.push(redacted_stderr(&out, tmp.path()));

    let multi = tmp.path().join("multi");
    let m = images::multi(&multi, "v1", 815);
    let mfrom = format!("oci:{}:v1", multi.display());
    let out = image(&["copy", "--platform", "linux/s390x", &mfrom, &to]);
    seen.push(redacted_stderr(&out, tmp.path()));
    std::fs::remove_file(blob(&multi, &m.children[0])).expect("rm");
    let out = image(&["inspect", &mfrom]);
    seen.push(redacted_stderr(&out, tmp.path()));

    let out = image(&["inspect", "127.0.0.1:99999/app:v1"]);
    seen.push(redacted_stderr(&out, tmp.path()));
    let out = image(&["inspect", &format!("r.example/{}", "a".repeat(300))]);
    seen.push(redacted_stderr(&out, tmp.path()));
    let out = image(&["tag", &mfrom, "bad tag"]);
    seen.push(redacted_stderr(&out, tmp.path()));
    let out = cicd()
        .args([
            "image",
            "login",
            "ftp://host",
            "-u",
            "u",
            "--password-stdin",
        ])
        .write_stdin("p")
        .output()
        .expect("login");
    seen.push(redacted_stderr(&out, tmp.path()));
    insta::assert_snapshot!(seen.join("\n"), @r#"
    error: image layout TMP/src: blob sha256:[digest] does not match its digest: TMP/src/blobs/sha256/[digest] holds sha256:[digest] (2048 bytes); the layout is damaged, nothing was sent or tagged
    error: image layout TMP/src: TMP/src/blobs/sha256/[digest]: is a symbolic link leading outside the layout (to /etc/passwd); refusing to read it
    error: image layout TMP/src: blob sha256:[digest] is missing (TMP/src/blobs/sha256/[digest])
    error: oci:TMP/multi:v1 has no linux/s390x image; it has: linux/amd64, linux/arm64
    error: image layout TMP/multi: the linux/amd64 manifest the index lists: blob sha256:[digest] is missing (TMP/multi/blobs/sha256/[digest])
    error: invalid image reference `127.0.0.1:99999/app:v1`: invalid port in `127.0.0.1:99999`: a port is a number from 1 to 65535
    error: invalid image reference `r.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`: repository name is 310 characters long; registry/repository may have at most 255
    error: invalid tag `bad tag`: up to 128 of [A-Za-z0-9_.-], not starting with `.` or `-`
    error: invalid registry `ftp://host`: expected HOST[:PORT] (`https://` or `http://` and a path are accepted and ignored, as docker login does)
    "#);
}

/// A layout whose `index.json` is huge (a sparse 100 MB file here) was read whole before
/// being parsed; it is refused at 64 MiB with exit 2, naming the file.
#[test]
fn a_huge_index_json_is_refused_not_read_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    let index = std::fs::File::create(tmp.path().join("index.json")).expect("index");
    index.set_len(100 << 20).expect("sparse");
    let layout = format!("oci:{}:v1", tmp.path().display());
    let out = image(&["inspect", &layout]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("index.json"), "{}", stderr(&out));
    assert!(stderr(&out).contains("bytes"), "{}", stderr(&out));
}
