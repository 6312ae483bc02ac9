//! `cicd image inspect|copy|tag|login`: their flags, and how registries are reached.

use std::path::PathBuf;

use clap::{Args, Subcommand};

pub(super) const IMAGE_EXIT_CODES: &str = "\
Exit codes:
  0  ok
  2  bad input or usage (malformed reference, unreadable layout or CA file, unknown flag)
  3  external failure after retries (registry, network, a digest that does not match)";

const LOGIN_EXIT_CODES: &str = "\
Exit codes:
  0  ok: the registry accepted the credentials and they are stored
  2  bad input or usage (no user name or password given, unreadable CA file, unknown flag)
  3  external failure after retries (the registry refused the credentials or could not be
     reached, Docker's config.json could not be written)";

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Show an image: digest, platforms, sizes, config, layers, annotations, attachments.
    #[command(after_help = IMAGE_EXIT_CODES)]
    Inspect(InspectArgs),
    /// Copy an image (every platform, and its signatures, attestations and SBOMs) by digest;
    /// the destination tag is written last, only after every digest checked out.
    #[command(after_help = IMAGE_EXIT_CODES)]
    Copy(CopyArgs),
    /// Point more tags at the image REF names (a manifest PUT; no blob moves).
    #[command(after_help = IMAGE_EXIT_CODES)]
    Tag(TagArgs),
    /// Check credentials against a registry and store them in Docker's `config.json`.
    #[command(after_help = LOGIN_EXIT_CODES)]
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

    /// `image copy`'s `--chunk-size`, handed on here (only copy uploads blobs).
    #[arg(skip)]
    pub chunk_size_mib: Option<u64>,
}

/// `--offline`, for the subcommands that can work on layouts alone.
#[derive(Debug, Args)]
pub struct OfflineArg {
    /// Never use the network: layouts (`oci:PATH`) only; a registry is refused (exit 2).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image: `docker://HOST/REPO[:TAG|@DIGEST]`, `oci:PATH[:TAG]`, or a plain image
    /// reference.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub offline: OfflineArg,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The image to copy: `docker://HOST/REPO[:TAG|@DIGEST]`, `oci:PATH[:TAG]`, or a plain
    /// image reference.
    #[arg(value_name = "SRC")]
    pub source: String,

    /// Where to copy it: `docker://HOST/REPO[:TAG]` or `oci:PATH[:TAG]` (the layout is created
    /// when missing).
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

    /// Upload blobs from a layout in chunks of N MiB (one `PATCH` each, each retried on its
    /// own) instead of one streamed request.
    #[arg(long = "chunk-size", value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub chunk_size_mib: Option<u64>,

    #[command(flatten)]
    pub offline: OfflineArg,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image to tag, best by digest (`docker://HOST/REPO@sha256:…` or `oci:PATH@sha256:…`).
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Tags to point at it, in the same repository or layout.
    #[arg(value_name = "TAG", required = true)]
    pub tags: Vec<String>,

    /// Print JSON: the digest, its media type and the tags written.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub offline: OfflineArg,

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

impl ImageCommand {
    /// `--offline` as given to this subcommand (login has none: it needs the registry).
    pub(super) fn offline(&self) -> bool {
        match self {
            ImageCommand::Inspect(a) => a.offline.offline,
            ImageCommand::Copy(a) => a.offline.offline,
            ImageCommand::Tag(a) => a.offline.offline,
            ImageCommand::Login(_) => false,
        }
    }

    /// Hands `copy --chunk-size` to the registry options the command builds.
    pub(super) fn settle(&mut self) {
        if let ImageCommand::Copy(a) = self {
            a.registry.chunk_size_mib = a.chunk_size_mib;
        }
    }
}
