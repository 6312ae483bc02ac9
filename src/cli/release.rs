//! Command-line definitions for `cicd release`.

use std::path::PathBuf;

use clap::Args;

use super::RegistryArgs;

pub(super) const RELEASE_EXIT_CODES: &str = "\
Exit codes:
  0  released (and promoted to the first environment, when `environments:` has one)
  1  the vulnerability gate failed: nothing was tagged and no GitHub release was made; or the
     first environment refused the release (its evidence is missing): released, not promoted
  2  bad input or usage (no version tag on HEAD, a tag that is not semver, invalid cicd.yaml,
     an asset glob that matches nothing, a changed asset without --replace)
  3  external failure after retries (registry, GitHub, network, a build tool, Fulcio/Rekor),
     also during the promotion (the record says `promotion: failed`); re-running completes it";

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub config: super::ConfigArg,

    /// The version to release (default: `GITHUB_REF`'s tag, else the version tag on HEAD).
    #[arg(long = "version", value_name = "X.Y.Z")]
    pub version: Option<String>,

    /// Print the plan (version, images, platforms, tags that move and why, assets) and write
    /// nothing anywhere.
    #[arg(long)]
    pub dry_run: bool,

    /// Where images go instead of their `repository`: `oci:PATH` (one layout per image,
    /// `PATH/NAME`) for all images, or `docker://HOST/REPO` for a one-image project.
    #[arg(long, value_name = "REF-OR-oci:LAYOUT")]
    pub to: Option<String>,

    /// Digest records a fan-out build wrote (`cicd build --platform P --record FILE` on each
    /// runner): a file, or a directory of `*.json` records. Each image whose records are given
    /// is merged by digest from them instead of built; every platform it declares must have
    /// exactly one record.
    #[arg(long = "records", value_name = "FILE-OR-DIR")]
    pub records: Vec<PathBuf>,

    /// A Trivy JSON report the gate reads (`cicd check trivy` semantics); repeat for several.
    #[arg(long = "scan-report", value_name = "FILE")]
    pub scan_reports: Vec<PathBuf>,

    /// Replace a published asset whose contents changed (otherwise an error).
    #[arg(long)]
    pub replace: bool,

    /// Where notes, SBOMs and SHA256SUMS are written.
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub dist: PathBuf,

    /// Print the whole release record as JSON.
    #[arg(long)]
    pub json: bool,

    /// Never use the network: only `--to oci:PATH`, and no GitHub release.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
