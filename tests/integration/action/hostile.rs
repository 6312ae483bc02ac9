//! Hostile inputs to the action: shell syntax in `command`/`args` stays argv (never run),
//! globs stay literal, a newline with `::` cannot open a workflow command, the token never
//! prints, and a release server that never answers fails the step (exit 3) within the timeout.

use super::runner::run_action;
use super::{Runner, action_copy, real_archive, serve, table_for};

// See: issue 16.
#[test]
fn action_inputs_are_argv_never_shell() {
    let archive = real_archive();
    let server = serve(archive);
    let runner = Runner::new(&server.url);
    let action = action_copy(runner.root.path(), &table_for(archive));
    let marker = runner.root.path().join("pwned");
    let m = marker.display();
    std::fs::write(runner.workspace().join("a-file"), "").expect("write");
    let hostile = [
        format!("check; touch {m}"),
        format!("check $(touch {m})"),
        format!("check `touch {m}`"),
        format!("check && touch {m}"),
        format!("check | touch {m}"),
        format!("check\ntouch {m}"),
    ];
    for command in &hostile {
        let run = run_action(
            &action,
            &[("command", command.as_str()), ("args", "*")],
            &runner.env(),
            &runner.workspace(),
            "t",
        );
        assert_ne!(run.code(), 0, "{command}: {run:#?}");
        assert!(!marker.exists(), "{command} ran a shell command");
        assert!(
            !run.stderr().contains("a-file"),
            "a glob was expanded: {run:#?}"
        );
    }
}

// See: issue 16.
#[test]
fn action_version_with_a_newline_cannot_open_a_workflow_command() {
    let server = serve(real_archive());
    let runner = Runner::new(&server.url);
    let action = action_copy(runner.root.path(), &table_for(real_archive()));
    let run = run_action(
        &action,
        &[("command", "check"), ("version", "1.2.3\n::add-mask::x%")],
        &runner.env(),
        &runner.workspace(),
        "t",
    );
    assert_eq!(run.code(), 2, "{run:#?}");
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("1.2.3%0A::add-mask::x%25"), "{stderr}");
    assert!(server.requests().is_empty());
}

// See: issue 16.
#[test]
fn action_never_prints_the_token() {
    let archive = real_archive();
    let server = serve(archive);
    let runner = Runner::new(&server.url);
    let action = action_copy(runner.root.path(), &table_for(archive));
    let secret = "ghs_secretTOKENvalue0123456789";
    let run = run_action(
        &action,
        &[("command", "check --offline"), ("github-token", secret)],
        &runner.env(),
        &runner.workspace(),
        secret,
    );
    assert_eq!(run.code(), 0, "{run:#?}");
    assert!(!run.stdout().contains(secret) && !run.stderr().contains(secret));
    assert!(server.requests().iter().all(|r| !r.contains(secret)));
}

// See: issue 16. A release server that accepts and never answers.
#[test]
fn action_gives_up_on_a_silent_release_server() {
    let silent = crate::harness::http::StallServer::silent();
    let runner = Runner::new(&format!("http://{}", silent.addr));
    let action = action_copy(runner.root.path(), &table_for(real_archive()));
    let mut env = runner.env();
    env.push(("CICD_HTTP_TIMEOUT".to_owned(), "1".to_owned()));
    let run = run_action(
        &action,
        &[("command", "check")],
        &env,
        &runner.workspace(),
        "t",
    );
    assert_eq!(run.code(), 3, "{run:#?}");
    assert!(
        run.stderr()
            .contains("::error title=cicd action::download of http://"),
        "{run:#?}"
    );
    assert!(!run.ran("run"));
}
