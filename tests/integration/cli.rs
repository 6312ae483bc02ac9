//! The command-line contract: help documents exit codes, version names the revision, usage
//! errors exit 2.

use crate::harness::cicd;

#[test]
fn help_documents_exit_codes() {
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["check", "trivy", "--help"],
    ] {
        let out = cicd().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        for line in [
            "0  ok",
            "1  policy or gate violation",
            "2  bad input or usage",
            "3  external failure",
        ] {
            assert!(text.contains(line), "{args:?} lacks `{line}`:\n{text}");
        }
    }
}

#[test]
fn version_names_the_git_revision() {
    let out = cicd().arg("--version").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("cicd {} (", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let revision = text
        .trim()
        .rsplit_once('(')
        .map(|(_, r)| r.trim_end_matches(')'))
        .unwrap_or_default();
    assert!(!revision.is_empty(), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        cicd()
            .arg("--no-such-flag")
            .output()
            .expect("run")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        cicd()
            .args(["check", "--format", "yaml"])
            .output()
            .expect("run")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(cicd().output().expect("run").status.code(), Some(2));
    // `cicd check trivy` needs a report, and severities Trivy knows.
    for args in [
        &["check", "trivy"][..],
        &["check", "trivy", "--fail-on", "SEVERE", "r.json"],
        &["check", "trivy", "--format", "table", "r.json"],
    ] {
        let out = cicd().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// Every subcommand's help, in full: a flag that does not apply, or one left undescribed,
/// shows up as a snapshot change.
const SUBCOMMANDS: &[&[&str]] = &[
    &[],
    &["check"],
    &["check", "trivy"],
    &["pin"],
    &["image"],
    &["image", "inspect"],
    &["image", "copy"],
    &["image", "tag"],
    &["image", "login"],
    &["keygen"],
    &["sign"],
    &["verify"],
    &["attest"],
    &["verify-attestation"],
    &["sbom"],
    &["build"],
    &["build", "merge"],
    &["plan", "matrix"],
    &["version"],
    &["version", "next"],
    &["version", "changelog"],
    &["tag"],
    &["init"],
    &["completions"],
    &["man"],
    &["promote"],
    &["promote", "history"],
    &["promote", "status"],
    &["release"],
];

pub(crate) fn help(args: &[&str]) -> String {
    let out = cicd().args(args).arg("--help").output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// See: issue 8 item 19
#[test]
fn each_subcommands_help_shows_only_what_applies_to_it() {
    for args in SUBCOMMANDS {
        let name = if args.is_empty() {
            "help".to_owned()
        } else {
            format!("help_{}", args.join("_"))
        };
        insta::assert_snapshot!(name, help(args));
    }
}

/// Options before the subcommand keep working where they apply (`cicd --offline image copy`).
#[test]
fn options_before_the_subcommand_still_apply() {
    let out = cicd()
        .args(["--offline", "image", "inspect", "docker://127.0.0.1:9/x:y"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--offline"));
}
