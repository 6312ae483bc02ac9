//! `cicd pin`: its flags.

use std::path::PathBuf;

use clap::Args;

use super::check::ConfigArg;

pub(super) const PIN_EXIT_CODES: &str = "\
Exit codes:
  0  ok: every reference found is pinned (or there was nothing to pin)
  2  bad input or usage (unreadable file, invalid cicd.yaml, malformed reference)
  3  external failure after retries (no reference could be resolved, writing a file)";

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Files or directories to rewrite (default: the current directory), found as `check` finds
    /// them.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Print what changed as JSON.
    #[arg(long)]
    pub json: bool,

    /// Also move existing SHA pins to the newest release tag (see --min-age).
    #[arg(long)]
    pub update: bool,

    /// With --update: only releases whose commit is at least DAYS old (a cooldown against a
    /// freshly hijacked tag).
    #[arg(long, value_name = "DAYS", default_value_t = 0, requires = "update")]
    pub min_age: u32,

    /// Where `owner/repo` lives, resolved over Git smart HTTP.
    #[arg(
        long,
        env = "GITHUB_SERVER_URL",
        hide_env_values = true,
        default_value = super::GITHUB_SERVER,
        value_name = "URL"
    )]
    pub server_url: String,

    #[command(flatten)]
    pub config: ConfigArg,
}
