//! The action's happy path and its refusals: downloads, verifies, caches and runs the real
//! binary; a second run takes the cache without a request; a wrong checksum, an unsupported
//! runner, another version and an unreleased table are refused before anything runs.

use super::runner::run_action;
use super::{Runner, TARGET, VERSION, action_copy, archive_of, real_archive, serve, table_for};

const WORKFLOW: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n";

fn workspace_with_workflow(runner: &Runner) {
    let dir = runner.workspace().join(".github/workflows");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("ci.yml"), WORKFLOW).expect("write");
}

// See: issue 16.
#[test]
fn action_downloads_verifies_caches_and_runs_the_binary() {
    let archive = real_archive();
    let server = serve(archive);
    let runner = Runner::new(&server.url);
    workspace_with_workflow(&runner);
    let action = action_copy(runner.root.path(), &table_for(archive));
    let inputs = [("command", "check"), ("args", "--offline")];

    let first = run_action(&action, &inputs, &runner.env(), &runner.workspace(), "tok");
    assert_eq!(first.code(), 0, "{first:#?}");
    assert!(first.ran("run"));
    assert_eq!(first.outputs["findings"], "0", "{first:#?}");
    let cached = runner.tool_cache().join(format!("cicd/{VERSION}/x64/cicd"));
    assert_eq!(first.outputs["cicd-path"], cached.to_str().expect("utf-8"));
    assert!(
        runner
            .tool_cache()
            .join(format!("cicd/{VERSION}/x64.complete"))
            .is_file()
    );
    assert_eq!(
        std::fs::read(&cached).expect("cached binary"),
        std::fs::read(env!("CARGO_BIN_EXE_cicd")).expect("binary"),
        "the cache holds the released binary byte for byte"
    );
    let requests = server.requests();
    assert_eq!(
        requests,
        [
            format!("GET /acme/cicd/releases/download/v{VERSION}/cicd-{VERSION}-{TARGET}.tar.gz"),
            format!("GET /objects/cicd-{VERSION}-{TARGET}.tar.gz?token=signed"),
        ]
    );
    assert!(first.stdout().contains("verified (sha256:"), "{first:#?}");

    // Second run, same tool cache: no request at all, the same binary runs.
    let second = run_action(
        &action,
        &[("command", "--version")],
        &runner.env(),
        &runner.workspace(),
        "tok",
    );
    assert_eq!(second.code(), 0, "{second:#?}");
    assert_eq!(
        server.requests().len(),
        2,
        "the second run downloaded again"
    );
    assert!(
        second.stdout().contains("from the tool cache"),
        "{second:#?}"
    );
    assert!(second.stdout().contains("cicd 0.1.0"), "{second:#?}");
}

// See: issue 16. A binary whose SHA-256 differs from the committed table is never executed
// and never cached.
#[test]
fn action_refuses_a_binary_whose_checksum_differs() {
    let runner_dir = tempfile::tempdir().expect("tempdir");
    let marker = runner_dir.path().join("executed");
    let evil = format!("#!/bin/sh\ntouch '{}'\n", marker.display());
    let served = archive_of(evil.as_bytes());
    let server = serve(&served);
    let runner = Runner::new(&server.url);
    // The table pins the real release; the server answers other bytes.
    let action = action_copy(runner.root.path(), &table_for(real_archive()));
    let run = run_action(
        &action,
        &[("command", "--version")],
        &runner.env(),
        &runner.workspace(),
        "tok",
    );
    assert_eq!(run.code(), 1, "{run:#?}");
    assert!(!run.ran("run"), "the run step started: {run:#?}");
    assert!(!marker.exists(), "the refused binary was executed");
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "::error title=cicd action::refused cicd-1.2.3-x86_64-unknown-linux-musl.tar.gz"
        ),
        "{stderr}"
    );
    assert!(stderr.contains(&super::sha256_hex(&served)), "{stderr}");
    assert!(
        !runner.tool_cache().join("cicd").exists(),
        "a refused binary was cached"
    );
    assert!(
        std::fs::read_dir(runner.root.path().join("temp"))
            .expect("temp")
            .next()
            .is_none(),
        "the download was left in RUNNER_TEMP"
    );
}

// See: issue 16.
#[test]
fn action_names_the_supported_platforms_on_another_runner() {
    let server = serve(b"never served");
    for (os, arch) in [("Windows", "X64"), ("Linux", "ARM"), ("Linux", "X86")] {
        let mut runner = Runner::new(&server.url);
        runner.os = os;
        runner.arch = arch;
        let action = action_copy(runner.root.path(), &table_for(real_archive()));
        let run = run_action(
            &action,
            &[("command", "check")],
            &runner.env(),
            &runner.workspace(),
            "t",
        );
        assert_eq!(run.code(), 2, "{run:#?}");
        assert_eq!(
            run.stderr(),
            format!(
                "::error title=cicd action::cicd has no prebuilt binary for {os}/{arch}; supported runners: Linux/X64, Linux/ARM64, macOS/X64, macOS/ARM64\n"
            )
        );
    }
    assert!(server.requests().is_empty());
}

// See: issue 16. Pinning the action pins the binary: another version has no checksum here.
#[test]
fn action_refuses_a_version_its_table_does_not_pin() {
    let server = serve(real_archive());
    let runner = Runner::new(&server.url);
    let action = action_copy(runner.root.path(), &table_for(real_archive()));
    let run = run_action(
        &action,
        &[("command", "check"), ("version", "9.9.9")],
        &runner.env(),
        &runner.workspace(),
        "t",
    );
    assert_eq!(run.code(), 2, "{run:#?}");
    assert!(
        run.stderr()
            .contains("version 9.9.9 is not the one this action's commit pins (1.2.3)"),
        "{run:#?}"
    );
    assert!(server.requests().is_empty());
}

// See: issue 16. The table as committed in this repository (before a release writes it).
#[test]
fn action_at_an_unreleased_commit_says_so() {
    let server = serve(real_archive());
    let runner = Runner::new(&server.url);
    let committed =
        std::fs::read_to_string(crate::harness::repo_root().join("action/checksums.txt"))
            .expect("committed table");
    let action = action_copy(runner.root.path(), &committed);
    let run = run_action(
        &action,
        &[("command", "check")],
        &runner.env(),
        &runner.workspace(),
        "t",
    );
    if committed.contains("\n# version: \n") || committed.ends_with("# version:\n") {
        assert_eq!(run.code(), 2, "{run:#?}");
        assert!(
            run.stderr()
                .contains("this commit of the action was not released"),
            "{run:#?}"
        );
    } else {
        // A released table: every line is a 64-hex SHA-256 and a cicd archive name.
        for line in committed.lines().filter(|l| !l.starts_with('#')) {
            let (sha, name) = line.split_once("  ").expect("sha256sum format");
            assert_eq!(sha.len(), 64, "{line}");
            assert!(
                name.starts_with("cicd-") && name.ends_with(".tar.gz"),
                "{line}"
            );
        }
    }
    assert!(server.requests().is_empty());
}

// See: issue 16. A cached binary that changed since it was verified is downloaded again.
#[test]
fn action_downloads_again_when_the_cached_binary_changed() {
    let archive = real_archive();
    let server = serve(archive);
    let runner = Runner::new(&server.url);
    let action = action_copy(runner.root.path(), &table_for(archive));
    let env = runner.env();
    let first = run_action(
        &action,
        &[("command", "--version")],
        &env,
        &runner.workspace(),
        "t",
    );
    assert_eq!(first.code(), 0, "{first:#?}");
    let cached = runner.tool_cache().join(format!("cicd/{VERSION}/x64/cicd"));
    std::fs::write(&cached, "#!/bin/sh\necho tampered\n").expect("tamper");
    let second = run_action(
        &action,
        &[("command", "--version")],
        &env,
        &runner.workspace(),
        "t",
    );
    assert_eq!(second.code(), 0, "{second:#?}");
    assert!(!second.stdout().contains("tampered"), "{second:#?}");
    assert!(second.stdout().contains("cicd 0.1.0"), "{second:#?}");
    assert!(
        second.stdout().contains("changed since it was verified"),
        "{second:#?}"
    );
    assert_eq!(server.requests().len(), 4);
}
