//! Each refusal exits 1 with its own reason and leaves every repository as it was: unsigned,
//! signed by another key, production before staging, a signature made for another image;
//! requirements this build cannot check exit 2.

use super::*;
use crate::harness::registry::plain;

/// Runs a promotion expected to be refused; asserts exit 1, the reason, and no tag change.
fn refused(w: &World, reference: &str, env: &str, reason: &str) {
    let repos = [w.repo("staging"), w.repo("prod"), w.repo("src")];
    let before: Vec<Vec<String>> = repos.iter().map(|r| skopeo_tags(r)).collect();
    let out = w.run(&["promote", reference, "--to", env], NOW);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{reference} → {env}: {stderr}");
    assert!(stderr.contains(reason), "expected `{reason}` in: {stderr}");
    let after: Vec<Vec<String>> = repos.iter().map(|r| skopeo_tags(r)).collect();
    assert_eq!(before, after, "a refused promotion changed a repository");
}

#[test]
fn refusals_name_what_is_missing_and_change_nothing() {
    let reg = plain();
    let w = World::new(&reg.addr, "negative");
    w.config("");
    let src = w.repo("src");
    let unsigned = w.push(&src, "unsigned", 1701);
    refused(&w, &format!("{src}@{unsigned}"), "staging", "no signature");

    let other = w.tmp.path().join("other.key");
    w.ok(&["keygen", "--prefix", s(&w.tmp.path().join("other"))], NOW);
    let foreign = w.push(&src, "foreign", 1702);
    w.sign(&format!("docker://{src}:foreign"), &other);
    refused(&w, &format!("{src}@{foreign}"), "staging", "wrong key");

    // A good signature of one image, copied onto another image's referrers tag.
    let good = w.push(&src, "good", 1703);
    w.sign(&format!("docker://{src}:good"), &w.key);
    let victim = w.push(&src, "victim", 1704);
    w.ok(
        &[
            "image",
            "tag",
            &format!("docker://{src}:{}", fallback(&good)),
            &fallback(&victim),
        ],
        NOW,
    );
    refused(&w, &format!("{src}@{victim}"), "staging", "digest mismatch");

    // Signed, but never in staging: production refuses.
    refused(
        &w,
        &format!("{src}@{good}"),
        "production",
        "never promoted to `staging`",
    );
    // Once staged, production takes it.
    w.ok(
        &["promote", &format!("{src}@{good}"), "--to", "staging"],
        NOW,
    );
    w.ok(
        &["promote", &format!("{src}@{good}"), "--to", "production"],
        NOW,
    );
}

#[test]
fn unknown_environment_and_uncheckable_requirements_exit_2() {
    let reg = plain();
    let w = World::new(&reg.addr, "usage");
    w.config("  qa:\n    require:\n      sbom: true\n");
    let src = w.repo("src");
    let digest = w.push(&src, "v1", 1801);
    let out = w.run(
        &["promote", &format!("{src}@{digest}"), "--to", "nowhere"],
        NOW,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: production, qa, staging"));
    let before = skopeo_tags(&src);
    let out = w.run(&["promote", &format!("{src}@{digest}"), "--to", "qa"], NOW);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("verify attestations with the signature policy: set `require.signature`"),
        "{stderr}"
    );
    assert!(stderr.contains("require.sbom"), "{stderr}");
    assert_eq!(skopeo_tags(&src), before);
    // Invalid config: exit 2 with file:line.
    std::fs::write(
        w.tmp.path().join("cicd.yaml"),
        "environments:\n  staging:\n    require:\n      scan: { max-age: soon }\n",
    )
    .expect("write");
    let out = w.run(
        &["promote", &format!("{src}@{digest}"), "--to", "staging"],
        NOW,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cicd.yaml:4:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
