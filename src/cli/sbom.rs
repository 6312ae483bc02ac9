//! `cicd sbom` flags (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::RegistryArgs;

pub const SBOM_HELP: &str = "\
REF is docker://HOST/REPO[:TAG|@DIGEST], oci:PATH[:TAG] or dir:PATH (a root filesystem).
An index gives one SBOM per platform: with --output FILE they are written to FILE when there is
one, else to FILE with `.OS-ARCH[-VARIANT]` before its extension.

Exit codes:
  0  ok: every SBOM was written
  2  bad input or usage (unreadable layout or directory, corrupt layer, digest mismatch in a
     layout, no image for --platform)
  3  external failure after retries (registry, writing output)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX JSON.
    CyclonedxJson,
    /// SPDX 2.3 JSON.
    SpdxJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpecVersion {
    #[value(name = "1.5")]
    V1_5,
    #[value(name = "1.6")]
    V1_6,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The image or directory to describe.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Only this platform's image (`os/arch[/variant]`) out of an index.
    #[arg(long, value_name = "P")]
    pub platform: Option<String>,

    /// CycloneDX specification version (ignored for spdx-json).
    #[arg(long, value_enum, default_value = "1.5")]
    pub spec_version: SpecVersion,

    /// Document format.
    #[arg(long, value_enum, default_value_t = SbomFormat::CyclonedxJson)]
    pub format: SbomFormat,

    /// Write the SBOM to FILE (whole or not at all) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print a JSON summary (image, digest, each platform's file and component count); needs
    /// --output.
    #[arg(long, requires = "output")]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
