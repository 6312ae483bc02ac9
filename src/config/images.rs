//! `images:` in `cicd.yaml`: what `cicd build` builds — name, repository, platforms, and either
//! a `native:` assembly (base + files + config) or a `dockerfile:` build — and its validation,
//! which points at file:line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, Loaded};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageSpec {
    pub name: String,
    /// Where it is pushed when `--to` is not given (`ghcr.io/acme/hello`).
    pub repository: Option<String>,
    /// `os/arch[/variant]`, e.g. `linux/amd64`.
    pub platforms: Vec<String>,
    pub native: Option<NativeSpec>,
    pub dockerfile: Option<DockerfileSpec>,
    /// Runner label per platform for `cicd plan matrix` (defaults: GitHub-hosted runners).
    #[serde(default)]
    pub runners: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NativeSpec {
    /// `scratch`, or an image reference pinned by digest.
    #[serde(default = "scratch")]
    pub base: String,
    #[serde(default)]
    pub files: Vec<FileSpec>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// gzip level 0–9 (default 1: fast; layers are pushed once and pulled often, but the
    /// difference between 1 and 9 on binaries is a few percent).
    pub compression_level: Option<u32>,
}

fn scratch() -> String {
    "scratch".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSpec {
    /// Relative to the config file; `{os}`, `{arch}`, `{variant}`, `{platform}` expand.
    pub src: String,
    /// Absolute path in the image.
    pub dst: String,
    /// Octal, e.g. `"0755"` (default: 0755 when the file is executable, else 0644).
    pub mode: Option<String>,
    #[serde(default)]
    pub uid: u64,
    #[serde(default)]
    pub gid: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DockerfileSpec {
    #[serde(default = "dot")]
    pub context: String,
    #[serde(default = "dockerfile")]
    pub file: String,
    pub target: Option<String>,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    /// `id=NAME,src=PATH` or `id=NAME,env=VAR`, passed to the tool's `--secret`.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// `buildah` (default) or `buildx`.
    #[serde(default = "buildah")]
    pub backend: String,
}

fn dot() -> String {
    ".".into()
}
fn dockerfile() -> String {
    "Dockerfile".into()
}
fn buildah() -> String {
    "buildah".into()
}

/// Checks what serde cannot: one build kind per image, unique names, known platforms,
/// octal modes, absolute in-image paths. Errors point at the offending value.
pub fn validate(loaded: &Loaded) -> Result<(), ConfigError> {
    let images = &loaded.config.images;
    for (i, image) in images.iter().enumerate() {
        let at = |keys: &[&str], message: String| {
            let idx = i.to_string();
            let mut path = vec!["images", idx.as_str()];
            path.extend_from_slice(keys);
            loaded.error_at(&path, false, message)
        };
        if image.name.is_empty()
            || !image
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(at(
                &["name"],
                format!(
                    "image name `{}`: use letters, digits, `-`, `_`, `.`",
                    image.name
                ),
            ));
        }
        if images[..i].iter().any(|o| o.name == image.name) {
            return Err(at(
                &["name"],
                format!("image `{}` is defined twice", image.name),
            ));
        }
        if image.platforms.is_empty() {
            return Err(at(
                &["name"],
                format!("image `{}` lists no platforms", image.name),
            ));
        }
        for (j, p) in image.platforms.iter().enumerate() {
            if let Err(e) = crate::build::platform::parse(p) {
                return Err(at(&["platforms", &j.to_string()], e));
            }
        }
        match (&image.native, &image.dockerfile) {
            (Some(n), None) => validate_native(n, &|keys, m| {
                let mut path = vec!["native"];
                path.extend_from_slice(keys);
                at(&path, m)
            })?,
            (None, Some(d)) if !matches!(d.backend.as_str(), "buildah" | "buildx") => {
                return Err(at(
                    &["dockerfile", "backend"],
                    format!("backend `{}`: use buildah or buildx", d.backend),
                ));
            }
            (None, Some(_)) => {}
            _ => {
                return Err(at(
                    &["name"],
                    format!(
                        "image `{}` needs exactly one of `native:` or `dockerfile:`",
                        image.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

type At<'a> = dyn Fn(&[&str], String) -> ConfigError + 'a;

fn validate_native(n: &NativeSpec, at: &At<'_>) -> Result<(), ConfigError> {
    if n.compression_level.is_some_and(|l| l > 9) {
        return Err(at(
            &["compression-level"],
            "compression-level must be 0 to 9".into(),
        ));
    }
    for (k, f) in n.files.iter().enumerate() {
        let idx = k.to_string();
        if let Some(m) = &f.mode
            && parse_mode(m).is_none()
        {
            return Err(at(
                &["files", &idx, "mode"],
                format!("mode `{m}`: expected octal like \"0755\""),
            ));
        }
        if !f.dst.starts_with('/')
            || f.dst.ends_with('/')
            || f.dst.split('/').any(|c| c == ".." || c == ".")
        {
            return Err(at(
                &["files", &idx, "dst"],
                format!(
                    "dst `{}`: expected an absolute file path in the image, without `.` or `..`",
                    f.dst
                ),
            ));
        }
        if f.src.is_empty() {
            return Err(at(&["files", &idx, "src"], "src is empty".into()));
        }
    }
    Ok(())
}

/// `"0755"` → 0o755 (at most 0o7777).
pub fn parse_mode(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::test_support::line_of;

    fn load(text: &str) -> Result<Loaded, ConfigError> {
        crate::config::test_support::load(text, validate)
    }

    #[test]
    fn images_validate_with_lines() {
        let ok = "images:\n  - name: hello\n    platforms: [linux/amd64, linux/arm64]\n    native:\n      files:\n        - { src: \"dist/{arch}/hello\", dst: /hello, mode: \"0755\" }\n";
        let loaded = load(ok).expect("valid");
        assert_eq!(
            loaded.config.images[0]
                .native
                .as_ref()
                .expect("native")
                .base,
            "scratch"
        );
        let (line, m) = line_of(
            load("images:\n  - name: a\n    platforms:\n      - linux/amd64\n      - linux/sparc\n    native: {}\n")
                .expect_err("platform"),
        );
        assert_eq!(line, 5, "{m}");
        assert!(m.contains("sparc"), "{m}");
        let (line, m) = line_of(
            load("images:\n  - name: a\n    platforms: [linux/amd64]\n    native:\n      files:\n        - src: x\n          dst: relative\n")
                .expect_err("dst"),
        );
        assert_eq!(line, 7, "{m}");
        let (_, m) = line_of(
            load("images:\n  - name: a\n    platforms: [linux/amd64]\n").expect_err("kind"),
        );
        assert!(m.contains("exactly one"), "{m}");
        let (line, m) = line_of(
            load("images:\n  - name: a\n    platforms: [linux/amd64]\n    native: {bogus: 1}\n")
                .expect_err("unknown key"),
        );
        assert_eq!(line, 4, "{m}");
        assert_eq!(parse_mode("0755"), Some(0o755));
        assert_eq!(parse_mode("9"), None);
    }
}
