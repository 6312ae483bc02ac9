//! Keyless signing used as a hostile environment would: a token endpoint that accepts the
//! connection and never answers, and tokens holding a newline and `::` (a workflow command
//! smuggled into the log). Each fails closed, quickly, without echoing the token.

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
