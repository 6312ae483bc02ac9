//! Command-line definitions (clap derive) and nothing else: one file per command group, each
//! subcommand declaring only the flags that apply to it. [`Cli`] gathers what the commands
//! read (config file, offline, colour, GitHub's URLs) from wherever it was given.

mod check;
mod completions;
mod image;
mod init;
mod pin;

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub use check::{CheckArgs, CheckCommand, ConfigArg, ReportArgs, TrivyArgs};
pub use completions::{CompletionsArgs, ManArgs, Shell};
pub use image::{
    CopyArgs, ImageArgs, ImageCommand, InspectArgs, LoginArgs, OfflineArg, RegistryArgs, TagArgs,
};
pub use init::InitArgs;
pub use pin::PinArgs;

pub mod keyless;
pub mod sign;

pub mod sbom;

pub mod build;

pub mod promote;
pub mod release;
pub mod version;

pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CICD_GIT_REVISION"),
    ")"
);

const GITHUB_SERVER: &str = "https://github.com";
const GITHUB_API: &str = "https://api.github.com";

const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  policy or gate violation (findings)
  2  bad input or usage (unreadable file, invalid config, unknown flag)
  3  external failure after retries (registry, GitHub, network, writing output)

Network waits: CICD_HTTP_TIMEOUT=SECONDS (see the README).";

/// From pull request to production for container-shipping repositories.
#[derive(Debug, Parser)]
#[command(name = "cicd", version = VERSION, about, after_help = EXIT_CODES, max_term_width = 100)]
struct Parsed {
    /// Options given before the subcommand, for every subcommand that uses them.
    #[command(flatten)]
    common: CommonArgs,

    #[command(subcommand)]
    command: Command,
}

/// Accepted before any subcommand (`cicd --offline image copy …`); each subcommand also takes
/// the ones that apply to it.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Configuration file, for `check`, `check trivy` and `pin` (default: `cicd.yaml` in the
    /// current directory or a parent up to the repository root).
    #[arg(long, env = "CICD_CONFIG", hide_env_values = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Never use the network; what needs it is skipped (`check`) or refused, and says so.
    #[arg(long)]
    offline: bool,

    /// When to colour terminal output (`NO_COLOR` is honoured).
    #[arg(long, value_enum, value_name = "WHEN")]
    color: Option<ColorChoice>,
}

/// GitHub's URLs, for the commands that ask it.
#[derive(Debug, Args)]
pub struct GitHubArgs {
    /// Where `owner/repo` lives, resolved over Git smart HTTP.
    #[arg(long, env = "GITHUB_SERVER_URL", hide_env_values = true, default_value = GITHUB_SERVER, value_name = "URL")]
    pub server_url: String,

    /// GitHub's REST API, for what Git cannot answer (GHES: `https://HOST/api/v3`). A token
    /// is read from `GITHUB_TOKEN`, never from the command line.
    #[arg(long, env = "GITHUB_API_URL", hide_env_values = true, default_value = GITHUB_API, value_name = "URL")]
    pub api_url: String,
}

/// The parsed command line: the subcommand, and the settings commands read wherever they
/// were given (before the subcommand or after it).
#[derive(Debug)]
pub struct Cli {
    pub config: Option<PathBuf>,
    pub offline: bool,
    pub color: ColorChoice,
    /// `GITHUB_SERVER_URL`: from `check`'s or `pin`'s flag or the environment.
    pub server_url: String,
    /// `GITHUB_API_URL`: from `check`'s flag or the environment.
    pub api_url: String,
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
    /// Check workflows, actions, Dockerfiles and compose files: unpinned actions and images, and
    /// the hardening an infrastructure audit asks for (ports, sockets, root, gating scans).
    #[command(after_help = check::CHECK_EXIT_CODES)]
    Check(CheckArgs),
    /// Pin `uses:` refs to full commit SHAs with the version in a trailing comment, and images
    /// (workflow `container:`/`services:`, Dockerfile `FROM`, compose `image:`) to digests.
    ///
    /// Refs are resolved over Git's smart HTTP protocol at `GITHUB_SERVER_URL` (default
    /// https://github.com): no token and no API rate limit. Image tags are resolved at their
    /// registry; for a multi-arch image the index digest is written. Only the reference and
    /// its comment change in each file; a second run changes nothing. Exits 3 only when no
    /// reference could be resolved.
    #[command(after_help = pin::PIN_EXIT_CODES)]
    Pin(PinArgs),

    /// Copy, tag and inspect images in registries (`docker://HOST/REPO[:TAG|@DIGEST]`) and OCI
    /// image layouts (`oci:PATH[:TAG]`).
    #[command(after_help = image::IMAGE_EXIT_CODES)]
    Image(ImageArgs),

    /// Write a cosign key pair: PREFIX.key (encrypted, cosign's format) and PREFIX.pub.
    #[command(after_help = sign::KEYGEN_EXIT_CODES)]
    Keygen(sign::KeygenArgs),
    /// Sign an image digest with a cosign key (bundle referrer, or `--format legacy`), or
    /// without one keylessly: the workflow's OIDC identity, Fulcio and Rekor.
    #[command(after_help = sign::SIGN_EXIT_CODES)]
    Sign(sign::SignArgs),
    /// Verify an image's signatures with a cosign public key or an identity policy; exit 1
    /// with the reason when none holds.
    #[command(after_help = sign::VERIFY_EXIT_CODES)]
    Verify(sign::VerifyArgs),
    /// Attest a predicate (SBOM, provenance, scan result, any JSON) about an image digest with
    /// a cosign key or keylessly (bundle referrer, or `--format legacy` for `.att`).
    #[command(after_help = sign::ATTEST_EXIT_CODES)]
    Attest(sign::AttestArgs),
    /// Verify an image's attestations of one predicate type with a cosign public key or an
    /// identity policy and print the verified predicate; exit 1 with the reason when none holds.
    #[command(after_help = sign::VERIFY_ATTESTATION_EXIT_CODES)]
    VerifyAttestation(sign::VerifyAttestationArgs),
    /// Write a CycloneDX SBOM read from an image's layers (each platform) or a root directory.
    #[command(after_help = sbom::SBOM_HELP)]
    Sbom(sbom::SbomArgs),
    /// Build a multi-platform image from `images:` in cicd.yaml and push it by digest.
    #[command(after_help = build::BUILD_EXIT_CODES)]
    Build(build::BuildArgs),
    /// Plan CI jobs from cicd.yaml (`plan matrix`: the fan-out build matrix).
    Plan(build::PlanArgs),
    /// Release a version tag: build every image, SBOM, sign, gate on scan reports, tag by
    /// digest per the tag scheme, and publish the GitHub release (or write it to `dist`).
    #[command(after_help = release::RELEASE_EXIT_CODES)]
    Release(release::ReleaseArgs),
    /// The next version from conventional commits, and its changelog.
    Version(version::VersionArgs),
    /// Create the annotated tag of the next version at HEAD, the changelog as its message.
    #[command(after_help = version::TAG_EXIT_CODES)]
    Tag(version::TagArgs),
    /// Write cicd.yaml (images from the repository's Dockerfiles) and the ci, release and
    /// promote workflows, every action pinned by SHA.
    #[command(after_help = init::INIT_EXIT_CODES)]
    Init(InitArgs),
    /// Print shell completions for bash, zsh or fish.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one per command with --out-dir.
    Man(ManArgs),
    /// Promote a digest to an environment when its evidence verifies; roll back; history.
    #[command(after_help = promote::PROMOTE_EXIT_CODES)]
    Promote(promote::PromoteArgs),
}

impl Cli {
    /// Parses `std::env::args`, exiting with usage (2) or help (0) as clap does.
    pub fn parse() -> Self {
        Self::gather(Parsed::parse())
    }

    /// Parses `args` (the program name first).
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Parsed::command().try_get_matches_from(args)?;
        Parsed::from_arg_matches(&matches).map(Self::gather)
    }

    /// The clap command, for help and completions.
    pub fn command() -> clap::Command {
        Parsed::command()
    }

    fn gather(parsed: Parsed) -> Self {
        let Parsed {
            common,
            mut command,
        } = parsed;
        let mut config = common.config;
        let mut offline = common.offline;
        let mut color = common.color;
        let mut server_url = env_or("GITHUB_SERVER_URL", GITHUB_SERVER);
        let mut api_url = env_or("GITHUB_API_URL", GITHUB_API);
        match &mut command {
            Command::Check(args) => match &args.sub {
                Some(CheckCommand::Trivy(t)) => {
                    config = t.config.file.clone().or(config);
                    color = t.out.color.or(color);
                }
                None => {
                    config = args.config.file.clone().or(config);
                    color = args.out.color.or(color);
                    offline |= args.offline;
                    server_url.clone_from(&args.github.server_url);
                    api_url.clone_from(&args.github.api_url);
                }
            },
            Command::Pin(args) => {
                config = args.config.file.clone().or(config);
                server_url.clone_from(&args.server_url);
            }
            Command::Image(args) => {
                offline |= args.command.offline();
                args.command.settle();
            }
            Command::Keygen(_) | Command::Sign(_) | Command::Verify(_) => {}
            Command::Attest(_) | Command::VerifyAttestation(_) => {}
            Command::Build(args) => config = args.config.file.clone().or(config),
            Command::Plan(args) => match &args.command {
                build::PlanCommand::Matrix { config: c, .. } => config = c.file.clone().or(config),
            },
            Command::Sbom(_) => {}
            Command::Release(args) => {
                config = args.config.file.clone().or(config);
                offline |= args.offline;
            }
            Command::Version(args) => config = args.command.config().file.clone().or(config),
            Command::Tag(args) => config = args.config.file.clone().or(config),
            Command::Init(args) => {
                offline |= args.offline;
                server_url.clone_from(&args.server_url);
            }
            Command::Completions(_) | Command::Man(_) => {}
            Command::Promote(args) => {
                config = match &args.sub {
                    Some(promote::PromoteCommand::History(h)) => h.config.file.clone(),
                    Some(promote::PromoteCommand::Status(s)) => s.config.file.clone(),
                    None => args.config.file.clone(),
                }
                .or(config);
            }
        }
        Cli {
            config,
            offline,
            color: color.unwrap_or(ColorChoice::Auto),
            server_url,
            api_url,
            command,
        }
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}
