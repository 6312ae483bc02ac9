//! `cicd completions bash|zsh|fish` and `cicd man`: bash completes for real (the script is
//! sourced in bash and asked, as readline asks it); zsh and fish name every subcommand (neither
//! shell is on the test machines); every man page renders under groff (UTF-8 through preconv,
//! as man-db reads pages) with no warning.

use crate::harness::{cicd, require_tool};

fn generate(args: &[&str]) -> String {
    let out = cicd().args(args).output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What bash's completion function offers for `words` (the last one being completed).
fn bash_complete(script: &str, words: &[&str]) -> String {
    let bash = require_tool("bash", "apt-get install bash");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cicd.bash");
    std::fs::write(&file, script).expect("write");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_cicd cicd '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\" | sort\n",
        file.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words.last().expect("a word"),
        words[words.len().saturating_sub(2)],
    );
    let out = std::process::Command::new(bash)
        .args(["--noprofile", "--norc", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// See: issue 16.
#[test]
fn bash_completion_offers_subcommands_and_flags() {
    let script = generate(&["completions", "bash"]);
    insta::assert_snapshot!(
        "completions_bash_subcommands",
        bash_complete(&script, &["cicd", ""])
    );
    insta::assert_snapshot!(
        "completions_bash_init_flags",
        bash_complete(&script, &["cicd", "init", "--"])
    );
}

fn subcommands() -> Vec<String> {
    let help = generate(&["--help"]);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

// See: issue 16.
#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let zsh = generate(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef cicd\n"));
    let fish = generate(&["completions", "fish"]);
    let names = subcommands();
    assert!(names.len() > 10, "{names:?}");
    for name in &names {
        assert!(zsh.contains(&format!("'{name}:")), "zsh misses {name}");
        assert!(
            fish.contains(&format!(
                "-n \"__fish_cicd_needs_command\" -f -a \"{name}\""
            )),
            "fish misses {name}"
        );
    }
    let out = cicd()
        .args(["completions", "powershell"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

// See: issue 16.
#[test]
fn man_pages_render_without_warnings() {
    let page = generate(&["man"]);
    let head: String = page.lines().take(6).collect::<Vec<_>>().join("\n");
    let head = regex_free_redact(&head);
    insta::assert_snapshot!("man_head", head);

    let dir = tempfile::tempdir().expect("tempdir");
    let out = cicd()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success());
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for name in subcommands().iter().filter(|n| *n != "help") {
        assert!(
            pages.contains(&format!("cicd-{name}.1")),
            "no page for {name}: {pages:?}"
        );
    }
    assert!(
        pages.contains(&"cicd-check-trivy.1".to_owned()),
        "{pages:?}"
    );
    let groff = require_tool("groff", "apt-get install groff-base");
    for page in &pages {
        let out = std::process::Command::new(&groff)
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(dir.path().join(page))
            .output()
            .expect("run groff");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let init = std::fs::read_to_string(dir.path().join("cicd-init.1")).expect("read");
    assert!(init.contains("\\fBcicd init\\fR"), "{init}");
}

/// `.TH` carries the version and git revision: the revision is redacted.
fn regex_free_redact(text: &str) -> String {
    text.lines()
        .map(|l| match (l.find('('), l.rfind(')')) {
            (Some(a), Some(b)) if l.starts_with(".TH") && b > a => {
                format!("{}([revision]){}", &l[..a], &l[b + 1..])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
