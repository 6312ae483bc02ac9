//! Adversarial cases for the cli area (see `mod.rs`): flags a subcommand does not use are
//! neither listed in its help nor accepted.

use crate::cli::help;
use crate::harness::cicd;

// See: issue 8 item 19
#[test]
fn flags_that_do_not_apply_are_neither_listed_nor_accepted() {
    let login = help(&["image", "login"]);
    for flag in [
        "--chunk-size",
        "--server-url",
        "--api-url",
        "--offline",
        "--config",
    ] {
        assert!(!login.contains(flag), "image login lists {flag}:\n{login}");
    }
    let trivy = help(&["check", "trivy"]);
    for flag in ["--offline", "--server-url", "--api-url"] {
        assert!(!trivy.contains(flag), "check trivy lists {flag}:\n{trivy}");
    }
    for args in [
        &["image", "inspect"][..],
        &["image", "copy"],
        &["image", "tag"],
        &["image", "login"],
        &["image"],
        &["pin"],
    ] {
        let text = help(args);
        assert!(
            !text.contains("1  policy"),
            "{args:?} cannot exit 1:\n{text}"
        );
        assert!(
            text.contains("0  ok") && text.contains("3  external failure"),
            "{text}"
        );
    }
    assert!(help(&["pin"]).contains("images"));
    assert!(help(&["image", "tag"]).contains("--json\n          Print JSON: "));
    let copy = help(&["image", "copy"]);
    assert!(
        copy.contains("<SRC>  The image to copy") && copy.contains("<DST>  Where to copy it"),
        "{copy}"
    );

    for args in [
        &["image", "login", "127.0.0.1:9", "--chunk-size", "1"][..],
        &[
            "image",
            "inspect",
            "oci:x",
            "--server-url",
            "http://127.0.0.1:9",
        ],
        &["check", "trivy", "--offline", "r.json"],
    ] {
        let out = cicd().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

// See: issue 8 item 8 (error messages quote user input; the runner reads stderr too)
#[test]
fn error_messages_cannot_open_a_workflow_command() {
    for arg in [
        "oci:/nonexistent/a\n::add-mask::leak",
        "docker://bad host/x:y\n::error::injected",
        "oci:/nonexistent/b\n##[error]injected",
    ] {
        let out = cicd()
            .env("GITHUB_ACTIONS", "true")
            .args(["image", "inspect", arg])
            .output()
            .expect("run cicd");
        assert_eq!(out.status.code(), Some(2), "{arg:?}");
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            for line in text.lines() {
                assert!(
                    !line.trim_start().starts_with("::") && !line.contains("##["),
                    "{arg:?} printed a workflow command: {line:?}"
                );
            }
        }
    }
}
