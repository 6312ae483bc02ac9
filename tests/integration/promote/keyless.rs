//! A keyless requirement (`require.signature.github-workflow`) on a real registry: an image
//! signed keylessly against the sigstore mock (Fulcio, Rekor, TSA on loopback, a GitHub-shaped
//! token) is promoted when the certificate names the workflow, and refused with the identity
//! mismatch when it names another. The trust root is the mock's (`CICD_TRUST_CONFIG`).
//! See: issue 15 (require.signature), issue 12 (keyless verify).

use super::*;
use crate::harness::registry::plain;
use crate::sign::keyless::{Mock, sign_keyless};

fn promote(w: &World, mock: &Mock, reference: &str, env: &str) -> Output {
    cicd()
        .current_dir(w.tmp.path())
        .env("CICD_TRUST_CONFIG", mock.trust())
        .env("CICD_NOW", NOW)
        .args(["promote", reference, "--to", env])
        .output()
        .expect("run cicd")
}

#[test]
fn keyless_signature_policy_promotes_the_named_workflow_and_refuses_another() {
    let mock = Mock::start();
    let reg = plain();
    let w = World::new(&reg.addr, "keyless");
    let text = format!(
        "environments:\n  qa:\n    repository: {}\n    tag: qa\n    require:\n      signature: {{ github-workflow: acme/ci/.github/workflows/sign.yml@refs/heads/* }}\n  other:\n    repository: {}\n    tag: other\n    require:\n      signature: {{ github-workflow: acme/app/.github/workflows/release.yml }}\n",
        w.repo("qa"),
        w.repo("other"),
    );
    std::fs::write(w.tmp.path().join("cicd.yaml"), text).expect("config");
    let src = w.repo("src");
    let digest = w.push(&src, "v1", 1901);
    let signed = sign_keyless(&mock, &format!("docker://{src}:v1"));
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );

    let out = promote(&w, &mock, &format!("{src}@{digest}"), "qa");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        skopeo_digest(&format!("{}:qa", w.repo("qa"))).as_deref(),
        Some(digest.as_str())
    );

    // The certificate names acme/ci's sign.yml, not acme/app's release.yml.
    let out = promote(&w, &mock, &format!("{src}@{digest}"), "other");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("identity mismatch"), "{stderr}");
    assert!(skopeo_tags(&w.repo("other")).is_empty());
}
