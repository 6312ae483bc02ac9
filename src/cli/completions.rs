//! `cicd completions SHELL` and `cicd man`: their flags.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (`cicd.1`, `cicd-check.1`, `cicd-check-trivy.1`, …) into
    /// DIR instead of printing `cicd.1`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}
