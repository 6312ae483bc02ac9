//! `cicd sbom` flags (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{ArgAction, Args, ValueEnum};

use super::RegistryArgs;

pub const SBOM_HELP: &str = "\
REF is docker://HOST/REPO[:TAG|@DIGEST], oci:PATH[:TAG] or dir:PATH (a root filesystem).
An index gives one SBOM per platform: with --output FILE they are written to FILE when there is
one, else to FILE with `.OS-ARCH[-VARIANT]` before its extension.

--attach signs each platform's SBOM as an attestation of that platform's digest (with --key),
or attaches it unsigned as an OCI artifact referring to that digest (without --key);
--from-attached reads them back instead of reading layers: verified with --key, else the
unsigned artifact.

Exit codes:
  0  ok: every SBOM was written (and attached)
  1  --from-attached: no verified SBOM attestation (with --key) or no attached SBOM (without)
     on a platform (the reason is printed)
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

    /// Attach each platform's SBOM to that platform's manifest: with --key a signed attestation
    /// (predicate type https://cyclonedx.org/bom, or https://spdx.dev/Document for spdx-json),
    /// without it an unsigned OCI artifact (artifactType application/vnd.cyclonedx+json or
    /// application/spdx+json).
    #[arg(long, conflicts_with = "from_attached")]
    pub attach: bool,

    /// Read the SBOM attached to each platform's manifest instead of the layers: the attestation
    /// verified with --key (a public key), or without --key the unsigned artifact.
    #[arg(long)]
    pub from_attached: bool,

    /// cosign key: the private key with --attach (password from CICD_KEY_PASSWORD or
    /// COSIGN_PASSWORD), the public key with --from-attached.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// With --attach: record the attestation in the Rekor transparency log
    /// (`--tlog-upload=false` for private setups).
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tlog_upload: bool,

    /// With --from-attached: accept attestations that have no transparency-log entry.
    #[arg(long, action = ArgAction::Set, default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    /// With --attach or --from-attached and --key: the Rekor to log in / the root to check
    /// the log entry against.
    #[command(flatten)]
    pub trust: super::keyless::TrustArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
