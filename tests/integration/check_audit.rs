//! `cicd check`'s hardening rules (issue 10) on their corpus `data/check/audit/`: every
//! expected finding of its README table and nothing else, spans on the entry they name, the
//! fixtures valid for the compose and workflow schemas, and `--explain`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use crate::harness::{check_json, cicd, data, require_tool, run_tool};

type Key = (String, usize, String, String);

const ARGS: &[&str] = &[
    "stack",
    "cases",
    "cases/workflows/clean-scan.yml",
    "cases/workflows/matrix.yml",
    "cases/workflows/partial.yml",
    "cases/workflows/permissions.yml",
    "real/microservices-demo",
];

/// The README table: `| file | lines | rule | severity |`, one key per line listed.
fn expected() -> BTreeSet<Key> {
    let text = std::fs::read_to_string(data("check/audit/README.md")).expect("README");
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() != 6 || !cells[1].starts_with('`') || !cells[3].starts_with('`') {
            continue;
        }
        for n in cells[2].split(',') {
            let n: usize = n.trim().parse().expect("line number");
            out.insert((
                cells[1].trim_matches('`').to_owned(),
                n,
                cells[3].trim_matches('`').to_owned(),
                cells[4].to_owned(),
            ));
        }
    }
    out
}

fn actual() -> (i32, serde_json::Value) {
    check_json(&data("check/audit"), ARGS)
}

fn keys(json: &serde_json::Value) -> Vec<Key> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().expect("file").to_owned(),
                f["line"].as_u64().expect("line") as usize,
                f["rule"].as_str().expect("rule").to_owned(),
                f["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect()
}

/// See: issue 10 (the expected-findings table: nothing missing, nothing extra).
#[test]
fn findings_match_the_audit_table() {
    let (code, json) = actual();
    assert_eq!(code, 1, "findings mean exit 1");
    assert_eq!(json["errors"], serde_json::json!([]));
    let got = keys(&json);
    let got_set: BTreeSet<Key> = got.iter().cloned().collect();
    let want = expected();
    let missing: Vec<_> = want.difference(&got_set).collect();
    let extra: Vec<_> = got_set.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (in README, not found):\n{missing:#?}\nextra (found, not in README):\n{extra:#?}"
    );
    assert_eq!(got.len(), want.len(), "one finding per line and rule");
    // Every hardening rule is exercised by the table.
    let rules: BTreeSet<&str> = want.iter().map(|k| k.2.as_str()).collect();
    for rule in [
        "unverifiable-image",
        "compose-exposed-port",
        "compose-docker-socket",
        "compose-optional-secret",
        "compose-default-credential",
        "compose-privileged",
        "traefik-insecure-api",
        "dockerfile-root-user",
        "dockerfile-single-stage",
        "scan-continue-on-error",
        "scan-not-gating",
        "image-not-scanned",
        "excessive-permissions",
    ] {
        assert!(rules.contains(rule), "{rule} has no row");
    }
}

/// The negatives: files with none of the findings (issue 10's "the negative set matters").
#[test]
fn negative_fixtures_have_no_findings() {
    let (_, json) = actual();
    // Pin findings (a tag-pinned base image) are the pin corpus's business.
    let files: BTreeSet<String> = keys(&json)
        .into_iter()
        .filter(|k| !k.2.starts_with("unpinned-"))
        .map(|k| k.0)
        .collect();
    for clean in [
        "cases/workflows/clean-scan.yml",
        "cases/dockerfiles/nonroot/Dockerfile",
        "cases/dockerfiles/cleanup/Dockerfile",
        "cases/traefik-safe/traefik.yaml",
        "stack/marketplace/Dockerfile",
        "real/microservices-demo/services/asset/Dockerfile",
    ] {
        assert!(!files.contains(clean), "{clean} has findings");
    }
    let (code, json) = check_json(
        &data("check/audit"),
        &[
            "cases/workflows/clean-scan.yml",
            "cases/dockerfiles/nonroot",
            "cases/dockerfiles/cleanup",
            "cases/traefik-safe",
        ],
    );
    assert_eq!(
        (code, json["findings"].as_array().map(Vec::len)),
        (0, Some(0))
    );
    assert_eq!(json["summary"]["files"].as_u64(), Some(4));
}

/// Each finding's span is on its line and covers text of that line (the port entry, the
/// key's value, the `USER` instruction …); YAML entries start where the entry is written.
#[test]
fn spans_point_at_the_entry() {
    let (_, json) = actual();
    let mut checked = 0;
    for f in json["findings"].as_array().expect("findings") {
        let file = f["file"].as_str().expect("file");
        let text = std::fs::read_to_string(data("check/audit").join(file)).expect("fixture");
        let line_no = f["line"].as_u64().expect("line") as usize;
        let col = f["column"].as_u64().expect("column") as usize;
        let end_line = f["end_line"].as_u64().expect("end_line") as usize;
        let end_col = f["end_column"].as_u64().expect("end_column") as usize;
        let line = text.split('\n').nth(line_no - 1).expect("line exists");
        // A long-form entry (a mapping) spans lines: its first line from the column on.
        let take = if end_line == line_no {
            end_col.saturating_sub(col)
        } else {
            usize::MAX
        };
        let span: String = line.chars().skip(col - 1).take(take).collect();
        assert!(
            !span.trim().is_empty(),
            "{file}:{line_no}:{col}: empty span\n{line}"
        );
        let rule = f["rule"].as_str().expect("rule");
        let want = match rule {
            "compose-docker-socket" => Some("docker.sock"),
            "scan-continue-on-error" => Some("true"),
            "excessive-permissions" if span.contains("write-all") => Some("write-all"),
            "dockerfile-root-user" if line.trim_start().starts_with("USER") => Some("root"),
            _ => None,
        };
        if let Some(want) = want {
            assert!(
                span.contains(want),
                "{file}:{line_no}: `{span}` lacks `{want}`"
            );
        }
        checked += 1;
    }
    assert!(checked >= 250, "{checked}");
}

fn validate(schema: &str, files: &[&Path]) {
    let tool = require_tool("check-jsonschema", "pip install check-jsonschema");
    let mut args = vec![OsString::from("--builtin-schema"), OsString::from(schema)];
    args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(OsString::as_os_str).collect();
    let (ok, text) = run_tool(&tool, &refs);
    assert!(ok, "{schema}: {text}");
}

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// Compose files pass the compose spec, workflows GitHub's workflow schema.
#[test]
fn fixtures_validate_against_their_schemas() {
    let root = data("check/audit");
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut compose = Vec::new();
    files_under(
        &root,
        &|p| {
            let n = name(p);
            (n.starts_with("docker-compose") || n.starts_with("compose")) && n.ends_with(".yml")
                || n == "compose.yaml"
        },
        &mut compose,
    );
    let mut workflows = Vec::new();
    files_under(
        &root,
        &|p| {
            let s = p.to_string_lossy();
            (s.contains("/.github/workflows/") || s.contains("/cases/workflows/"))
                && s.ends_with(".yml")
        },
        &mut workflows,
    );
    assert!(
        compose.len() >= 10 && workflows.len() >= 10,
        "{compose:?} {workflows:?}"
    );
    let refs: Vec<&Path> = compose.iter().map(|p| p.as_path()).collect();
    validate("vendor.compose-spec", &refs);
    let refs: Vec<&Path> = workflows.iter().map(|p| p.as_path()).collect();
    validate("vendor.github-workflows", &refs);
}

#[test]
fn explain_prints_the_rationale_and_fix() {
    let out = cicd()
        .args(["check", "--explain", "compose-docker-socket"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout), @r"
    compose-docker-socket: compose service mounts the Docker socket
    default severity: medium

    The Docker socket is the Docker API: whoever can write to it can start a privileged
    container that mounts `/`, so a compromised service becomes root on the host. `:ro` does not
    help (it stops unlinking the socket file, not API calls). Put a filtering proxy such as
    `tecnativa/docker-socket-proxy` in front and give the service only the endpoints it needs
    (`CONTAINERS=1`, read-only), or use the tool's own non-socket discovery.

    More: https://docs.docker.com/engine/security/#docker-daemon-attack-surface
    ");
    let out = cicd()
        .args(["check", "--explain", "all"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 17, "{text}");
    assert!(
        text.contains("excessive-permissions        medium"),
        "{text}"
    );
    let out = cicd()
        .args(["check", "--explain", "compose-socket\n::error::x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown rule") && err.contains("compose-docker-socket"),
        "{err}"
    );
    assert!(!err.lines().any(|l| l.starts_with("::")), "{err}");
}

/// SARIF carries each hardening rule's help, as `--explain` prints it.
#[test]
fn sarif_has_the_rule_help() {
    let out = cicd()
        .current_dir(data("check/audit"))
        .args([
            "check",
            "--offline",
            "--format",
            "sarif",
            "stack/traefik/traefik.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let rule = rules
        .iter()
        .find(|r| r["id"] == "traefik-insecure-api")
        .expect("rule");
    assert!(
        rule["help"]["text"]
            .as_str()
            .expect("help")
            .contains("api@internal"),
        "{rule:#}"
    );
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "traefik-insecure-api"
    );
}
