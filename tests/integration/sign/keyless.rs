//! Keyless signing against Fulcio, Rekor and a TSA from npm `@sigstore/mock` on loopback,
//! with a GitHub-shaped OIDC token (no email, URL-safe base64, `job_workflow_ref` of a
//! reusable workflow) from a loopback `ACTIONS_ID_TOKEN_REQUEST_URL`. Every signature is
//! verified by sigstore-python (`verify identity --offline`) as well as by `cicd verify`,
//! and each refusal has its own reason. See: issue 12.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::*;
use crate::harness::images;

pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// Fulcio's SAN for the token: `https://github.com/` + its `job_workflow_ref`.
pub const SAN: &str = "https://github.com/acme/ci/.github/workflows/sign.yml@refs/heads/main";
pub const REQUEST_TOKEN: &str = "runtime-request-token-7f3e";

/// The mock services: killed when dropped.
pub struct Mock {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Mock {
    pub fn start() -> Self {
        let node = require_tool("node", "apt-get install nodejs npm");
        let modules = std::env::var_os("CICD_SIGSTORE_MOCK_MODULES").unwrap_or_else(|| {
            panic!("CICD_SIGSTORE_MOCK_MODULES (node_modules holding @sigstore/mock) is not set: run `scripts/test`, which installs it")
        });
        let dir = tempfile::tempdir().expect("tmp");
        let mut child = Command::new(node)
            .arg(crate::harness::data("sign/sigstore_mock.js"))
            .arg(dir.path())
            .env("NODE_PATH", modules)
            .env("REQUEST_TOKEN", REQUEST_TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read ready line");
        let port = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("sigstore mock did not start: {line:?}"));
        Mock { child, port, dir }
    }

    pub fn trust(&self) -> PathBuf {
        self.dir.path().join("trust_config.json")
    }

    /// The trust config whose signing config names the Rekor v2 log (and the TSA).
    pub fn trust_v2(&self) -> PathBuf {
        self.dir.path().join("trust_config_v2.json")
    }

    pub fn untrusted_ca(&self) -> PathBuf {
        self.dir.path().join("untrusted_ca.json")
    }

    /// The JWT the token endpoint hands out (the secret the tests look for).
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("token")).expect("token")
    }

    /// cicd as a GitHub Actions step with `id-token: write`.
    pub fn cicd(&self) -> assert_cmd::Command {
        let mut cmd = cicd();
        cmd.env("GITHUB_ACTIONS", "true")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("http://127.0.0.1:{}/token?api-version=2.0", self.port),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
            .env("CICD_NOW", "2026-01-31T12:00:00Z");
        cmd
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cicd sign` keylessly; asserts the token shows only in its `::add-mask::` line.
pub fn sign_keyless(mock: &Mock, reference: &str) -> Output {
    let out = mock
        .cicd()
        .args(["sign", "--trust-config", s(&mock.trust()), reference])
        .output()
        .expect("run cicd");
    assert_token_only_masked(mock, &out);
    out
}

pub fn assert_token_only_masked(mock: &Mock, out: &Output) {
    let token = mock.token();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let masked = format!("::add-mask::{token}");
    for line in stderr.lines().filter(|l| *l != masked) {
        assert!(!line.contains(&token), "the token leaked on stderr");
    }
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&token),
        "the token leaked on stdout"
    );
    // Its claims part alone would identify it too.
    let claims = token.split('.').nth(1).expect("claims");
    let rest: String = stderr.lines().filter(|l| *l != masked).collect();
    assert!(!rest.contains(claims) && !String::from_utf8_lossy(&out.stdout).contains(claims));
}

fn verify(mock: &Mock, trust: &Path, reference: &str, policy: &[&str]) -> Output {
    mock.cicd()
        .args(["verify", "--trust-config", s(trust)])
        .args(policy)
        .arg(reference)
        .output()
        .expect("run cicd")
}

/// sigstore-python verifies `bundle` for the image `digest` (see sigstore_verify.py for why
/// its library, not its CLI, reads the statement).
pub fn sigstore_python(dir: &Path, trust: &Path, bundle: &Value, digest: &str) -> (bool, String) {
    let sigstore = require_tool("sigstore", "pip install sigstore==4.5.1");
    let python = sigstore.with_file_name("python3");
    let b = dir.join("image.sigstore.json");
    std::fs::write(&b, bundle.to_string()).expect("write bundle");
    run_tool(
        &python,
        &[
            crate::harness::data("sign/sigstore_verify.py").as_os_str(),
            trust.as_os_str(),
            b.as_os_str(),
            SAN.as_ref(),
            ISSUER.as_ref(),
            digest[7..].as_ref(),
        ],
    )
}

struct Signed {
    mock: Mock,
    tmp: tempfile::TempDir,
    lay: PathBuf,
    image: String,
    reference: String,
}

fn signed() -> Signed {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 1000, 77).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let out = sign_keyless(&mock, &reference);
    assert!(
        out.status.success(),
        "keyless sign failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    Signed {
        mock,
        tmp,
        lay,
        image,
        reference,
    }
}

#[test]
fn keyless_signature_verifies_with_sigstore_python_and_github_workflow() {
    let c = signed();
    let token = c.mock.token();
    // Nothing written to the layout holds the token.
    for f in walk(&c.lay) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token is in {}",
            f.display()
        );
    }
    let place = Place::Layout(&c.lay);
    let (manifest, bundle) = place.fallback_bundles(&c.image).remove(0);
    assert_eq!(manifest["artifactType"], BUNDLE);
    assert_eq!(manifest["subject"]["digest"], c.image);
    assert!(bundle["verificationMaterial"]["certificate"]["rawBytes"].is_string());
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    let (ok, log) = sigstore_python(c.tmp.path(), &c.mock.trust(), &bundle, &c.image);
    assert!(
        ok && log.contains("OK: verified"),
        "sigstore-python rejects cicd's keyless bundle: {log}"
    );
    // …and refuses it for another signer's identity or another root: it really checked.
    let mut tampered = bundle.clone();
    tampered["dsseEnvelope"]["signatures"][0]["sig"] = json!("MEUCIQ==");
    for (trust, b) in [
        (c.mock.untrusted_ca(), &bundle),
        (c.mock.trust(), &tampered),
    ] {
        let (ok, log) = sigstore_python(c.tmp.path(), &trust, b, &c.image);
        assert!(!ok, "sigstore-python accepted: {log}");
    }

    let wf = "acme/ci/.github/workflows/sign.yml@refs/heads/*";
    let out = verify(
        &c.mock,
        &c.mock.trust(),
        &c.reference,
        &["--github-workflow", wf, "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verified"], true);
    assert_eq!(v["digest"], c.image);
    let sig = &v["signatures"][0];
    assert_eq!(sig["identity"], SAN);
    assert_eq!(sig["issuer"], ISSUER);
    assert!(
        sig["log_index"].is_u64() && sig["integrated_time"].is_string(),
        "{sig}"
    );
    // The exact identity and an anchored regexp say the same.
    for policy in [
        ["--certificate-identity", SAN],
        [
            "--certificate-identity-regexp",
            "https://github\\.com/acme/ci/.*",
        ],
    ] {
        let mut args = policy.to_vec();
        args.extend(["--certificate-oidc-issuer", ISSUER]);
        let out = verify(&c.mock, &c.mock.trust(), &c.reference, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{policy:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("identity {SAN}")), "{text}");
    }
}

/// Rewrites the first bundle referrer of `image` through `edit` (new blob, new manifest,
/// new fallback index), as someone with write access to the repository could.
pub fn rewrite_bundle(lay: &Path, image: &str, edit: impl FnOnce(&mut Value)) {
    let place = Place::Layout(lay);
    let (mut manifest, mut bundle) = place.fallback_bundles(image).remove(0);
    edit(&mut bundle);
    let bytes = bundle.to_string().into_bytes();
    manifest["layers"][0]["digest"] = json!(put(lay, &bytes));
    manifest["layers"][0]["size"] = json!(bytes.len());
    let m = manifest.to_string().into_bytes();
    let md = put(lay, &m);
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
        "size": m.len(), "artifactType": BUNDLE}]});
    let ib = idx.to_string().into_bytes();
    retag(
        lay,
        &format!("sha256-{}", &image[7..]),
        &json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(lay, &ib), "size": ib.len()}),
    );
}

pub fn refused(out: &Output, reason: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing verified is printed");
    assert!(stderr.contains(reason), "expected `{reason}` in: {stderr}");
}

#[test]
fn keyless_refusals_each_name_their_reason() {
    let c = signed();
    let trust = c.mock.trust();
    // The caller workflow is not the signer: a reusable workflow signs as itself.
    let caller = "acme/app/.github/workflows/release.yml";
    refused(
        &verify(
            &c.mock,
            &trust,
            &c.reference,
            &["--github-workflow", caller],
        ),
        "identity mismatch: the certificate names `https://github.com/acme/ci/.github/workflows/sign.yml@refs/heads/main`",
    );
    refused(
        &verify(
            &c.mock,
            &trust,
            &c.reference,
            &[
                "--github-workflow",
                "acme/ci/.github/workflows/sign.yml@refs/tags/v*",
            ],
        ),
        "identity mismatch",
    );
    refused(
        &verify(
            &c.mock,
            &trust,
            &c.reference,
            &[
                "--certificate-identity",
                SAN,
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
            ],
        ),
        "issuer mismatch: the certificate was issued for `https://token.actions.githubusercontent.com`",
    );
    let wf = ["--github-workflow", "acme/ci/.github/workflows/sign.yml"];
    let filters = vec![
        (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
        (r"oci:/\S+:v1", "oci:[layout]:v1"),
        (
            r"log index \d+, integrated \S+",
            "log index [n], integrated [time]",
        ),
    ];
    let verified = verify(&c.mock, &trust, &c.reference, &wf);
    let verified = String::from_utf8_lossy(&verified.stdout).into_owned();
    let mismatch = verify(
        &c.mock,
        &trust,
        &c.reference,
        &["--github-workflow", caller],
    );
    let mismatch = String::from_utf8_lossy(&mismatch.stderr).into_owned();
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(verified, @r"
        verified sha256:[digest]
          bundle sha256:[digest]
            identity https://github.com/acme/ci/.github/workflows/sign.yml@refs/heads/main
            issuer https://token.actions.githubusercontent.com
            log index [n], integrated [time]
        ");
        insta::assert_snapshot!(mismatch, @r"
        resolved oci:[layout]:v1 to sha256:[digest]
        error: verification failed for sha256:[digest]: bundle sha256:[digest]: identity mismatch: the certificate names `https://github.com/acme/ci/.github/workflows/sign.yml@refs/heads/main`, the policy wants `https://github.com/acme/app/.github/workflows/release.yml@` at a ref matching `**`
        ");
    });
    refused(
        &verify(&c.mock, &c.mock.untrusted_ca(), &c.reference, &wf),
        "untrusted certificate",
    );
    rewrite_bundle(&c.lay, &c.image, |b| {
        b["verificationMaterial"]["tlogEntries"] = json!([]);
    });
    refused(&verify(&c.mock, &trust, &c.reference, &wf), "not in log");
}

#[test]
fn keyless_usage_errors_exit_2() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let lay = tmp.path().join("lay");
    images::single(&lay, "v1", 100, 3);
    let reference = format!("oci:{}:v1", s(&lay));
    for (args, says) in [
        (
            vec!["verify", &reference][..].to_vec(),
            "needs --certificate-identity",
        ),
        (
            vec!["verify", "--certificate-identity", SAN, &reference],
            "--certificate-oidc-issuer is required",
        ),
        (
            vec!["verify", "--github-workflow", "acme/app", &reference],
            "expected OWNER/REPO/.github/workflows/FILE",
        ),
        (
            vec!["sign", "--tlog-upload=false", &reference],
            "always logged",
        ),
    ] {
        let out = mock.cicd().args(&args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// Key-based signing logs to Rekor by default (cosign's behaviour); verify then checks the
/// entry against the trusted root without `--insecure-ignore-tlog`.
#[test]
fn key_based_signature_is_logged_in_rekor_and_verified_with_its_entry() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, public) = keygen(tmp.path(), "cosign");
    let lay = tmp.path().join("lay");
    let image = images::single(&lay, "v1", 1000, 78).digest;
    let reference = format!("oci:{}:v1", s(&lay));
    let trust = mock.trust();
    let with_key = |args: &[&str]| {
        mock.cicd()
            .env("CICD_KEY_PASSWORD", PASSWORD)
            .args(args)
            .output()
            .expect("run cicd")
    };
    let out = with_key(&[
        "sign",
        "--key",
        s(&key),
        "--trust-config",
        s(&trust),
        &reference,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("log index"));
    let (_, bundle) = Place::Layout(&lay).fallback_bundles(&image).remove(0);
    check_bundle_independently(tmp.path(), &public, &bundle, &image);
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "dsse");
    assert!(
        entry["inclusionPromise"]["signedEntryTimestamp"].is_string(),
        "{entry}"
    );

    let out = with_key(&[
        "verify",
        "--key",
        s(&public),
        "--trust-config",
        s(&trust),
        &reference,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(transparency-log entry checked)"));
    // A trust root that does not know this log: the entry proves nothing.
    let mut other: Value =
        serde_json::from_slice(&std::fs::read(&trust).expect("trust")).expect("json");
    other["trustedRoot"]["tlogs"] = json!([]);
    let other_path = tmp.path().join("other_log.json");
    std::fs::write(&other_path, other.to_string()).expect("write");
    let out = with_key(&[
        "verify",
        "--key",
        s(&public),
        "--trust-config",
        s(&other_path),
        &reference,
    ]);
    refused(&out, "not in log");
    // The entry stripped from the bundle: not in log either.
    rewrite_bundle(&lay, &image, |b| {
        b["verificationMaterial"]["tlogEntries"] = json!([]);
    });
    let out = with_key(&[
        "verify",
        "--key",
        s(&public),
        "--trust-config",
        s(&trust),
        &reference,
    ]);
    refused(&out, "not in log");
}
