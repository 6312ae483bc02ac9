//! The fixtures are real GitHub syntax: every well-formed workflow and action validates with
//! check-jsonschema's vendored GitHub schemas (and compose files with the compose spec).

use std::ffi::OsString;

use crate::harness::{check_fixtures, data, require_tool, run_tool};

fn validate(schema: &str, filter: impl Fn(&str) -> bool) -> usize {
    let tool = require_tool("check-jsonschema", "pip install check-jsonschema");
    let files: Vec<OsString> = check_fixtures()
        .into_iter()
        .filter(|f| filter(f))
        .map(|f| data("check").join(f).into_os_string())
        .collect();
    assert!(!files.is_empty());
    let mut args = vec![OsString::from("--builtin-schema"), OsString::from(schema)];
    args.extend(files.iter().cloned());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(OsString::as_os_str).collect();
    let (ok, text) = run_tool(&tool, &refs);
    assert!(ok, "{schema}: {text}");
    files.len()
}

#[test]
fn workflows_validate() {
    let n = validate("vendor.github-workflows", |f| {
        (f.starts_with("workflows/") || f.starts_with("clean/workflows/"))
            && (f.ends_with(".yml") || f.ends_with(".yaml"))
    });
    assert!(n >= 20, "{n}");
}

#[test]
fn actions_validate() {
    let n = validate("vendor.github-actions", |f| {
        f.ends_with("action.yml") || f.ends_with("action.yaml")
    });
    assert!(n >= 8, "{n}");
}

#[test]
fn compose_files_validate() {
    let n = validate("vendor.compose-spec", |f| {
        f.starts_with("compose/") || f.starts_with("clean/compose/")
    });
    assert!(n >= 8, "{n}");
}
