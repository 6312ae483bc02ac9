//! `cicd check` and `cicd check trivy`: their flags, and the report flags they share.

use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand};

use super::{ColorChoice, GitHubArgs, RegistryArgs};
use crate::report::Format;

pub(super) const CHECK_EXIT_CODES: &str = "\
Exit codes:
  0  ok: no findings
  1  policy or gate violation: findings
  2  bad input or usage (unreadable file, invalid cicd.yaml, unknown flag)
  3  external failure after retries (writing output)
An unreachable GitHub does not fail the check: the online rules are skipped with a note.";

pub(super) const TRIVY_HELP: &str = "\
Reports: Trivy JSON (SchemaVersion 2), Trivy SARIF or CycloneDX with vulnerabilities; the
format is read from the content. Several reports (one per image or platform) are gated together.
Without --fail-on the gate fails on every finding in the reports, as `trivy --exit-code 1` does.
Severities: UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL (any case, comma-separated).

Exit codes:
  0  ok: the gate passed
  1  policy or gate violation: the gate failed
  2  bad input or usage (unreadable or corrupt report, invalid ignore file or cicd.yaml)
  3  external failure after retries (writing output; with --attest, the registry)";

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

    #[command(flatten)]
    pub out: ReportArgs,

    #[command(flatten)]
    pub config: ConfigArg,

    /// Skip the online rules (they ask GitHub about pinned commits); the report says so.
    #[arg(long)]
    pub offline: bool,

    /// Print a rule's rationale and fix (what SARIF's help carries) and exit; `all` lists
    /// every rule.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,

    #[command(flatten)]
    pub github: GitHubArgs,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Gate on Trivy reports: fail on severities, with ignores that expire and a baseline.
    #[command(after_help = TRIVY_HELP)]
    Trivy(TrivyArgs),
}

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

    /// After the gate, attach its result to this image as a signed cosign vuln attestation
    /// (`docker://…` or `oci:…`; the scan report, its times and the verdict), whatever the
    /// verdict; needs --key.
    #[arg(long, value_name = "REF", requires = "key")]
    pub attest: Option<String>,

    /// With --attest: cosign private key (password from CICD_KEY_PASSWORD or COSIGN_PASSWORD).
    #[arg(long, value_name = "FILE", requires = "attest")]
    pub key: Option<PathBuf>,

    /// With --attest: record the attestation in the Rekor transparency log
    /// (`--tlog-upload=false` for private setups).
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tlog_upload: bool,

    /// With --attest: the Rekor the attestation is logged in.
    #[command(flatten)]
    pub trust: super::keyless::TrustArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub out: ReportArgs,

    #[command(flatten)]
    pub config: ConfigArg,
}

/// `--config`, for the commands that read `cicd.yaml`.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Configuration file (default: `cicd.yaml` in the current directory or a parent up to the
    /// repository root).
    #[arg(
        long = "config",
        env = "CICD_CONFIG",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub file: Option<PathBuf>,
}

/// How a findings report is rendered and where it goes; shared by `check` and `check trivy`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Plain)]
    pub format: Format,

    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// When to colour terminal output (`NO_COLOR` is honoured).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
}

impl ReportArgs {
    /// The format asked for, `--json` included.
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}
