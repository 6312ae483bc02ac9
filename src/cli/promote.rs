//! `cicd promote` flags (clap derive) and nothing else.

use clap::{ArgAction, Args, Subcommand};

use super::{ConfigArg, RegistryArgs};

pub const PROMOTE_EXIT_CODES: &str = "\
Environments come from `environments:` in cicd.yaml. REF is docker://HOST/REPO[:TAG|@DIGEST],
oci:PATH[:TAG] or HOST/REPO[:TAG|@DIGEST]; --version X.Y.Z names tag X.Y.Z of --image (the
exact tag `cicd release` pushes).

Exit codes:
  0  ok: promoted (or rolled back, or the dry run would)
  1  refused: evidence missing or failing, or not promoted to the `after:` environment yet
     (each reason is printed; nothing was tagged or copied)
  2  bad input or usage (unknown environment, invalid cicd.yaml, a requirement this build
     cannot check)
  3  external failure after retries (registry, network); the environment tag is unchanged
     unless the history entry alone failed, which a re-run completes";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PromoteArgs {
    #[command(subcommand)]
    pub sub: Option<PromoteCommand>,

    /// The image to promote (a tag is resolved once, to its digest).
    #[arg(value_name = "REF", conflicts_with = "rollback")]
    pub reference: Option<String>,

    /// Promote tag X.Y.Z of --image (with REF: the version recorded for it).
    #[arg(long, value_name = "X.Y.Z")]
    pub version: Option<String>,

    /// The environment to promote to; with --rollback, the digest to roll back to.
    #[arg(long, value_name = "ENV|DIGEST")]
    pub to: Option<String>,

    /// Move ENV back to an earlier entry of its history (default: the one before the current).
    #[arg(long, value_name = "ENV")]
    pub rollback: Option<String>,

    /// With --rollback: go back N entries (entries rolled back and repeats skipped).
    #[arg(long, value_name = "N", requires = "rollback", conflicts_with = "to",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub steps: Option<u32>,

    /// With --rollback: skip re-verifying the evidence (recorded in the history).
    #[arg(long, requires = "rollback")]
    pub force: bool,

    /// An `images:` name in cicd.yaml, or a repository (HOST/REPO, docker://…, oci:PATH).
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,

    /// Check everything and say what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,

    /// Accept signatures without a transparency-log entry (as `require.signature`'s
    /// `insecure-ignore-tlog`).
    #[arg(long, action = ArgAction::Set, default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Subcommand)]
pub enum PromoteCommand {
    /// List an environment's history: digest, version, time, actor, rolled back or not.
    History(HistoryArgs),
    /// Where a digest is (which environments, since when) and all its evidence.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[arg(value_name = "ENV")]
    pub environment: String,

    /// An `images:` name in cicd.yaml, or a repository.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,

    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(value_name = "REF")]
    pub reference: String,

    #[arg(long)]
    pub json: bool,

    /// Accept signatures without a transparency-log entry.
    #[arg(long, action = ArgAction::Set, default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
