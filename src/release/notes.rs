//! The release notes (the GitHub release body, and `dist/release-notes.md`): the changelog,
//! then each image with its index digest, per-platform digests and tags, then the commands
//! that verify it. Commit subjects and other user text are escaped for Markdown.

use std::fmt::Write;

use super::pipeline::Record;
use crate::report::escape::{markdown, markdown_code};

pub fn body(record: &Record, changelog: &str) -> String {
    let mut s = String::new();
    if !changelog.trim().is_empty() {
        s.push_str(changelog.trim_end());
        s.push_str("\n\n");
    }
    s.push_str("## Images\n\n| image | platform | digest |\n|---|---|---|\n");
    for image in &record.images {
        let reference = image_ref(&image.destination, &image.digest);
        let _ = writeln!(
            s,
            "| {} | index | {} |",
            markdown(&image.name),
            markdown_code(&reference)
        );
        for p in &image.platforms {
            let _ = writeln!(s, "| | {} | `{}` |", markdown(&p.platform), p.digest);
        }
    }
    s.push('\n');
    for image in &record.images {
        if !image.tags.is_empty() {
            let tags: Vec<String> = image.tags.iter().map(|t| markdown_code(t)).collect();
            let _ = writeln!(s, "{} tags: {}", markdown(&image.name), tags.join(", "));
        }
    }
    s.push_str("\n## Verify\n\n");
    if record.signed {
        s.push_str("```sh\n");
        for image in &record.images {
            let reference = image_ref(&image.destination, &image.digest);
            let _ = writeln!(s, "cicd verify {} --key cosign.pub", shell_word(&reference));
        }
        s.push_str("```\n");
    } else {
        s.push_str("These images are not signed (no `release.signing` in cicd.yaml).\n");
    }
    s.push_str("\nThe SBOM of each platform and `SHA256SUMS` are attached to this release.\n");
    s
}

/// The git log subjects between the previous version tag and this one, as a plain list; the
/// conventional-commit changelog (`cicd version changelog`) replaces it when available.
pub fn plain_changelog(repo: &std::path::Path, from: Option<&str>, to: &str) -> String {
    let range = match from {
        Some(f) => format!("{f}..{to}"),
        None => to.to_owned(),
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["log", "--no-merges", "--format=%h %s", &range, "--"])
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        return String::new();
    };
    let mut s = String::from("## Changes\n\n");
    for line in String::from_utf8_lossy(&out.stdout).lines().take(200) {
        if let Some((sha, subject)) = line.split_once(' ') {
            let _ = writeln!(s, "- {} ({sha})", markdown(subject));
        }
    }
    s
}

fn image_ref(destination: &str, digest: &str) -> String {
    format!("{destination}@{digest}")
}

/// Single-quotes a word for a POSIX shell.
fn shell_word(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
