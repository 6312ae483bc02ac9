//! File writes that never leave a half-written file behind, creating new files with the
//! permissions the umask allows (0644 under umask 022), as skopeo and most tools do; and
//! whole-file reads of small inputs that stop at a size cap.

use std::io::{self, Read, Write};
use std::path::Path;

/// Writes through a temporary file in the same directory, keeping the old file's
/// permissions (a new file gets 0666 less the umask), then renames: the file is either the
/// old one or the whole new one. Errors never name the temporary file: the caller names
/// `path`. A path that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO)
/// is written in place: renaming over it would replace the device with a file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(contents);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = temp_file_in(dir)?;
    // Through the plain `File`: tempfile's own writer adds the temporary path to errors.
    tmp.as_file_mut().write_all(contents)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Reads all of `path`, a small input the user named (a config, key, record or predicate),
/// but never more than `max` bytes: a huge file or an endless one (`/dev/zero`, a symlink to
/// it) is an error naming the cap, not memory exhaustion. Pipes are read as files are
/// (`<(…)` works), so only their size is bounded.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    read_capped(std::fs::File::open(path)?, max)
}

/// All of `reader` (a file already opened, confined or not), but never more than `max`
/// bytes: more is an error of kind [`io::ErrorKind::FileTooLarge`] naming the cap.
pub fn read_capped(reader: impl Read, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than the {max} bytes such a file may have"),
        ));
    }
    Ok(bytes)
}

/// Reads a file cicd found itself (not one the user named) the way `read_bounded` does, but
/// only when it is a regular file (symbolic links followed): opening a FIFO found in a tree
/// would block for ever.
pub fn read_found(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    read_bounded(path, max)
}

/// A temporary file in `dir` created with mode 0666 less the umask (tempfile's default is
/// 0600), so renaming it into place gives the permissions a new file would have. A failure
/// says what went wrong without the temporary name, which means nothing to the user.
pub fn temp_file_in(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(|e| {
        let kind = e.kind();
        let reason = match kind {
            io::ErrorKind::NotFound => "its directory does not exist".to_owned(),
            io::ErrorKind::PermissionDenied => "its directory is not writable".to_owned(),
            io::ErrorKind::NotADirectory => "its parent is not a directory".to_owned(),
            _ => kind.to_string(),
        };
        io::Error::new(kind, reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_files_must_be_regular_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.expect("mkfifo").success());
        // Would block for ever if opened: refused before opening.
        let err = read_found(&fifo, 10).expect_err("a FIFO");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(read_found(Path::new("/dev/zero"), 10).is_err());
        let file = dir.path().join("f");
        std::fs::write(&file, b"ok").expect("write");
        assert_eq!(read_found(&file, 10).expect("regular"), b"ok");
    }

    #[test]
    fn bounded_reads_stop_at_the_cap() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").expect("write");
        assert_eq!(read_bounded(&path, 5).expect("at the cap"), b"12345");
        let err = read_bounded(&path, 4).expect_err("over the cap");
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("4 bytes"), "{err}");
        let endless = read_bounded(Path::new("/dev/zero"), 1 << 10).expect_err("endless");
        assert_eq!(endless.kind(), io::ErrorKind::FileTooLarge);
        std::fs::write(&path, b"").expect("empty");
        assert_eq!(read_bounded(&path, 0).expect("empty"), b"");
    }

    #[test]
    fn errors_name_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("nope/out.json");
        let e = write_atomically(&missing, b"x").expect_err("no directory");
        assert!(!e.to_string().contains(".tmp"), "{e}");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let ok = dir.path().join("out.json");
        write_atomically(&ok, b"x").expect("written");
        assert_eq!(std::fs::read(&ok).expect("read"), b"x");
    }
}
