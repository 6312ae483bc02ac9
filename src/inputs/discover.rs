//! Finds the inputs under the given paths: workflows, actions, Dockerfiles and compose files,
//! honouring `.gitignore` and the config's `policy.ignore` globs.

use std::path::{Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

use crate::inputs::document::Kind;
use crate::inputs::input::kind_from_name;

/// One file to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Path to open.
    pub path: PathBuf,
    /// Path shown to users: relative to the working directory when under it.
    pub shown: PathBuf,
    /// `None` for a file named on the command line whose name says nothing; content decides.
    pub kind: Option<Kind>,
}

/// `policy.ignore` compiled, with the directory its globs are relative to.
#[derive(Debug, Clone)]
pub struct IgnoreSet {
    base: PathBuf,
    set: GlobSet,
}

impl IgnoreSet {
    pub fn new(base: &Path, patterns: &[String]) -> Result<Self, (usize, globset::Error)> {
        let mut builder = GlobSetBuilder::new();
        for (i, p) in patterns.iter().enumerate() {
            let p = p.trim_start_matches("./");
            let glob = |pattern: &str| {
                globset::GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| (i, e))
            };
            builder.add(glob(p)?);
            // `dir/` or `dir` also means everything below it, as in .gitignore.
            let trimmed = p.trim_end_matches('/');
            if !trimmed.ends_with("**") {
                builder.add(glob(&format!("{trimmed}/**"))?);
            }
        }
        let set = builder.build().map_err(|e| (0, e))?;
        Ok(Self {
            base: absolute(base),
            set,
        })
    }

    pub fn empty() -> Self {
        Self {
            base: PathBuf::new(),
            set: GlobSet::empty(),
        }
    }

    fn ignores(&self, path: &Path) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let abs = absolute(path);
        abs.strip_prefix(&self.base)
            .is_ok_and(|rel| self.set.is_match(rel))
    }
}

fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    crate::inputs::compose::normalize(&joined)
}

/// What was asked for and does not exist.
#[derive(Debug)]
pub struct Missing(pub PathBuf);

/// Walks `paths` (directories recursively, files as given), sorted by shown path.
pub fn discover(paths: &[PathBuf], ignore: &IgnoreSet) -> Result<Vec<Input>, Missing> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = Vec::new();
    for root in paths {
        if root.is_file() {
            out.push(Input {
                path: root.clone(),
                shown: shown(root, &cwd),
                kind: kind_from_name(root),
            });
            continue;
        }
        if !root.is_dir() {
            return Err(Missing(root.clone()));
        }
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = entry.path();
            let Some(kind) = kind_from_name(path) else {
                continue;
            };
            if ignore.ignores(path) {
                continue;
            }
            out.push(Input {
                path: path.to_path_buf(),
                shown: shown(path, &cwd),
                kind: Some(kind),
            });
        }
    }
    out.sort_by(|a, b| a.shown.cmp(&b.shown));
    out.dedup_by(|a, b| a.shown == b.shown);
    Ok(out)
}

fn shown(path: &Path, cwd: &Path) -> PathBuf {
    let p = path.strip_prefix(".").unwrap_or(path);
    if p.is_absolute()
        && let Ok(rel) = p.strip_prefix(cwd)
    {
        return rel.to_path_buf();
    }
    p.to_path_buf()
}
