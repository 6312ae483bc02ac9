//! The GitHub Actions runtime as a step sees it: `GITHUB_ACTIONS`, `$GITHUB_OUTPUT`,
//! `$GITHUB_STEP_SUMMARY`, and `::add-mask::` for secrets.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;

/// What the runner gave this process; all empty outside Actions.
#[derive(Clone, Debug, Default)]
pub struct Runtime {
    /// `GITHUB_ACTIONS=true`.
    pub active: bool,
    output: Option<PathBuf>,
    summary: Option<PathBuf>,
}

impl Runtime {
    pub fn from_env() -> Self {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let active = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        Self {
            active,
            output: path("GITHUB_OUTPUT").filter(|_| active),
            summary: path("GITHUB_STEP_SUMMARY").filter(|_| active),
        }
    }

    /// Appends `name=value` to `$GITHUB_OUTPUT` (a heredoc block when the value has newlines).
    pub fn set_output(&self, name: &str, value: &str) -> io::Result<()> {
        let Some(path) = &self.output else {
            return Ok(());
        };
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if value.contains('\n') || value.contains('\r') {
            let mut delimiter = String::from("CICD_EOF");
            while value.contains(&delimiter) {
                delimiter.push('_');
            }
            writeln!(file, "{name}<<{delimiter}\n{value}\n{delimiter}")
        } else {
            writeln!(file, "{name}={value}")
        }
    }

    /// Appends Markdown to the step summary.
    pub fn append_summary(&self, markdown: &str) -> io::Result<()> {
        let Some(path) = &self.summary else {
            return Ok(());
        };
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(markdown.as_bytes())?;
        if !markdown.ends_with('\n') {
            writeln!(file)?;
        }
        Ok(())
    }

    /// Tells the runner to mask `secret` in all later log output.
    pub fn mask(&self, secret: &str, out: &mut dyn Write) -> io::Result<()> {
        if self.active {
            for line in secret.lines().filter(|l| !l.trim().is_empty()) {
                writeln!(out, "::add-mask::{line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_summary_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rt = Runtime {
            active: true,
            output: Some(dir.path().join("out")),
            summary: Some(dir.path().join("sum")),
        };
        rt.set_output("findings", "3").expect("write");
        rt.set_output("list", "a\nCICD_EOF\nb").expect("write");
        rt.append_summary("# hi").expect("write");
        let out = std::fs::read_to_string(dir.path().join("out")).expect("read");
        assert_eq!(
            out,
            "findings=3\nlist<<CICD_EOF_\na\nCICD_EOF\nb\nCICD_EOF_\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sum")).expect("read"),
            "# hi\n"
        );
        let mut masked = Vec::new();
        rt.mask("s3cret", &mut masked).expect("mask");
        assert_eq!(masked, b"::add-mask::s3cret\n");
    }
}
