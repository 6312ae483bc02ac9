//! `cicd init`: writes `cicd.yaml` (images detected from the repository's Dockerfiles) and the
//! workflows `ci.yml`, `release.yml`, `promote.yml` from `templates/`, every action pinned by
//! SHA. Never overwrites a file unless asked, and never writes through a symlink or outside the
//! directory it was given.

pub mod detect;
pub mod pins;
mod render;

use std::path::{Path, PathBuf};

pub use detect::DetectedImage;
pub use pins::{ActionArg, Pins};

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} already exist{}; pass --force to overwrite", list(.0), if .0.len() == 1 { "s" } else { "" })]
    Exists(Vec<PathBuf>),
    #[error(
        "{0}: a symlink or a non-directory in the way; cicd init writes only inside the directory it is given"
    )]
    Escape(PathBuf),
    #[error(
        "could not resolve the actions to pin ({0}); run with --offline to use the SHAs cicd ships"
    )]
    Resolve(String),
    #[error("{0}")]
    Usage(String),
    #[error("template: {0}")]
    Template(String),
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One file to write, relative to the root.
#[derive(Debug, Clone)]
pub struct Planned {
    pub path: PathBuf,
    pub contents: String,
}

/// What `cicd init` will write, and what it found.
#[derive(Debug)]
pub struct Plan {
    pub files: Vec<Planned>,
    pub images: Vec<DetectedImage>,
    /// Compose files at the root (named when no Dockerfile was found).
    pub compose: Vec<String>,
}

/// Detects the images under `root` and renders every file with `pins`. Without an image, only
/// `cicd.yaml` and `ci.yml` are planned: a release workflow would have nothing to build.
pub fn plan(root: &Path, pins: &Pins) -> Result<Plan, InitError> {
    let origin = detect::origin(root);
    let images = detect::images(root, origin.as_ref());
    let compose = detect::compose_files(root);
    let ctx = minijinja::context! {
        images => minijinja::Value::from(minijinja::value::Serde(&images)),
        pins => pins,
    };
    let mut names = vec![
        ("cicd.yaml", "cicd.yaml"),
        ("ci.yml", ".github/workflows/ci.yml"),
    ];
    if !images.is_empty() {
        names.push(("release.yml", ".github/workflows/release.yml"));
        names.push(("promote.yml", ".github/workflows/promote.yml"));
    }
    let files = names
        .into_iter()
        .map(|(template, path)| {
            Ok(Planned {
                path: PathBuf::from(path),
                contents: render::render(template, &ctx)?,
            })
        })
        .collect::<Result<_, InitError>>()?;
    Ok(Plan {
        files,
        images,
        compose,
    })
}

/// Writes the plan under `root`: refuses (writing nothing) when a file exists and `force` is
/// not set, or when a path component is a symlink or not a directory.
pub fn write(root: &Path, plan: &Plan, force: bool) -> Result<(), InitError> {
    let mut existing = Vec::new();
    for file in &plan.files {
        check_inside(root, &file.path)?;
        let target = root.join(&file.path);
        match std::fs::symlink_metadata(&target) {
            Ok(m) if !m.is_file() => return Err(InitError::Escape(file.path.clone())),
            Ok(_) => existing.push(file.path.clone()),
            Err(_) => {}
        }
    }
    if !existing.is_empty() && !force {
        return Err(InitError::Exists(existing));
    }
    for file in &plan.files {
        let target = root.join(&file.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        crate::fs::write_atomically(&target, file.contents.as_bytes()).map_err(|source| {
            InitError::Write {
                path: file.path.clone(),
                source,
            }
        })?;
    }
    Ok(())
}

/// Every existing ancestor of `rel` under `root` is a real directory (no symlink out).
fn check_inside(root: &Path, rel: &Path) -> Result<(), InitError> {
    let mut dir = root.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for component in parents {
        dir.push(component);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(InitError::Escape(
                    dir.strip_prefix(root).unwrap_or(&dir).to_path_buf(),
                ));
            }
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}
