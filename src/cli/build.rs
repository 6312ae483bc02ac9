//! Command-line definitions for `cicd build`, `cicd build merge` and `cicd plan matrix`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::RegistryArgs;

pub(super) const BUILD_EXIT_CODES: &str = "\
Exit codes:
  0  ok: built and pushed by digest (merge: the index pushed)
  2  bad input or usage (invalid images: config, missing or unreadable source file, unknown
     platform, base image not pinned or lacking a platform, a record that does not match)
  3  external failure after retries (registry, network, a build tool that failed)";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BuildArgs {
    #[command(subcommand)]
    pub sub: Option<BuildCommand>,

    /// The image to build: a `name` under `images:` in cicd.yaml.
    #[arg(value_name = "NAME", required = true)]
    pub name: Option<String>,

    #[command(flatten)]
    pub config: super::ConfigArg,

    /// Where to push: `docker://HOST/REPO` (by digest) or `oci:PATH[:TAG]` (default: the
    /// image's `repository`).
    #[arg(long, value_name = "LOCATION")]
    pub to: Option<String>,

    /// Build only this platform (one fan-out runner); repeat for several.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,

    /// Write a digest record for `cicd build merge` (needs exactly one --platform).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Also point this tag at the result (build pushes by digest only otherwise).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,

    /// Override the backend `images:` implies.
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,

    /// Print `{"digest","platforms":[{"platform","digest"}]}` JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Native,
    Buildah,
    Buildx,
}

#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Join per-platform digest records (one per runner) into one index pushed by digest.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Where the index goes: `docker://HOST/REPO` or `oci:PATH[:TAG]`.
    #[arg(long, value_name = "LOCATION")]
    pub to: String,

    /// Records written by `cicd build --record`.
    #[arg(value_name = "RECORD", required = true)]
    pub records: Vec<PathBuf>,

    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,

    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: PlanCommand,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Print a `strategy.matrix` JSON: one entry per image × platform with its runner label.
    Matrix {
        /// Only this image.
        #[arg(long, value_name = "NAME")]
        image: Option<String>,

        #[command(flatten)]
        config: super::ConfigArg,
    },
}
