//! Finds the inputs under the given paths: workflows, actions, Dockerfiles and compose files,
//! honouring `.gitignore` and the config's `policy.ignore` globs. Workflows count only in the
//! `.github/workflows` GitHub runs: the one of a path given or of a repository root; those
//! of vendored trees and templates are skipped and counted. A path that does not exist is an
//! input problem that does not stop the others.

use std::path::{Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

use crate::inputs::document::Kind;
use crate::inputs::input::{Input, kind_from_name};
use crate::report::InputProblem;

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

/// What the paths given hold.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files to read, sorted by shown path.
    pub inputs: Vec<Input>,
    /// Paths given that do not exist.
    pub missing: Vec<InputProblem>,
    /// Workflow files under a `.github/workflows` GitHub does not run (not named explicitly).
    pub nested_skipped: usize,
    /// Entries named like an input that are not regular files (symbolic links, FIFOs,
    /// devices): not followed or read, and counted so "0 files" is never a silent pass.
    pub special_skipped: usize,
}

impl Discovered {
    /// What to tell the user about files left out.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let n @ 1.. = self.nested_skipped {
            notes.push(format!(
                "{n} {} under nested .github/workflows skipped: GitHub runs only a repository root's (name a file to check it)",
                crate::report::plural(n, "file"),
            ));
        }
        if let n @ 1.. = self.special_skipped {
            notes.push(format!(
                "{n} {} skipped: symbolic links and special files are not followed (name a file to check it)",
                crate::report::plural(n, "input"),
            ));
        }
        notes
    }
}

/// Walks `paths` (directories recursively, files as given).
pub fn discover(paths: &[PathBuf], ignore: &IgnoreSet) -> Discovered {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = Discovered::default();
    for root in paths {
        if root.is_file() {
            out.inputs.push(Input {
                path: root.clone(),
                shown: shown(root, &cwd),
                kind: kind_from_name(root),
                tree: cwd.clone(),
            });
        } else if root.is_dir() {
            walk(root, ignore, &cwd, &mut out);
        } else {
            out.missing.push(InputProblem::new(
                shown(root, &cwd),
                None,
                "no such file or directory (give a workflow, action, Dockerfile, compose file or a directory)",
            ));
        }
    }
    out.inputs.sort_by(|a, b| a.shown.cmp(&b.shown));
    out.inputs.dedup_by(|a, b| a.shown == b.shown);
    out
}

fn walk(root: &Path, ignore: &IgnoreSet, cwd: &Path, out: &mut Discovered) {
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            continue;
        }
        let path = entry.path();
        let Some(kind) = kind_from_name(path) else {
            continue;
        };
        if ignore.ignores(path) {
            continue;
        }
        if !file_type.is_file() {
            out.special_skipped += 1;
            continue;
        }
        if kind == Kind::Workflow && !runs_workflows(root, path) {
            out.nested_skipped += 1;
            continue;
        }
        out.inputs.push(Input {
            path: path.to_path_buf(),
            shown: shown(path, cwd),
            kind: Some(kind),
            tree: root.to_path_buf(),
        });
    }
}

/// Whether GitHub runs the workflow at `path` (under `root`): its `.github` sits in `root`
/// (or `root` is inside that `.github`), or in a repository root (a folder holding `.git`,
/// a directory or, for submodules and worktrees, a file).
fn runs_workflows(root: &Path, path: &Path) -> bool {
    let Some(owner) = path.ancestors().nth(3) else {
        return true;
    };
    root.starts_with(owner) || owner.join(".git").exists()
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
