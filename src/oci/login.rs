//! `cicd image login`: check a credential against the registry (the full `/v2/` auth flow,
//! bearer or basic), then record it in Docker's `config.json` where every tool finds it.

use std::path::{Path, PathBuf};

use super::auth::{Credential, save_to_docker_config};
use super::error::OciError;
use super::registry::{Options, Registry, http_client};

/// Logs in to `host` and returns the config file written.
pub async fn login(
    host: &str,
    credential: Credential,
    opts: &Options,
    config: &Path,
) -> Result<PathBuf, OciError> {
    let registry = Registry::new(host, http_client(opts)?, opts, Some(credential.clone()));
    registry.check_login().await?;
    save_to_docker_config(config, host, &credential)?;
    Ok(config.to_path_buf())
}
