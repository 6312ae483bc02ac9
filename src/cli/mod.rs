//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

pub mod build;

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

    /// Copy, tag and inspect images in registries (`docker://HOST/REPO[:TAG|@DIGEST]`) and OCI
    /// image layouts (`oci:PATH[:TAG]`).
    #[command(after_help = EXIT_CODES)]
    Image(ImageArgs),
    /// Build a multi-platform image from `images:` in cicd.yaml and push it by digest.
    #[command(after_help = EXIT_CODES)]
    Build(build::BuildArgs),
    /// Plan CI jobs from cicd.yaml (`plan matrix`: the fan-out build matrix).
    Plan(build::PlanArgs),
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Show an image: digest, platforms, sizes, config, layers, annotations, attachments.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
    /// Copy an image (every platform, and its signatures, attestations and SBOMs) by digest;
    /// the destination tag is written last, only after every digest checked out.
    #[command(after_help = EXIT_CODES)]
    Copy(CopyArgs),
    /// Point more tags at the image REF names (a manifest PUT; no blob moves).
    #[command(after_help = EXIT_CODES)]
    Tag(TagArgs),
    /// Check credentials against a registry and store them in Docker's `config.json`.
    #[command(after_help = EXIT_CODES)]
    Login(LoginArgs),
}

/// How registries are reached.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Reach HOST[:PORT] over plain HTTP (loopback registries always may).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,

    /// Trust the CA certificates in this PEM file too (default: `SSL_CERT_FILE`).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,

    /// Upload blobs from a layout in chunks of N MiB (one `PATCH` each, each retried on its
    /// own) instead of one streamed request.
    #[arg(long = "chunk-size", value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub chunk_size_mib: Option<u64>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// `docker://HOST/REPO[:TAG|@DIGEST]`, `oci:PATH[:TAG]`, or a plain image reference.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    #[arg(value_name = "SRC")]
    pub source: String,

    #[arg(value_name = "DST")]
    pub destination: String,

    /// Copy only this platform's image (`os/arch[/variant]`) out of an index.
    #[arg(long, value_name = "P", conflicts_with = "all_platforms")]
    pub platform: Option<String>,

    /// Copy the whole index with every platform (the default).
    #[arg(long)]
    pub all_platforms: bool,

    /// Print JSON with every digest copied.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image to tag, best by digest (`docker://HOST/REPO@sha256:…`).
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Tags to point at it, in the same repository or layout.
    #[arg(value_name = "TAG", required = true)]
    pub tags: Vec<String>,

    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Registry host (`HOST[:PORT]`, `docker.io` for Docker Hub).
    #[arg(value_name = "REGISTRY")]
    pub registry_host: String,

    /// User name (default: `CICD_REGISTRY_USERNAME`).
    #[arg(long, short = 'u')]
    pub username: Option<String>,

    /// Read the password from standard input (default: `CICD_REGISTRY_PASSWORD`).
    #[arg(long)]
    pub password_stdin: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
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

    #[command(flatten)]
    pub out: ReportArgs,
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

    #[command(flatten)]
    pub out: ReportArgs,
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
}

impl ReportArgs {
    /// The format asked for, `--json` included.
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}
