//! clap definitions for `cicd keygen`, `cicd sign`, `cicd verify`, `cicd attest` and
//! `cicd verify-attestation` (cosign's flag names).

use std::path::PathBuf;

use clap::{ArgAction, Args, ValueEnum};

use super::RegistryArgs;

pub(super) const KEYGEN_EXIT_CODES: &str = "\
Exit codes:
  0  ok: both key files written
  2  bad input or usage (no password in the environment, key files exist without --force)
  3  the key files could not be written";

pub(super) const SIGN_EXIT_CODES: &str = "\
Exit codes:
  0  ok: the digest is signed (or already was, with this key)
  2  bad input or usage (malformed reference, unreadable or undecryptable key, no log chosen)
  3  external failure after retries (registry, network, a digest that does not match,
     the OIDC token endpoint, Fulcio, Rekor or the TSA)";

pub(super) const VERIFY_EXIT_CODES: &str = "\
Exit codes:
  0  ok: a signature by this key (or identity) over this digest holds
  1  no signature holds (each one's reason is printed)
  2  bad input or usage (malformed reference, unreadable key or trust config, no policy)
  3  external failure after retries (registry, network)";

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write PREFIX.key (encrypted with CICD_KEY_PASSWORD or COSIGN_PASSWORD) and PREFIX.pub.
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    pub prefix: PathBuf,

    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignatureFormat {
    /// Sigstore bundle v0.3 (DSSE in-toto statement) as an OCI 1.1 referrer, as cosign v3.
    Bundle,
    /// cosign v2's tags: simple-signing in `sha256-<hex>.sig`, DSSE attestations in `.att`.
    Legacy,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The image: `docker://HOST/REPO[:TAG|@DIGEST]` or `oci:PATH[:TAG]`. A tag is resolved
    /// once and the digest it named is signed.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// cosign private key file (password from CICD_KEY_PASSWORD or COSIGN_PASSWORD).
    /// Without it, signs keylessly with the OIDC identity (GitHub Actions' token).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub keyless: super::keyless::TrustArgs,

    /// Signature layout.
    #[arg(long, value_enum, default_value_t = SignatureFormat::Bundle)]
    pub format: SignatureFormat,

    /// For an index, also sign each manifest it lists (every platform).
    #[arg(long)]
    pub recursive: bool,

    /// Annotation on the signed subject, `KEY=VALUE` (repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,

    /// Record the signature in the Rekor transparency log (`--tlog-upload=false` for
    /// private setups; verify then needs `--insecure-ignore-tlog`).
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tlog_upload: bool,

    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The images: `docker://HOST/REPO[:TAG|@DIGEST]` or `oci:PATH[:TAG]`; several are
    /// verified in parallel with one key, and the exit code is the worst of them.
    #[arg(value_name = "REF", required = true, num_args = 1..)]
    pub references: Vec<String>,

    /// cosign public key file (PEM `PUBLIC KEY`). Without it, an identity policy below.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub identity: super::keyless::IdentityArgs,

    /// Accept signatures that have no transparency-log entry (`--tlog-upload=false`).
    #[arg(long, action = ArgAction::Set, default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    /// Print the verified claims as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub(super) const ATTEST_EXIT_CODES: &str = "\
Exit codes:
  0  ok: the predicate is attested (or already was, with this key)
  2  bad input or usage (malformed reference, predicate file or --type, unreadable key)
  3  external failure after retries (registry, network, a digest that does not match,
     the OIDC token endpoint, Fulcio, Rekor or the TSA)";

pub(super) const VERIFY_ATTESTATION_EXIT_CODES: &str = "\
Exit codes:
  0  ok: an attestation of this type by this key (or identity) about this digest holds
  1  none holds (no attestation of the type, wrong key or identity, another digest, tampered;
     each reason is printed)
  2  bad input or usage (malformed reference or --type, unreadable key or trust config, no
     policy)
  3  external failure after retries (registry, network)";

/// `--type`: cosign's shorthands or a predicate type URI.
const TYPE_HELP: &str = "Predicate type: cyclonedx, spdx, spdxjson, slsaprovenance, slsaprovenance02, slsaprovenance1, link, vuln, openvex, custom, or any URI";

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The image: `docker://HOST/REPO[:TAG|@DIGEST]` or `oci:PATH[:TAG]`. A tag is resolved
    /// once and the digest it named is attested.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// The predicate: a JSON file (for `--type custom`, any text, wrapped as cosign does).
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,

    #[arg(long = "type", value_name = "TYPE", default_value = "custom", help = TYPE_HELP)]
    pub predicate_type: String,

    /// cosign private key file (password from CICD_KEY_PASSWORD or COSIGN_PASSWORD).
    /// Without it, attests keylessly with the OIDC identity (GitHub Actions' token).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub keyless: super::keyless::TrustArgs,

    /// Attestation layout.
    #[arg(long, value_enum, default_value_t = SignatureFormat::Bundle)]
    pub format: SignatureFormat,

    /// For an index, also attest each manifest it lists (every platform).
    #[arg(long)]
    pub recursive: bool,

    /// Record the attestation in the Rekor transparency log (`--tlog-upload=false` for
    /// private setups; verify then needs `--insecure-ignore-tlog`).
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tlog_upload: bool,

    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// The image: `docker://HOST/REPO[:TAG|@DIGEST]` or `oci:PATH[:TAG]`.
    #[arg(value_name = "REF")]
    pub reference: String,

    #[arg(long = "type", value_name = "TYPE", default_value = "custom", help = TYPE_HELP)]
    pub predicate_type: String,

    /// cosign public key file (PEM `PUBLIC KEY`). Without it, an identity policy below.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub identity: super::keyless::IdentityArgs,

    /// Accept attestations that have no transparency-log entry (`--tlog-upload=false`).
    #[arg(long, action = ArgAction::Set, default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    /// Print every attestation found (verified ones with their predicate) as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
