//! How every command that reaches images builds its `oci` context: registry options from the
//! shared flags (and `SSL_CERT_FILE`), and where credentials come from — including GitHub's
//! token for ghcr.io, read here in the command layer because `oci` knows nothing of GitHub.

use std::path::PathBuf;

use secrecy::SecretString;

use crate::cli::RegistryArgs;
use crate::oci::auth::{Credential, Sources};
use crate::oci::error::OciError;
use crate::oci::registry::Options;
use crate::oci::store::Context;

/// Registry options from the flags: `--insecure-registry`, `--ca-cert` (else `SSL_CERT_FILE`),
/// `--chunk-size` where the command has it.
pub fn options(args: &RegistryArgs) -> Options {
    let mut ca_certs = args.ca_cert.clone();
    if ca_certs.is_empty()
        && let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty())
    {
        ca_certs.push(PathBuf::from(file));
    }
    Options {
        insecure: args.insecure_registry.clone(),
        ca_certs,
        retry: Default::default(),
        chunk_size: args.chunk_size_mib.map(|m| m.saturating_mul(1 << 20)),
    }
}

/// Where registry credentials come from: the standard files and variables, and GitHub's
/// token for ghcr.io (user `GITHUB_ACTOR`) when nothing else has one.
pub fn credential_sources() -> Sources {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let sources = Sources {
        login_command: Some("cicd image login".into()),
        ..Sources::from_env()
    };
    match var("GITHUB_TOKEN") {
        Some(token) => sources.with_fallback(
            "ghcr.io",
            Credential {
                username: var("GITHUB_ACTOR").unwrap_or_else(|| "x-access-token".into()),
                password: SecretString::from(token),
                source: "GITHUB_TOKEN".into(),
            },
        ),
        None => sources,
    }
}

/// The context a command reaches images through.
pub fn context(args: &RegistryArgs) -> Result<Context, OciError> {
    Context::new(options(args), credential_sources())
}
