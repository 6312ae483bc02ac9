//! What `cicd init` reads from the repository: the Dockerfiles to turn into `images:` (found
//! with the same .gitignore-aware walk `cicd check` uses, symlinks not followed), and the
//! GitHub owner/name from the `origin` remote for the images' default repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One image to build, from one Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DetectedImage {
    pub name: String,
    /// The Dockerfile's directory, relative to the root (`.` for the root).
    pub context: String,
    /// The Dockerfile's name, relative to `context`.
    pub file: String,
    /// `ghcr.io/OWNER/NAME[/IMAGE]` when the origin remote is on github.com.
    pub repository: Option<String>,
}

/// Directories never searched: build outputs and dependency trees hold other projects'
/// Dockerfiles.
const SKIP: &[&str] = &[".git", "node_modules", "target", "vendor", "dist", "build"];

/// `Dockerfile`, `Containerfile`, `Dockerfile.NAME`, `NAME.Dockerfile`; anything else is not.
fn dockerfile_flavour(file_name: &str) -> Option<Option<&str>> {
    match file_name {
        "Dockerfile" | "Containerfile" => Some(None),
        _ => file_name
            .strip_prefix("Dockerfile.")
            .or_else(|| file_name.strip_suffix(".Dockerfile"))
            .or_else(|| file_name.strip_prefix("Containerfile."))
            .filter(|s| !s.is_empty())
            .map(Some),
    }
}

/// The Dockerfiles under `root`, sorted by path, named after their directory (or their
/// suffix, `Dockerfile.web` → `web`), names made unique.
pub fn images(root: &Path, origin: Option<&(String, String)>) -> Vec<DetectedImage> {
    let mut found: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && SKIP.contains(&e.file_name().to_string_lossy().as_ref()))
        })
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| dockerfile_flavour(&e.file_name().to_string_lossy()).is_some())
        .filter_map(|e| e.path().strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    found.sort();
    let root_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".to_owned());
    let repo_name = origin.map_or(root_name.as_str(), |(_, name)| name.as_str());
    let mut taken = BTreeSet::new();
    let many = found.len() > 1;
    found
        .iter()
        .map(|rel| {
            let file = rel
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dir = rel.parent().filter(|p| !p.as_os_str().is_empty());
            let base = match (dockerfile_flavour(&file).flatten(), dir) {
                (Some(suffix), _) => suffix.to_owned(),
                (None, Some(d)) => d
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                (None, None) => repo_name.to_owned(),
            };
            let name = unique(&mut taken, &slug(&base));
            let context = dir.map_or_else(|| ".".to_owned(), slash);
            let repository = origin.map(|(owner, repo)| {
                let (owner, repo) = (slug(owner), slug(repo));
                if many || name != repo {
                    format!("ghcr.io/{owner}/{repo}/{name}")
                } else {
                    format!("ghcr.io/{owner}/{repo}")
                }
            });
            DetectedImage {
                name,
                context,
                file,
                repository,
            }
        })
        .collect()
}

/// Compose files at the root (`compose.yaml`, `docker-compose.yml`, …): named in the output so
/// a compose-only repository hears why no image was configured.
pub fn compose_files(root: &Path) -> Vec<String> {
    [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yaml",
        "docker-compose.yml",
    ]
    .iter()
    .filter(|n| root.join(n).is_file())
    .map(|n| (*n).to_owned())
    .collect()
}

/// `(owner, name)` of the `origin` remote when it is on github.com, read from `.git/config`
/// (no `git` process: init must work where git is not installed).
pub fn origin(root: &Path) -> Option<(String, String)> {
    let config = crate::fs::read_found(&root.join(".git/config"), 1 << 20).ok()?;
    origin_in(&String::from_utf8(config).ok()?)
}

/// `(owner, name)` of `[remote "origin"]` in the text of a `.git/config`, if on github.com.
pub fn origin_in(config: &str) -> Option<(String, String)> {
    let mut in_origin = false;
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_origin = line == "[remote \"origin\"]";
        } else if in_origin && let Some(url) = line.strip_prefix("url").map(str::trim_start) {
            let url = url.strip_prefix('=')?.trim();
            let path = url
                .strip_prefix("https://github.com/")
                .or_else(|| url.strip_prefix("git@github.com:"))
                .or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
            let path = path.trim_end_matches('/').trim_end_matches(".git");
            let (owner, name) = path.split_once('/')?;
            return (!owner.is_empty() && !name.is_empty() && !name.contains('/'))
                .then(|| (owner.to_owned(), name.to_owned()));
        }
    }
    None
}

/// An image name cicd.yaml accepts: lower-case letters, digits and `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "app".to_owned()
    } else {
        out
    }
}

fn unique(taken: &mut BTreeSet<String>, base: &str) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_directories_and_suffixes() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [
            "Dockerfile",
            "api/Dockerfile",
            "Dockerfile.web",
            "docs/x.Dockerfile",
            "node_modules/a/Dockerfile",
            "Web App/Containerfile",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, "FROM scratch\n").expect("write");
        }
        let origin = ("Acme".to_owned(), "Shop".to_owned());
        let got: Vec<_> = images(dir.path(), Some(&origin))
            .into_iter()
            .map(|i| {
                format!(
                    "{} {} {} {}",
                    i.name,
                    i.context,
                    i.file,
                    i.repository.unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "shop . Dockerfile ghcr.io/acme/shop/shop",
                "web . Dockerfile.web ghcr.io/acme/shop/web",
                "web-app Web App Containerfile ghcr.io/acme/shop/web-app",
                "api api Dockerfile ghcr.io/acme/shop/api",
                "x docs x.Dockerfile ghcr.io/acme/shop/x",
            ]
        );
    }

    #[test]
    fn origin_reads_github_remotes_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
        let write = |url: &str| {
            std::fs::write(
                dir.path().join(".git/config"),
                format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = {url}\n"),
            )
            .expect("write");
        };
        write("git@github.com:acme/shop.git");
        assert_eq!(origin(dir.path()), Some(("acme".into(), "shop".into())));
        write("https://github.com/acme/shop");
        assert_eq!(origin(dir.path()), Some(("acme".into(), "shop".into())));
        write("https://gitlab.com/acme/shop.git");
        assert_eq!(origin(dir.path()), None);
    }

    #[test]
    fn origin_in_malformed_configs_is_none() {
        for text in [
            "",
            "[remote \"origin\"]\n",
            "[remote \"origin\"]\n\turl\n",
            "[remote \"origin\"]\n\turl = https://github.com/\n",
            "[remote \"origin\"]\n\turl = https://github.com/a/b/c\n",
            "[remote \"upstream\"]\n\turl = https://github.com/a/b\n",
            "[remote \"origin\"\n\turl = https://github.com/a/b\n",
            "\u{0}\u{ffff}[",
        ] {
            assert_eq!(origin_in(text), None, "{text:?}");
        }
    }

    #[test]
    fn slugs_are_image_names() {
        assert_eq!(slug("Web App!"), "web-app");
        assert_eq!(slug("--"), "app");
        assert_eq!(slug("a__b"), "a-b");
    }
}
