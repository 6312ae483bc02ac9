//! Adversarial cases for the http area (see `mod.rs`): servers that accept and never answer,
//! or answer headers and then stall, and network failures told apart by kind.

use std::process::Output;
use std::time::Duration;

use crate::harness::cicd;
use crate::harness::http::StallServer;

/// Long enough for any timeout of these tests (2 s each, a few requests), short enough to
/// fail instead of hanging when a timeout is missing. Not a measure of speed.
const HANG_GUARD: Duration = Duration::from_secs(90);

const WORKFLOW: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: octo/tool@0123456789abcdef0123456789abcdef01234567 # v1.0.0\n";

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cicd check` on a workflow pinning a SHA, with GitHub (Git and REST) at `addr`.
fn check_against(addr: &str, format: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ci.yml"), WORKFLOW).expect("write");
    cicd()
        .current_dir(dir.path())
        .env("GITHUB_SERVER_URL", format!("http://{addr}"))
        .env("GITHUB_API_URL", format!("http://{addr}"))
        .env("CICD_HTTP_TIMEOUT", "2")
        .args(["check", "--color", "never", "--format", format, "ci.yml"])
        .timeout(HANG_GUARD)
        .output()
        .expect("run")
}

/// `cicd check --format json` against `server`: exit 0 with a note that the online rules
/// could not read from it, naming it. Returns the notes (as JSON text) and stderr.
fn online_notes(server: &StallServer) -> (String, String) {
    let out = check_against(&server.addr, "json");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let notes = json["summary"]["notes"].to_string();
    assert!(
        notes.contains("online rules could not read") && notes.contains(&server.addr),
        "{notes}"
    );
    (notes, stderr)
}

/// An unreachable GitHub stays a note, as before, but the note must be there, name the host,
/// and nothing may claim the online rules ran.
fn assert_online_rules_said_unreachable(server: &StallServer, headers_came: bool) {
    let (notes, stderr) = online_notes(server);
    assert!(notes.contains("did not answer in time"), "{notes}");
    // Waiting for headers is announced; a body that stops is the read timeout's to end.
    let waiting = format!("still waiting for {}", server.addr);
    assert_eq!(stderr.contains(&waiting), !headers_came, "{stderr}");

    let out = check_against(&server.addr, "plain");
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("note: online rules could not read"), "{all}");
    assert!(!all.contains("passed"), "{all}");
}

// See: issue 8 item 17
#[test]
fn check_against_a_git_server_that_never_answers_ends_with_a_note_naming_it() {
    assert_online_rules_said_unreachable(&StallServer::silent(), false);
}

// See: issue 8 item 17
#[test]
fn check_against_a_git_server_that_stalls_its_body_ends_with_a_note_naming_it() {
    let server = StallServer::stalling_body("application/x-git-upload-pack-result");
    assert_online_rules_said_unreachable(&server, true);
}

/// A Git server (and REST API) whose answer streams zeros without end: the body was read
/// whole, so memory grew until the request's time ran out (gigabytes on loopback). Answers
/// of a kind that is small are now read up to a cap: the online rules end with a note naming
/// the server and the cap, and nothing claims they ran.
#[test]
fn check_against_a_git_server_whose_answer_never_ends_ends_with_a_note_naming_it() {
    let server = StallServer::endless_body("application/x-git-upload-pack-result");
    let (notes, _) = online_notes(&server);
    assert!(notes.contains("larger than the"), "{notes}");
}

fn inspect(addr: &str) -> Output {
    cicd()
        .env("CICD_HTTP_TIMEOUT", "2")
        .args(["image", "inspect", &format!("docker://{addr}/x:y")])
        .timeout(HANG_GUARD)
        .output()
        .expect("run")
}

/// The error line, with the port (which varies) as `PORT`.
fn error_line(stderr: &str, addr: &str) -> String {
    stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(addr, "127.0.0.1:PORT")
}

// See: issue 8 item 17
#[test]
fn image_inspect_against_a_registry_that_never_answers_exits_3_naming_it() {
    let server = StallServer::silent();
    let out = inspect(&server.addr);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("still waiting for {}", server.addr)),
        "{stderr}"
    );
    insta::assert_snapshot!(error_line(&stderr, &server.addr), @"error: could not reach registry 127.0.0.1:PORT (connecting): error sending request for url (https://127.0.0.1:PORT/v2/): client error (Connect): operation timed out; the server did not answer in time: check that it is healthy, or give it longer with CICD_HTTP_TIMEOUT=SECONDS");
}

// See: issue 8 item 17
#[test]
fn image_inspect_against_a_registry_that_stalls_its_body_exits_3_naming_it() {
    let server = StallServer::stalling_body("application/vnd.oci.image.manifest.v1+json");
    let out = inspect(&server.addr);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    let line = error_line(&stderr, &server.addr);
    assert!(line.contains("127.0.0.1:PORT"), "{line}");
    assert!(line.contains("did not answer in time"), "{line}");
}

// See: issue 8 item 17
#[test]
fn a_cicd_http_timeout_that_is_not_seconds_is_a_usage_error() {
    for value in ["abc", "0", "-1", "1.5"] {
        let out = cicd()
            .env("CICD_HTTP_TIMEOUT", value)
            .args(["image", "inspect", "docker://127.0.0.1:9/x:y"])
            .timeout(HANG_GUARD)
            .output()
            .expect("run");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("CICD_HTTP_TIMEOUT"), "{stderr}");
    }
}

// See: issue 8 item 16
#[test]
fn connection_refused_suggests_checking_the_registry_not_a_ca() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let out = cicd()
        .args(["image", "inspect", &format!("docker://{addr}/x:y")])
        .timeout(HANG_GUARD)
        .output()
        .expect("run");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        !stderr.contains("--ca-cert") && !stderr.contains(" CA"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("nothing listens there: check that the registry is up and the port is right"),
        "{stderr}"
    );
}
