//! Keyless `release.signing` (issue 14 item 5): the release signs every image and platform and
//! attests each SBOM with a Fulcio certificate for the workflow's OIDC identity and a Rekor
//! entry (npm `@sigstore/mock` on loopback), then the first environment, which demands that
//! workflow's signature, accepts it; `cicd verify` with the same policy agrees, and the OIDC
//! token prints only in the runner's `::add-mask::` command.

use super::promote::configure;
use super::{layout_tags, project, release};
use crate::harness::cicd;
use crate::sign::keyless::{Mock, REQUEST_TOKEN, SAN};

#[test]
fn a_keyless_release_is_signed_by_the_workflow_and_promoted_on_that_identity() {
    let mock = Mock::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    project(dir, [None, None], false, "v1.0.0");
    configure(
        dir,
        "release:\n  signing: { keyless: true }\nenvironments:\n  staging:\n    require:\n      signature: { github-workflow: acme/ci/.github/workflows/sign.yml@refs/heads/main }\n",
        "v1.0.0",
    );
    let trust = mock.trust();
    let token_url = format!("http://127.0.0.1:{}/token?api-version=2.0", mock.port);
    let env = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", token_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ("CICD_TRUST_CONFIG", trust.to_str().expect("utf8")),
    ];
    let plan = release(dir, &env, &["--to", "oci:./out", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stdout.contains("signing: keyless"), "{}", plan.stdout);

    let run = release(dir, &env, &["--to", "oci:./out", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let token = mock.token();
    // Only the runner's mask command may carry it (the runner then hides it everywhere).
    for text in [&run.stdout, &run.stderr, &run.output, &run.summary] {
        let leaked: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(token.trim()) && !l.starts_with("::add-mask::"))
            .collect();
        assert!(leaked.is_empty(), "the OIDC token leaked: {leaked:?}");
    }
    let v = run.json();
    assert_eq!(v["signed"], true);
    assert_eq!(v["promotion"]["result"], "promoted", "{:#}", v["promotion"]);
    for (i, name) in ["bb", "motd"].iter().enumerate() {
        let image = &v["images"][i];
        let digest = image["digest"].as_str().expect("digest");
        // The index and both platforms signed; each platform's SBOM attested.
        assert_eq!(image["signatures"].as_array().map(Vec::len), Some(3));
        for p in image["platforms"].as_array().expect("platforms") {
            assert!(p["sbom_attestation"].is_string(), "{p:#}");
        }
        let layout = dir.join("out").join(name);
        let tags = layout_tags(&layout);
        assert!(
            tags.iter().any(|(t, d)| t == "staging" && d == digest),
            "{tags:?}"
        );
        let verify = cicd()
            .current_dir(dir)
            .args(["verify", "--trust-config", trust.to_str().expect("utf8")])
            .args(["--certificate-identity", SAN])
            .args([
                "--certificate-oidc-issuer",
                "https://token.actions.githubusercontent.com",
            ])
            .arg(format!("oci:{}@{digest}", layout.display()))
            .output()
            .expect("verify");
        assert!(
            verify.status.success(),
            "{}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
    }
}
