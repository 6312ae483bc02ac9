//! Commands: each turns flags and `cicd.yaml` into a request for a domain module, then hands
//! the outcome to the reporter and the Actions runtime. No policy is decided here.

pub mod attest;
pub mod build;
pub mod check;
pub mod check_trivy;
pub mod check_trivy_attest;
pub mod completions;
pub mod image;
pub mod init;
pub mod keygen;
pub mod keyless;
pub mod pin;
pub mod promote;
pub mod registry;
pub mod release;
pub mod release_gate;
pub mod release_render;
pub mod sbom;
pub mod sbom_attach;
pub mod sign;
pub mod tag;
pub mod verify;
pub mod version;

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::ColorChoice;
use crate::config::Loaded;
use crate::error::Error;
use crate::inputs::discover::{Discovered, IgnoreSet, discover};

pub fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// Writes a command's output file whole or not at all.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Error> {
    crate::fs::write_atomically(path, contents).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The inputs under `paths`, minus what `policy.ignore` names; paths that do not exist are
/// input problems in the result, not errors that stop the others.
pub fn inputs(loaded: &Loaded, paths: &[std::path::PathBuf]) -> Result<Discovered, Error> {
    let ignore = IgnoreSet::new(&loaded.base, &loaded.config.policy.ignore).map_err(|(i, e)| {
        loaded.error_at(
            &["policy", "ignore"],
            false,
            format!("ignore pattern {} is not a valid glob: {e}", i + 1),
        )
    })?;
    Ok(discover(paths, &ignore))
}

/// Writes a rendered report to `--output FILE` (whole or not at all) or to standard output.
pub fn deliver(output: Option<&Path>, rendered: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    match output {
        Some(path) => write_atomically(path, rendered),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(rendered)
                .and_then(|()| stdout.flush())
                .map_err(|source| Error::Write {
                    path: std::path::PathBuf::from("<stdout>"),
                    source,
                })
        }
    }
}
