//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CICD_GIT_REVISION"),
    ")"
);

const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  policy or gate violation (findings)
  2  bad input or usage (unreadable file, invalid config, unknown flag)
  3  external failure after retries (registry, GitHub, network, writing output)";

/// From pull request to production for container-shipping repositories.
#[derive(Debug, Parser)]
#[command(name = "cicd", version = VERSION, about, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// Configuration file (default: `cicd.yaml` in the current directory or a parent up to the
    /// repository root).
    #[arg(long, global = true, env = "CICD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Never use the network; checks that need it are skipped and say so.
    #[arg(long, global = true)]
    pub offline: bool,

    /// When to colour terminal output (`NO_COLOR` is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Where `owner/repo` lives, resolved over Git smart HTTP.
    #[arg(
        long,
        global = true,
        env = "GITHUB_SERVER_URL",
        default_value = "https://github.com",
        value_name = "URL"
    )]
    pub server_url: String,

    /// GitHub's REST API, for what Git cannot answer (GHES: `https://HOST/api/v3`). A token
    /// is read from `GITHUB_TOKEN`, never from the command line.
    #[arg(
        long,
        global = true,
        env = "GITHUB_API_URL",
        default_value = "https://api.github.com",
        value_name = "URL"
    )]
    pub api_url: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check workflows, actions, Dockerfiles and compose files for unpinned actions and images.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Pin `uses:` refs to full commit SHAs with the version in a trailing comment.
    ///
    /// Refs are resolved over Git's smart HTTP protocol at `GITHUB_SERVER_URL` (default
    /// https://github.com): no token and no API rate limit. Only the ref and its comment change
    /// in each file; a second run changes nothing. Exits 3 only when no reference could be
    /// resolved.
    #[command(after_help = EXIT_CODES)]
    Pin(PinArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CheckArgs {
    #[command(subcommand)]
    pub sub: Option<CheckCommand>,

    /// Files or directories to check (default: the current directory). Directories are walked
    /// for `.github/workflows/*.yml`, `action.yml`, Dockerfiles/Containerfiles and compose
    /// files, honouring `.gitignore`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Plain)]
    pub format: Format,

    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Gate on Trivy reports: fail on severities, with ignores that expire and a baseline.
    #[command(after_help = TRIVY_HELP)]
    Trivy(TrivyArgs),
}

const TRIVY_HELP: &str = "\
Reports: Trivy JSON (SchemaVersion 2), Trivy SARIF or CycloneDX with vulnerabilities; the
format is read from the content. Several reports (one per image or platform) are gated together.
Without --fail-on the gate fails on every finding in the reports, as `trivy --exit-code 1` does.
Severities: UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL (any case, comma-separated).

Exit codes:
  0  ok: the gate passed
  1  policy or gate violation: the gate failed
  2  bad input or usage (unreadable or corrupt report, invalid ignore file or cicd.yaml)
  3  external failure after retries (writing output)";

#[derive(Debug, Args)]
pub struct TrivyArgs {
    /// Trivy reports to gate on.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    /// Severities that fail the gate (default: all; `policy.trivy.fail-on`).
    #[arg(long, value_name = "SEVS", value_delimiter = ',')]
    pub fail_on: Vec<String>,

    /// Severities shown (default: all; findings that fail the gate are always shown).
    #[arg(long, value_name = "SEVS", value_delimiter = ',')]
    pub report: Vec<String>,

    /// Leave out vulnerabilities that have no fixed version.
    #[arg(long)]
    pub ignore_unfixed: bool,

    /// Ignore file (`.trivyignore` format, or `.trivyignore.yaml` when it ends in .yaml/.yml);
    /// repeatable. Default: `.trivyignore` and `.trivyignore.yaml` in the current directory.
    #[arg(long, value_name = "FILE")]
    pub ignorefile: Vec<PathBuf>,

    /// The base branch's report(s): only findings not in them can fail the gate.
    #[arg(long, value_name = "FILE")]
    pub baseline: Vec<PathBuf>,

    /// Write the ignores that applied as an OpenVEX document.
    #[arg(long, value_name = "FILE")]
    pub vex_out: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Plain)]
    pub format: Format,

    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

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

    /// Where `owner/repo` lives.
    #[arg(
        long,
        env = "GITHUB_SERVER_URL",
        default_value = "https://github.com",
        value_name = "URL"
    )]
    pub server_url: String,
}
