//! The four sample repositories, offline: golden `cicd.yaml` and workflows, validators, a
//! second run refused, `--force`, `--dry-run` writing nothing.

use super::{FROM, Sample, init};
use crate::action::validate;

fn written(sample: &Sample) -> Vec<String> {
    let mut files = Vec::new();
    for rel in [
        "cicd.yaml",
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        ".github/workflows/promote.yml",
    ] {
        if sample.root.join(rel).exists() {
            files.push(rel.to_owned());
        }
    }
    files
}

fn validate_all(sample: &Sample) {
    let files = written(sample);
    let workflows: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|f| f.ends_with(".yml"))
        .collect();
    let git = crate::harness::require_tool("git", "apt-get install git");
    let _ = crate::harness::run_tool(
        &git,
        &["init".as_ref(), "-q".as_ref(), sample.root.as_os_str()],
    );
    validate::all(&sample.root, &workflows, &[]);
}

// See: issue 16.
#[test]
fn init_one_dockerfile_writes_everything_and_it_validates() {
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let (code, stdout, stderr) = init(&sample.root, &[]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout, @r"
    wrote cicd.yaml
    wrote .github/workflows/ci.yml
    wrote .github/workflows/release.yml
    wrote .github/workflows/promote.yml
    ");
    assert_eq!(stderr, "images: shop (./Dockerfile)\n");
    for rel in written(&sample) {
        let text = std::fs::read_to_string(sample.root.join(&rel)).expect("read");
        insta::assert_snapshot!(format!("init_one_{}", rel.replace(['/', '.'], "_")), text);
    }
    validate_all(&sample);
}

// See: issue 16.
#[test]
fn init_two_dockerfiles_names_them_by_directory() {
    let sample = Sample::new(&[("api/Dockerfile", FROM), ("web/Dockerfile.prod", FROM)]);
    let (code, _, stderr) = init(&sample.root, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "images: api (api/Dockerfile), prod (web/Dockerfile.prod)\n"
    );
    let config = std::fs::read_to_string(sample.root.join("cicd.yaml")).expect("read");
    insta::assert_snapshot!("init_two_cicd_yaml", config);
    assert_eq!(written(&sample).len(), 4);
    validate_all(&sample);
    // `cicd plan matrix` reads the written cicd.yaml: 2 images × 2 platforms.
    let out = crate::harness::cicd()
        .current_dir(&sample.root)
        .args(["plan", "matrix"])
        .output()
        .expect("plan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let matrix: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        matrix["include"].as_array().map(Vec::len),
        Some(4),
        "{matrix}"
    );
}

// See: issue 16.
#[test]
fn init_compose_only_writes_config_and_ci_and_says_why() {
    let compose = "services:\n  db:\n    image: postgres@sha256:2222222222222222222222222222222222222222222222222222222222222222\n";
    let sample = Sample::new(&[("compose.yaml", compose)]);
    let (code, stdout, stderr) = init(&sample.root, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "wrote cicd.yaml\nwrote .github/workflows/ci.yml\n");
    insta::assert_snapshot!(stderr, @"note: no Dockerfile found (compose.yaml names images to run, not to build): release.yml and promote.yml not written; add images to cicd.yaml and run `cicd init --force`");
    let config = std::fs::read_to_string(sample.root.join("cicd.yaml")).expect("read");
    insta::assert_snapshot!("init_none_cicd_yaml", config);
    validate_all(&sample);
}

// See: issue 16.
#[test]
fn init_empty_repository_writes_config_and_ci() {
    let sample = Sample::new(&[("README.md", "# shop\n")]);
    let (code, stdout, stderr) = init(&sample.root, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "wrote cicd.yaml\nwrote .github/workflows/ci.yml\n");
    assert!(
        stderr.starts_with("note: no Dockerfile found: release.yml"),
        "{stderr}"
    );
    let config = std::fs::read_to_string(sample.root.join("cicd.yaml")).expect("read");
    insta::assert_snapshot!("init_none_cicd_yaml", config);
    validate_all(&sample);
}

// See: issue 16.
#[test]
fn init_refuses_a_second_run_unless_forced() {
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    assert_eq!(init(&sample.root, &[]).0, 0);
    let ci = sample.root.join(".github/workflows/ci.yml");
    std::fs::write(&ci, "# mine\n").expect("edit");
    let (code, stdout, stderr) = init(&sample.root, &[]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr, @"error: cicd.yaml, .github/workflows/ci.yml, .github/workflows/release.yml, .github/workflows/promote.yml already exist; pass --force to overwrite");
    assert_eq!(std::fs::read_to_string(&ci).expect("read"), "# mine\n");
    let (code, _, stderr) = init(&sample.root, &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&ci)
            .expect("read")
            .contains("cicd check")
    );
}

// See: issue 16.
#[test]
fn init_dry_run_prints_and_writes_nothing() {
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let (code, stdout, _) = init(&sample.root, &["--dry-run"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("# --- cicd.yaml ---\n# cicd.yaml: written by `cicd init`"),
        "{stdout}"
    );
    for name in ["ci.yml", "release.yml", "promote.yml"] {
        assert!(
            stdout.contains(&format!("# --- .github/workflows/{name} ---\n")),
            "{name}"
        );
    }
    assert_eq!(written(&sample), Vec::<String>::new());
    assert!(!sample.root.join(".github").exists());
}

// See: issue 16. Offline without the action's commit cannot pin it: refused, nothing written.
#[test]
fn init_without_an_action_commit_is_refused() {
    let sample = Sample::new(&[("Dockerfile", FROM)]);
    let out = crate::harness::cicd()
        .current_dir(&sample.root)
        .args(["init", "--offline", "--action", "acme/cicd"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --offline needs the cicd action's commit: --action acme/cicd@<40-character SHA>\n"
    );
    let out = crate::harness::cicd()
        .current_dir(&sample.root)
        .args(["init", "--offline"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --action OWNER/NAME[@SHA]"));
    assert_eq!(written(&sample), Vec::<String>::new());
}
