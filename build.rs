//! Embeds the git revision in `--version`.

use std::process::Command;

fn main() {
    let revision = std::env::var("CICD_GIT_REVISION")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        });
    let revision = revision.unwrap_or_else(|| "unknown revision".to_owned());
    println!("cargo:rustc-env=CICD_GIT_REVISION={revision}");
    println!("cargo:rerun-if-env-changed=CICD_GIT_REVISION");
    for path in git_state_paths() {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// The files a new commit or checkout changes: HEAD of this work tree, and the branch refs
/// (in the common git directory, which a linked work tree — `.git` is then a file — shares).
fn git_state_paths() -> Vec<std::path::PathBuf> {
    let dirs = Command::new("git")
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
        ])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let mut lines = dirs.lines().map(std::path::PathBuf::from);
    let (Some(git_dir), Some(common)) = (lines.next(), lines.next()) else {
        return Vec::new();
    };
    vec![
        git_dir.join("HEAD"),
        common.join("refs/heads"),
        common.join("packed-refs"),
    ]
}
