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
            let _ = writeln!(
                s,
                "cicd verify {} --key cosign.pub --insecure-ignore-tlog",
                shell_word(&reference)
            );
        }
        s.push_str("```\n");
    } else {
        s.push_str("These images are not signed (no `release.signing` in cicd.yaml).\n");
    }
    s.push_str("\nThe SBOM of each platform and `SHA256SUMS` are attached to this release.\n");
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
