//! `cicd version` and `cicd tag` flags (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::ConfigArg;

pub const VERSION_EXIT_CODES: &str = "\
Reads version tags (`release.tag-prefix`, default `v`; `release.component` for `NAME/vX.Y.Z`)
and the conventional commits since the newest stable one reachable from HEAD.

Exit codes:
  0  ok (also when nothing is releasable: the output is then empty)
  2  bad input or usage (not a git repository, unknown ref, invalid cicd.yaml, bad Release-As)
  3  external failure (git could not run, writing output)";

pub const TAG_EXIT_CODES: &str = "\
Refuses a dirty working tree, an existing tag, and HEAD not on the default branch
(origin/HEAD, else init.defaultBranch, else main; --allow-branch overrides).
In GitHub Actions, a tag pushed with the workflow's GITHUB_TOKEN starts no other workflow:
push with a GitHub App or personal access token, or run `cicd release` in the same job.

Exit codes:
  0  ok (also when nothing is releasable: no tag is created)
  2  bad input or usage (dirty tree, tag exists, not on the default branch, invalid cicd.yaml)
  3  external failure (git could not run, the push failed)";

/// A prerelease channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pre {
    Alpha,
    Beta,
    Rc,
}

impl Pre {
    pub fn id(self) -> &'static str {
        match self {
            Pre::Alpha => "alpha",
            Pre::Beta => "beta",
            Pre::Rc => "rc",
        }
    }
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    #[command(subcommand)]
    pub command: VersionCommand,
}

#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    /// Print the next version from the conventional commits since the last release.
    #[command(after_help = VERSION_EXIT_CODES)]
    Next(NextArgs),
    /// Print the changelog (Markdown) of the next version, or of a version tag with --to.
    #[command(after_help = VERSION_EXIT_CODES)]
    Changelog(ChangelogArgs),
}

impl VersionCommand {
    pub fn config(&self) -> &ConfigArg {
        match self {
            VersionCommand::Next(a) => &a.config,
            VersionCommand::Changelog(a) => &a.config,
        }
    }
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// A prerelease: `1.2.0` → `1.3.0-rc.1`, then `rc.2`.
    #[arg(long, value_enum, value_name = "CHANNEL")]
    pub pre: Option<Pre>,

    /// Print {"version","previous","bump","commits",…} as JSON (`version` is "" when nothing
    /// is releasable).
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// Start after this tag (default: the previous version's tag).
    #[arg(long, value_name = "TAG")]
    pub from: Option<String>,

    /// End at this ref (default HEAD); a version tag gives that version's changelog.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub to: String,

    /// The changelog of the next prerelease of this channel.
    #[arg(long, value_enum, value_name = "CHANNEL")]
    pub pre: Option<Pre>,

    /// Also insert the section into FILE (Keep a Changelog layout; created when missing).
    #[arg(long, value_name = "FILE")]
    pub prepend: Option<PathBuf>,

    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Tag the next prerelease of this channel.
    #[arg(long, value_enum, value_name = "CHANNEL")]
    pub pre: Option<Pre>,

    /// Push the tag to the remote.
    #[arg(long)]
    pub push: bool,

    /// The remote to push to.
    #[arg(long, default_value = "origin", value_name = "NAME")]
    pub remote: String,

    /// Tag even when HEAD is not on the default branch (a release branch).
    #[arg(long)]
    pub allow_branch: bool,

    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,
}
