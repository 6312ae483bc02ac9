//! Keyless signing used as a hostile environment would: a token endpoint or a Rekor that
//! accepts the connection and never answers, tokens holding a newline and `::` (a workflow
//! command smuggled into the log), and a certificate whose SAN holds one. Each fails closed,
//! quickly, without echoing the token, and the SAN is shown escaped.

use crate::harness::images;
use crate::sign::keyless::Mock;
use crate::sign::s;

fn layout() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 100, 5);
    let reference = format!("oci:{}:v1", s(&lay));
    (tmp, reference)
}

// See: issue 12 item 3 (every network call has a timeout)
#[test]
fn token_endpoint_that_never_answers_times_out_with_exit_3() {
    let mock = Mock::start();
    let (_tmp, reference) = layout();
    let out = mock
        .cicd()
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("http://127.0.0.1:{}/hang", mock.port),
        )
        .env("CICD_HTTP_TIMEOUT", "1")
        .args(["sign", "--trust-config", s(&mock.trust()), &reference])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("OIDC token endpoint") && stderr.contains("timed out"),
        "{stderr}"
    );
    assert!(!stderr.contains("runtime-request-token"), "{stderr}");
}

// See: issue 12 item 3 (the token is a secret; `::` must not reach the log)
#[test]
fn tokens_with_a_newline_or_workflow_command_are_refused_unseen() {
    let mock = Mock::start();
    let (_tmp, reference) = layout();
    for token in [
        "eyJhIjoxfQ.eyJiIjoyfQ.c2ln\n::set-output name=pwned::1",
        "eyJhIjoxfQ.eyJiIjoyfQ::stop-commands::x.c2ln",
        "not a jwt at all",
    ] {
        let out = mock
            .cicd()
            .env("SIGSTORE_ID_TOKEN", token)
            .args(["sign", "--trust-config", s(&mock.trust()), &reference])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{token:?}: {stderr}");
        assert!(stderr.contains("is not a JWT"), "{stderr}");
        for part in token.split(['\n', '.']) {
            assert!(
                !stderr.contains(part) && !stdout.contains(part),
                "{part:?} echoed"
            );
        }
        assert!(
            !stderr.contains("::add-mask::"),
            "a refused token is not masked either"
        );
    }
}

/// The mock's trust config `given` (Rekor v1 or v2) with its Rekor moved to a path that
/// accepts and never answers.
fn hanging_rekor(
    mock: &Mock,
    given: &std::path::Path,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let mut trust: serde_json::Value =
        serde_json::from_slice(&std::fs::read(given).expect("trust")).expect("json");
    trust["signingConfig"]["rekorTlogUrls"][0]["url"] =
        serde_json::json!(format!("http://127.0.0.1:{}/hang", mock.port));
    let name = given.file_name().expect("name").to_string_lossy();
    let path = dir.join(format!("hanging_rekor-{name}"));
    std::fs::write(&path, trust.to_string()).expect("write");
    path
}

// See: issue 12 (every network call has a timeout; fail closed in every output)
#[test]
fn a_rekor_that_never_answers_ends_with_exit_3_naming_it() {
    let mock = Mock::start();
    let (tmp, reference) = layout();
    let (key, _) = crate::sign::keygen(tmp.path(), "cosign");
    // Key-based signatures log to Rekor v1 only (a v2-only config is exit 2, README): the
    // v2 log is tried keylessly.
    for (given, keyed) in [(mock.trust(), true), (mock.trust_v2(), false)] {
        let trust = hanging_rekor(&mock, &given, tmp.path());
        never_answering_rekor_runs(&mock, tmp.path(), &reference, keyed.then_some(&key), &trust);
    }
}

/// Keyed and keyless `sign` and `attest` against the never-answering Rekor of `trust`.
fn never_answering_rekor_runs(
    mock: &Mock,
    dir: &std::path::Path,
    reference: &str,
    key: Option<&std::path::PathBuf>,
    trust: &std::path::Path,
) {
    let tmp = dir;
    let predicate = tmp.join("p.json");
    std::fs::write(&predicate, "{}").expect("write");
    let keyed = key.map(|k| ["--key", s(k)]);
    let mut runs: Vec<(&str, &[&str])> = vec![("sign", &[]), ("attest", &[])];
    if let Some(keyed) = &keyed {
        runs.extend([("sign", &keyed[..]), ("attest", &keyed[..])]);
    }
    for (command, key_args) in runs {
        let output = tmp.join(format!("output-{command}-{}", key_args.len()));
        std::fs::write(&output, "").expect("write");
        let mut cmd = mock.cicd();
        cmd.env("CICD_HTTP_TIMEOUT", "1")
            .env("CICD_KEY_PASSWORD", crate::sign::PASSWORD)
            .env("GITHUB_OUTPUT", &output)
            .args([command, "--json", "--trust-config", s(trust)])
            .args(key_args);
        if command == "attest" {
            cmd.args(["--predicate", s(&predicate)]);
        }
        let out = cmd.arg(reference).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("{command} {key_args:?} with {}", trust.display());
        assert_eq!(out.status.code(), Some(3), "{what}: {stderr}");
        assert!(stderr.contains("Rekor"), "{what}: {stderr}");
        assert!(out.stdout.is_empty(), "{what}: no JSON claims anything");
        assert_eq!(
            std::fs::read_to_string(&output).expect("read"),
            "",
            "{what}: no $GITHUB_OUTPUT"
        );
        assert!(!stderr.contains(crate::sign::PASSWORD));
    }
}

/// A GitHub-shaped token whose workflow ref (the certificate's SAN) and subject hold a newline
/// and a workflow command.
fn hostile_token() -> String {
    use base64::Engine as _;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims = serde_json::json!({
        "iss": "https://token.actions.githubusercontent.com", "aud": "sigstore",
        "sub": "repo:acme/app:ref:refs/heads/x\n::error::sub",
        "job_workflow_ref": "acme/ci/.github/workflows/sign.yml@refs/heads/x\n::error::pwned",
        "iat": 1_700_000_000u64, "nbf": 1_700_000_000u64, "exp": 4_000_000_000u64,
    });
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(&claims)
    )
}

fn no_workflow_command(what: &str, text: &str) {
    for line in text.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") || t.starts_with("::add-mask::"),
            "{what}: a line opens a workflow command: {line:?}"
        );
    }
}

// See: issue 12 (user-controlled text escaped in every renderer)
#[test]
fn a_san_with_a_newline_and_workflow_command_is_rendered_escaped() {
    let mock = Mock::start();
    let (tmp, reference) = layout();
    let token = hostile_token();
    let predicate = tmp.path().join("p.json");
    std::fs::write(&predicate, r###"{"note": "x\n::error::p ##[error]y"}"###).expect("write");
    let trust = mock.trust();
    let signed = |args: &[&str]| {
        mock.cicd()
            .env("SIGSTORE_ID_TOKEN", &token)
            .args(args)
            .args(["--trust-config", s(&trust)])
            .output()
            .expect("run")
    };
    for args in [
        vec!["sign", reference.as_str()],
        vec!["attest", "--predicate", s(&predicate), reference.as_str()],
    ] {
        let out = signed(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        no_workflow_command("sign stdout", &String::from_utf8_lossy(&out.stdout));
        no_workflow_command("sign stderr", &stderr);
    }
    let any = ["--certificate-identity-regexp", "(?s).*"];
    let issuer = [
        "--certificate-oidc-issuer",
        "https://token.actions.githubusercontent.com",
    ];
    let other = [
        "--github-workflow",
        "acme/ci/.github/workflows/sign.yml@refs/tags/*",
    ];
    for (args, code) in [
        (vec!["verify"], 0),
        (vec!["verify-attestation"], 0),
        (vec!["verify", "--json"], 0),
        (vec!["verify-attestation", "--json"], 0),
    ] {
        let mut full = args.clone();
        full.extend(any);
        full.extend(issuer);
        let out = signed(&[&full[..], &[reference.as_str()]].concat());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{full:?}: {stderr}");
        no_workflow_command("verify stdout", &stdout);
        no_workflow_command("verify stderr", &stderr);
        assert!(!stdout.contains("##["), "{stdout}");
        if !full.contains(&"--json") && full[0] == "verify" {
            assert!(stdout.contains("refs/heads/x%0A::error::pwned"), "{stdout}");
        }
    }
    for command in ["verify", "verify-attestation"] {
        let out = signed(&[command, other[0], other[1], reference.as_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("identity mismatch")
                && stderr.contains("refs/heads/x%0A::error::pwned"),
            "{stderr}"
        );
        no_workflow_command("mismatch stderr", &stderr);
    }
}

/// Trust configs a hostile or broken setup hands over: empty, cut off mid-JSON, a symlink out
/// of the directory to a device that never ends, and one to a directory.
fn hostile_trust_configs(dir: &std::path::Path, good: &std::path::Path) -> Vec<std::path::PathBuf> {
    let text = std::fs::read_to_string(good).expect("trust");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").expect("write");
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).expect("write");
    let device = dir.join("device.json");
    std::os::unix::fs::symlink("/dev/zero", &device).expect("symlink");
    let directory = dir.join("directory.json");
    std::os::unix::fs::symlink("/", &directory).expect("symlink");
    vec![empty, truncated, device, directory]
}

// See: issue 12 (`--trust-config` on sbom and check trivy as on sign and verify)
#[test]
fn an_empty_truncated_or_symlinked_out_trust_config_is_exit_2_on_every_command() {
    let mock = Mock::start();
    let (tmp, reference) = layout();
    let (key, public) = crate::sign::keygen(tmp.path(), "cosign");
    let report = crate::harness::data("trivy/image.json");
    let lay = tmp.path().join("lay");
    let before = crate::sign::walk(&lay).len();
    for trust in hostile_trust_configs(tmp.path(), &mock.trust()) {
        let t = s(&trust);
        let commands: [Vec<&str>; 5] = [
            vec!["sign", "--key", s(&key), &reference],
            vec!["verify", "--key", s(&public), &reference],
            vec!["sbom", &reference, "--attach", "--key", s(&key)],
            vec!["sbom", &reference, "--from-attached", "--key", s(&public)],
            vec![
                "check",
                "trivy",
                s(&report),
                "--attest",
                &reference,
                "--key",
                s(&key),
            ],
        ];
        for args in commands {
            let out = mock
                .cicd()
                .current_dir(tmp.path())
                .env("CICD_KEY_PASSWORD", crate::sign::PASSWORD)
                .env_remove("CICD_TRUST_CONFIG")
                .args(&args)
                .args(["--trust-config", t])
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .expect("run cicd");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {t}: {stderr}");
            assert!(stderr.contains(t), "{args:?}: names the file: {stderr}");
            assert!(out.stdout.is_empty(), "{args:?} {t}: printed a result");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
    assert_eq!(
        crate::sign::walk(&lay).len(),
        before,
        "nothing was attached"
    );
}

/// Rewrites the first layer's annotations of the `.sig` manifest `tag` names in `lay`.
fn edit_sig_layer(lay: &std::path::Path, tag: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    use crate::sign::{put, retag, tagged};
    let desc = tagged(lay, tag);
    let digest = desc["digest"].as_str().expect("digest");
    let blob = lay.join("blobs/sha256").join(&digest[7..]);
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob).expect("manifest")).expect("json");
    edit(&mut m["layers"][0]["annotations"]);
    let bytes = serde_json::to_vec(&m).expect("bytes");
    let d = put(lay, &bytes);
    let mut new = desc.clone();
    new["digest"] = serde_json::json!(d);
    new["size"] = serde_json::json!(bytes.len());
    retag(lay, tag, &new);
}

/// A change to a `.sig` layer's annotations.
type Edit = dyn Fn(&mut serde_json::Value);

/// Each rewrite of a keyless `.sig` layer's annotations and the reason verify gives.
fn legacy_edits() -> [(&'static str, Box<Edit>); 5] {
    let hostile = "x\n::error::owned";
    [
        (
            "not in log",
            Box::new(|a| {
                a.as_object_mut()
                    .expect("map")
                    .remove("dev.sigstore.cosign/bundle");
            }),
        ),
        (
            "not in log",
            Box::new(|a| {
                let b = a["dev.sigstore.cosign/bundle"]
                    .as_str()
                    .expect("b")
                    .to_owned();
                a["dev.sigstore.cosign/bundle"] = serde_json::json!(&b[..b.len() / 2]);
            }),
        ),
        (
            // The SET signs integratedTime: moved by a second, it no longer verifies.
            "not in log",
            Box::new(|a| {
                let mut b: serde_json::Value =
                    serde_json::from_str(a["dev.sigstore.cosign/bundle"].as_str().expect("b"))
                        .expect("json");
                let t = b["Payload"]["integratedTime"].as_i64().expect("time");
                b["Payload"]["integratedTime"] = serde_json::json!(t - 1);
                a["dev.sigstore.cosign/bundle"] = serde_json::json!(b.to_string());
            }),
        ),
        (
            "untrusted certificate",
            Box::new(move |a| {
                a["dev.sigstore.cosign/certificate"] = serde_json::json!(hostile);
            }),
        ),
        (
            "tampered payload",
            Box::new(|a| {
                a["dev.cosignproject.cosign/signature"] = serde_json::json!("MEUCIQ==");
            }),
        ),
    ]
}

// See: issue 12 (keyless legacy `.sig`: each check fails closed with its own reason)
#[test]
fn a_keyless_legacy_signature_copied_cut_or_rewritten_is_refused_with_its_reason() {
    use crate::sign::{retag, tagged};
    let mock = Mock::start();
    let (tmp, reference) = layout();
    let lay = tmp.path().join("lay");
    let out = mock
        .cicd()
        .args([
            "sign",
            "--format",
            "legacy",
            "--trust-config",
            s(&mock.trust()),
            &reference,
        ])
        .output()
        .expect("sign");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = tagged(&lay, "v1")["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let tag = format!("sha256-{}.sig", &image[7..]);
    let good = tagged(&lay, &tag);
    let verify = |reference: &str| {
        let out = mock
            .cicd()
            .args(["verify", "--trust-config", s(&mock.trust())])
            .args(["--github-workflow", "acme/ci/.github/workflows/sign.yml"])
            .arg(reference)
            .output()
            .expect("verify");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(verify(&reference).0, Some(0));

    // Copied onto another image: the payload names the first one.
    let other = images::single(&lay, "v2", 1200, 42).digest;
    retag(&lay, &format!("sha256-{}.sig", &other[7..]), &good);
    let (code, _, err) = verify(&format!("oci:{}:v2", s(&lay)));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("digest mismatch"), "{err}");

    let cases = legacy_edits();
    for (reason, edit) in cases {
        retag(&lay, &tag, &good);
        edit_sig_layer(&lay, &tag, |a| edit(a));
        let (code, out, err) = verify(&reference);
        assert_eq!(code, Some(1), "{reason}: {err}");
        assert!(err.contains(reason), "{reason}: {err}");
        no_workflow_command("stdout", &out);
        no_workflow_command("stderr", &err);
    }
}

// See: issue 12 (keyless legacy `.att`: copied or with its SET cut, refused with the reason)
#[test]
fn a_keyless_legacy_attestation_copied_or_cut_is_refused_with_its_reason() {
    use crate::sign::{retag, tagged};
    let mock = Mock::start();
    let (tmp, reference) = layout();
    let lay = tmp.path().join("lay");
    let (predicate, _) = crate::sign::attest::predicate_file(tmp.path());
    let out = mock
        .cicd()
        .args(["attest", "--format", "legacy", "--type", "cyclonedx"])
        .args([
            "--predicate",
            s(&predicate),
            "--trust-config",
            s(&mock.trust()),
        ])
        .arg(&reference)
        .output()
        .expect("attest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = tagged(&lay, "v1")["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let tag = format!("sha256-{}.att", &image[7..]);
    let good = tagged(&lay, &tag);
    let verify = |reference: &str| {
        let out = mock
            .cicd()
            .args(["verify-attestation", "--type", "cyclonedx"])
            .args(["--trust-config", s(&mock.trust())])
            .args(["--github-workflow", "acme/ci/.github/workflows/sign.yml"])
            .arg(reference)
            .output()
            .expect("verify-attestation");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(verify(&reference).0, Some(0));
    let other = images::single(&lay, "v2", 1200, 43).digest;
    retag(&lay, &format!("sha256-{}.att", &other[7..]), &good);
    let (code, err) = verify(&format!("oci:{}:v2", s(&lay)));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("digest mismatch"), "{err}");
    edit_sig_layer(&lay, &tag, |a| {
        a.as_object_mut()
            .expect("map")
            .remove("dev.sigstore.cosign/bundle");
    });
    let (code, err) = verify(&reference);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not in log"), "{err}");
}
