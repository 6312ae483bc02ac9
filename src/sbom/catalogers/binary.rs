//! What the walker keeps from an executable or an archive as it streams past, so no binary is
//! ever held whole in the tree: Go build information (found by its magic while streaming),
//! the decompressed cargo-auditable `.dep-v0` section of binaries small enough to buffer, and
//! the Maven metadata of Java archives ([`super::java_archive`]). Each kept part starts with a
//! tag naming which cataloger reads it.

use std::io::{self, Read};

use super::{golang, java_archive};

/// Executables up to this size are buffered once to read their section table (object files
/// keep it at the end, so a stream cannot find `.dep-v0` without holding what came before).
/// Larger ones are only scanned for Go build information.
pub const MAX_BUFFERED: u64 = 64 << 20;
/// The decompressed cargo-auditable JSON is at most this large (a 1,000-crate binary is ~100 KB).
pub const MAX_AUDIT_JSON: usize = 8 << 20;
/// Kept parts holding cargo-auditable JSON start with this.
pub const AUDIT_TAG: &[u8] = b"\0cicd:cargo-auditable\0";

/// Whether a file that is not executable is still streamed through [`extract`].
pub fn scanned(path: &str) -> bool {
    java_archive::is_archive(path)
}

/// The walker's hook: the parts of `r` (`size` bytes at `path`) the catalogers need.
pub fn extract(path: &str, size: u64, r: &mut dyn Read) -> io::Result<Option<Vec<u8>>> {
    if java_archive::is_archive(path) {
        return java_archive::extract(size, r);
    }
    if size > MAX_BUFFERED {
        return golang::extract(r);
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    r.take(MAX_BUFFERED).read_to_end(&mut buf)?;
    io::copy(r, &mut io::sink())?;
    if let Some(go) = golang::extract(&mut buf.as_slice())? {
        return Ok(Some(go));
    }
    Ok(audit_json(&buf).map(|json| [AUDIT_TAG, json.as_bytes()].concat()))
}

/// The cargo-auditable JSON of a whole binary (ELF, Mach-O, PE or WebAssembly), through the
/// `auditable-info` crate; `None` when the binary carries none or it does not decompress
/// within [`MAX_AUDIT_JSON`].
pub fn audit_json(binary: &[u8]) -> Option<String> {
    // Cheap pre-check: the section name is in the binary's string table (`__dep_v0` in Mach-O).
    let named = |n: &[u8]| memchr::memmem::find(binary, n).is_some();
    if !named(b".dep-v0") && !named(b"__dep_v0") {
        return None;
    }
    auditable_info::json_from_slice(binary, MAX_AUDIT_JSON).ok()
}
