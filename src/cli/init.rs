//! `cicd init`: its flags.

use std::path::PathBuf;

use clap::Args;

pub(super) const INIT_EXIT_CODES: &str = "\
Exit codes:
  0  ok: files written (or printed with --dry-run)
  2  bad input or usage (a file exists without --force, a symlink in the way, no --action)
  3  external failure (an action's ref could not be resolved, writing a file)";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository to initialise (default: the current directory).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,

    /// Print the files instead of writing them.
    #[arg(long)]
    pub dry_run: bool,

    /// Pin actions to the SHAs this cicd ships instead of resolving their refs over Git.
    #[arg(long)]
    pub offline: bool,

    /// The cicd action the workflows use: `OWNER/NAME` (its `v<this version>` tag is resolved)
    /// or `OWNER/NAME@SHA` (needed with --offline).
    #[arg(long, env = "CICD_ACTION", value_name = "OWNER/NAME[@SHA]")]
    pub action: Option<String>,

    /// Where `owner/repo` lives, resolved over Git smart HTTP.
    #[arg(
        long,
        env = "GITHUB_SERVER_URL",
        hide_env_values = true,
        default_value = super::GITHUB_SERVER,
        value_name = "URL"
    )]
    pub server_url: String,
}
