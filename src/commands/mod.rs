//! Commands: each turns flags and `cicd.yaml` into a request for a domain module, then hands
//! the outcome to the reporter and the Actions runtime. No policy is decided here.

pub mod check;
pub mod check_trivy;

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::cli::ColorChoice;
use crate::error::Error;

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

/// Writes `contents` to `path` through a temporary file in the same directory, so the file
/// is either the old one or the whole new one. A path that exists and is not a regular file
/// (`/dev/null`, `/dev/stdout`, a FIFO) is written in place: renaming over it would replace
/// the device with a file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(contents))
            .map_err(err);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(contents).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
