//! Adversarial cases for the hardening rules (issue 10): compose `ports` of the wrong shape,
//! env-interpolated and IPv6 entries, YAML merge tags, values holding a newline and `::`,
//! and a compose file of thousands of services. Each ends in a right answer or a clear
//! error naming file and line, never a panic.

use crate::harness::{check_json, cicd};

fn compose(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), text).expect("write");
    dir
}

/// Rules of issue 10 only, so that pin findings do not blur the counts.
fn hardening(json: &serde_json::Value) -> Vec<(String, u64)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["rule"].as_str().unwrap_or("").starts_with("unpinned"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_owned(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// See: issue 10 (bad input: `ports` as a number or a map).
#[test]
fn ports_of_the_wrong_shape_are_a_located_error() {
    for (text, what, line) in [
        (
            "services:\n  db:\n    image: postgres@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    ports: 5432\n",
            "a single value",
            4,
        ),
        (
            "services:\n  db:\n    image: postgres@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    ports:\n      host: 5432\n",
            "a mapping",
            5,
        ),
    ] {
        let dir = compose(text);
        let (code, json) = check_json(dir.path(), &["compose.yaml"]);
        assert_eq!(code, 2, "{json:#}");
        let err = &json["errors"][0];
        assert_eq!(err["file"], "compose.yaml");
        assert_eq!(err["line"], line, "{err:#}");
        assert!(
            err["message"].as_str().expect("message").contains(what),
            "{err:#}"
        );
    }
}

/// See: issue 10 (env-interpolated ranges, IPv6 host IPs, long syntax, `!reset`/`!override`).
#[test]
fn interpolated_ipv6_long_and_tagged_ports() {
    let dir = compose(
        "services:\n  app:\n    image: ghcr.io/o/app@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    user: \"1000\"\n    ports: !override\n      - \"${P}:80\"\n      - \"${P:-8000}-${Q:-8001}:80-81\"\n      - \"[::1]:9000:9000\"\n      - \"::1:9001:9001\"\n      - \"[::]:9002:9002\"\n      - target: 9003\n        host_ip: \"::1\"\n      - target: 9004\n        published: 9004\n        protocol: udp\n    volumes: !reset []\n",
    );
    let (code, json) = check_json(dir.path(), &["compose.yaml"]);
    assert_eq!(code, 1, "{json:#}");
    let lines: Vec<u64> = hardening(&json).into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines, [6, 7, 10, 13], "{json:#}");
}

/// A service named with a newline and `::` cannot open a workflow command in annotations.
#[test]
fn service_names_with_newlines_stay_one_annotation() {
    let dir = compose(
        "services:\n  \"x\\n::error file=evil::owned\":\n    image: redis@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    ports: [\"6379:6379\"]\n",
    );
    let out = cicd()
        .current_dir(dir.path())
        .args(["check", "--offline", "--format", "github", "compose.yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 1, "{text}");
    assert!(!text.contains("\n::error file=evil"), "{text}");
}

/// Empty and truncated compose files: a clear answer, no panic.
#[test]
fn empty_and_truncated_compose_files() {
    let dir = compose("");
    let (code, json) = check_json(dir.path(), &["compose.yaml"]);
    assert_eq!(
        (code, json["findings"].as_array().map(Vec::len)),
        (0, Some(0))
    );
    let dir = compose("services:\n  db:\n    ports:\n      - \"54");
    let (code, json) = check_json(dir.path(), &["compose.yaml"]);
    assert!(code == 1 || code == 2, "{json:#}");
    let dir = compose("services:\n  db:\n    ports: [\"5432:5432\"\n");
    let (code, json) = check_json(dir.path(), &["compose.yaml"]);
    assert_eq!(code, 2, "{json:#}");
    assert_eq!(json["errors"][0]["file"], "compose.yaml");
}

/// Thousands of services: every exposed datastore reported, once.
#[test]
fn five_thousand_services() {
    let mut text = String::from("services:\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "  redis{i}:\n    image: redis@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    ports: [\"{}:6379\"]\n",
            10000 + i
        ));
    }
    let dir = compose(&text);
    let (code, json) = check_json(dir.path(), &["compose.yaml"]);
    assert_eq!(code, 1);
    let found = hardening(&json);
    assert_eq!(found.len(), 5000);
    assert!(found.iter().all(|(r, _)| r == "compose-exposed-port"));
}

/// See: issue 8 item 12 (no path escapes the tree it was given), for `env_file:`: a default
/// credential in an env file reached through a symlink or `..` out of the tree is not read
/// (and so not reported); the same file inside the tree is.
#[test]
fn env_files_outside_the_tree_are_never_read() {
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("leak.env"), "DB_PASSWORD=admin\n").expect("write");
    let text = format!(
        "services:\n  db:\n    image: postgres@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    env_file:\n      - link.env\n      - {}\n      - inside.env\n",
        outside.path().join("leak.env").display()
    );
    let dir = compose(&text);
    std::os::unix::fs::symlink(outside.path().join("leak.env"), dir.path().join("link.env"))
        .expect("symlink");
    std::fs::write(dir.path().join("inside.env"), "\n\nDB_PASSWORD=admin\n").expect("write");
    let (code, json) = check_json(dir.path(), &["compose.yaml"]);
    assert_eq!(code, 1, "{json:#}");
    let files: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "compose-default-credential")
        .map(|f| f["file"].as_str().expect("file"))
        .collect();
    assert_eq!(files, ["inside.env"], "{json:#}");
    assert_eq!(
        hardening(&json)
            .iter()
            .filter(|(r, _)| r == "compose-default-credential")
            .map(|(_, l)| *l)
            .collect::<Vec<_>>(),
        [3]
    );
}
