//! Malformed input: exit 2 naming the file and line, never a panic, and the good files in
//! the same run still checked.

use crate::harness::{check_json, cicd, data};

/// Runs `cicd check PATH` in `data/check` and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = cicd()
        .current_dir(data("check"))
        .args(["check", "--color", "never"])
        .args(args)
        .output()
        .expect("run cicd");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let (code, _, stderr) = run(&["bad/syntax"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr, @r#"error: bad/syntax/.github/workflows/broken.yml:8:7: is not valid YAML: "-" is only valid inside a block"#);
}

#[test]
fn binary_file_named_yml() {
    let (code, _, stderr) = run(&["bad/binary"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr, @"error: bad/binary/.github/workflows/bin.yml: is a binary file (it contains NUL bytes), not text");
}

#[test]
fn non_utf8_names_the_byte_and_position() {
    let (code, _, stderr) = run(&["bad/latin1"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr, @"error: bad/latin1/.github/workflows/latin1.yml:1:4: is not valid UTF-8 (byte 0xE9); save it as UTF-8");
}

#[test]
fn dockerfile_from_without_image() {
    let (code, _, stderr) = run(&["bad/dockerfile-empty-from/Dockerfile"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad/dockerfile-empty-from/Dockerfile:2:5: FROM needs an image"),
        "{stderr}"
    );
}

#[test]
fn compose_services_of_the_wrong_type() {
    let (code, _, stderr) = run(&["bad/compose-wrong-type/compose.yaml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad/compose-wrong-type/compose.yaml:3:3: `services` must be a mapping"),
        "{stderr}"
    );
}

#[test]
fn missing_path_and_unknown_file_kind() {
    let (code, _, stderr) = run(&["does/not/exist.yml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("does/not/exist.yml: no such file or directory"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["README.md"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("README.md: is not a workflow, action, Dockerfile or compose file"),
        "{stderr}"
    );
}

/// One bad file does not hide the findings of the others; the run still exits 2.
#[test]
fn bad_files_lose_nothing_else() {
    let (code, json) = check_json(
        &data("check"),
        &["bad/syntax", "workflows/ci-basic.yml", "bad/binary"],
    );
    assert_eq!(code, 2);
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(2), "{json:#}");
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(2),
        "{json:#}"
    );
    assert_eq!(
        json["errors"][0]["file"],
        "bad/binary/.github/workflows/bin.yml"
    );
    assert_eq!(json["errors"][1]["line"], 8);
}

/// A 10 MB workflow is read in full: every one of its references is reported.
#[test]
fn ten_megabyte_workflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows/huge.yml");
    std::fs::create_dir_all(wf.parent().expect("parent")).expect("mkdir");
    let mut text = String::from("name: huge\non: push\njobs:\n");
    let mut steps = 0;
    let mut job = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "  job{job}:\n    runs-on: ubuntu-latest\n    steps:\n"
        ));
        for i in 0..200 {
            text.push_str(&format!(
                "      - name: step {i} of job {job}, padded so the file grows the way real ones do\n        uses: actions/checkout@v{i}\n        with:\n          fetch-depth: 0\n"
            ));
            steps += 1;
        }
        job += 1;
    }
    std::fs::write(&wf, &text).expect("write");
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let unpinned = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "unpinned-action")
        .count();
    assert_eq!(unpinned, steps);
}

/// Deep nesting and alias bombs are refused as bad input, not a crash or an OOM.
#[test]
fn hostile_yaml_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    std::fs::write(wf.join("deep.yml"), format!("jobs: {}", "[".repeat(5000))).expect("write");
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .windows(2)
        .map(|w| (w[0], w[1]))
    {
        bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    bomb.push_str("jobs: {}\n");
    std::fs::write(wf.join("bomb.yml"), bomb).expect("write");
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let errors = json["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("aliases expand")),
        "{errors:#?}"
    );
    assert!(
        errors[1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("recursion limit")),
        "{errors:#?}"
    );
}
