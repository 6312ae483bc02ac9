//! Release assets: the files `release.assets` globs name (confined to the repository: no
//! absolute pattern, no `..`, no symlink out of the tree), the per-platform SBOMs and the
//! notes the pipeline writes to `dist`, and `SHA256SUMS` over all of them. Names are unique:
//! two files with one name are refused rather than one silently replacing the other.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobSetBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The checksum file's name.
pub const SUMS: &str = "SHA256SUMS";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AssetError(pub String);

/// One file of the release.
#[derive(Clone, Debug, Serialize)]
pub struct AssetFile {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl AssetFile {
    /// Hashes the file as it streams through (an asset can be gigabytes: never held whole).
    pub fn read(path: &Path) -> Result<Self, AssetError> {
        let fail = |e: std::io::Error| AssetError(format!("{}: {e}", path.display()));
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut std::fs::File::open(path).map_err(fail)?, &mut hasher)
            .map_err(fail)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            name,
            path: path.to_path_buf(),
            sha256: format!("{:x}", hasher.finalize()),
            size,
        })
    }
}

/// The files under `base` that `patterns` match, sorted; a pattern that matches nothing is
/// an error (a release missing an asset it promised is not a release).
pub fn from_globs(base: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, AssetError> {
    let root = base
        .canonicalize()
        .map_err(|e| AssetError(format!("{}: {e}", base.display())))?;
    let mut out = BTreeSet::new();
    for pattern in patterns {
        let rel = Path::new(pattern);
        if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(AssetError(format!(
                "release.assets `{pattern}`: patterns are relative to cicd.yaml and stay inside the repository (no absolute path, no `..`)"
            )));
        }
        let glob = Glob::new(pattern)
            .map_err(|e| AssetError(format!("release.assets `{pattern}`: {e}")))?;
        let set = GlobSetBuilder::new()
            .add(glob)
            .build()
            .map_err(|e| AssetError(format!("release.assets `{pattern}`: {e}")))?;
        let start = literal_prefix(rel);
        let before = out.len();
        walk(&root, &root.join(&start), &set, &mut out)?;
        if out.len() == before {
            return Err(AssetError(format!(
                "release.assets `{pattern}` matches no file under {}",
                base.display()
            )));
        }
    }
    Ok(out.into_iter().collect())
}

/// The directories before the first component with a glob character.
fn literal_prefix(pattern: &Path) -> PathBuf {
    pattern
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect::<PathBuf>()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn walk(
    root: &Path,
    dir: &Path,
    set: &globset::GlobSet,
    out: &mut BTreeSet<PathBuf>,
) -> Result<(), AssetError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                walk(root, &path, set, out)?;
            }
            continue;
        }
        if !set.is_match(rel) {
            continue;
        }
        // A newline in a name would write a second, forged line into SHA256SUMS (and GitHub
        // renames such assets): refused, the name shown escaped.
        if entry
            .file_name()
            .to_string_lossy()
            .chars()
            .any(char::is_control)
        {
            return Err(AssetError(format!(
                "release asset {:?}: a file name holding a control character (a newline would forge a line of SHA256SUMS); rename it",
                rel
            )));
        }
        if kind.is_symlink() {
            let target = path
                .canonicalize()
                .map_err(|e| AssetError(format!("{}: {e}", path.display())))?;
            if !target.starts_with(root) || !target.is_file() {
                return Err(AssetError(format!(
                    "release asset {:?} is a symlink to {:?}, outside the repository (or not a file); refusing to publish it",
                    rel, target
                )));
            }
        }
        out.insert(path);
    }
    Ok(())
}

/// `SHA256SUMS` in `sha256sum`'s format (two spaces, then the name), sorted by name.
pub fn sums(files: &[AssetFile]) -> String {
    let mut lines: Vec<String> = files
        .iter()
        .filter(|f| f.name != SUMS)
        .map(|f| format!("{}  {}\n", f.sha256, f.name))
        .collect();
    lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
    lines.concat()
}

/// Refuses two assets with one name.
pub fn check_unique(files: &[AssetFile]) -> Result<(), AssetError> {
    let mut seen = BTreeSet::new();
    for f in files {
        if !seen.insert(f.name.as_str()) {
            return Err(AssetError(format!(
                "two release assets are named `{}` (one is {}): rename one",
                f.name,
                f.path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_stay_inside_and_must_match() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        std::fs::create_dir_all(d.join("dist/sub")).expect("mkdir");
        std::fs::write(d.join("dist/a.tar.gz"), b"a").expect("write");
        std::fs::write(d.join("dist/sub/b.tar.gz"), b"b").expect("write");
        std::fs::write(d.join("outside"), b"o").expect("write");
        let found = from_globs(d, &["dist/**/*.tar.gz".into()]).expect("globs");
        assert_eq!(found.len(), 2);
        assert!(from_globs(d, &["../*".into()]).is_err());
        assert!(from_globs(d, &["/etc/passwd".into()]).is_err());
        assert!(from_globs(d, &["dist/*.zip".into()]).is_err());
        let out = tempfile::tempdir().expect("tmp");
        std::fs::write(out.path().join("secret"), b"s").expect("write");
        std::os::unix::fs::symlink(out.path().join("secret"), d.join("dist/leak.tar.gz"))
            .expect("symlink");
        let e = from_globs(d, &["dist/*.tar.gz".into()]).expect_err("symlink out");
        assert!(e.0.contains("outside the repository"), "{e}");
    }

    #[test]
    fn sums_are_sorted_and_names_unique() {
        let f = |name: &str, hex: char| AssetFile {
            name: name.into(),
            path: PathBuf::from(name),
            sha256: std::iter::repeat_n(hex, 64).collect(),
            size: 1,
        };
        let files = [f("b", 'b'), f("a", 'a')];
        assert_eq!(
            sums(&files),
            format!("{}  a\n{}  b\n", "a".repeat(64), "b".repeat(64))
        );
        assert!(check_unique(&[f("a", 'a'), f("a", 'b')]).is_err());
    }
}
