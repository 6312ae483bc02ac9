//! clap definitions of the keyless flags `cicd sign` and `cicd verify` add to the key-based
//! ones: where Sigstore is (`--trust-config`) and who may have signed (cosign's identity
//! flags and the `--github-workflow` shorthand).

use std::path::PathBuf;

use clap::Args;

/// Where Fulcio, Rekor and the TSA are, and what is trusted.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Sigstore client trust config (JSON with `trustedRoot` and `signingConfig`, as
    /// sigstore-python's `--trust-config`; verify also takes a bare `trusted_root.json`).
    /// Default: Sigstore's public-good instance.
    #[arg(long, value_name = "FILE", env = "CICD_TRUST_CONFIG")]
    pub trust_config: Option<PathBuf>,
}

/// The identity a keyless signature must carry (instead of `--key`).
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// The certificate's exact SAN identity (a workflow URL, an email).
    #[arg(long, value_name = "SAN", conflicts_with = "key")]
    pub certificate_identity: Option<String>,

    /// A regular expression the whole SAN must match (anchored at both ends).
    #[arg(long, value_name = "REGEX", conflicts_with = "key")]
    pub certificate_identity_regexp: Option<String>,

    /// The exact OIDC issuer the certificate was issued for.
    #[arg(long, value_name = "URL", conflicts_with = "key")]
    pub certificate_oidc_issuer: Option<String>,

    /// Signed by this GitHub Actions workflow: OWNER/REPO/.github/workflows/FILE[@REF-GLOB]
    /// (a reusable workflow is named by its own file; REF-GLOB like `refs/tags/v*`, default
    /// any ref); the issuer is GitHub's.
    #[arg(long, value_name = "WORKFLOW", conflicts_with = "key")]
    pub github_workflow: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,
}

impl IdentityArgs {
    /// The flags as the identity policy reads them.
    pub fn flags(&self) -> crate::sign::identity::Flags<'_> {
        crate::sign::identity::Flags {
            identity: self.certificate_identity.as_deref(),
            identity_regexp: self.certificate_identity_regexp.as_deref(),
            issuer: self.certificate_oidc_issuer.as_deref(),
            github_workflow: self.github_workflow.as_deref(),
        }
    }
}
