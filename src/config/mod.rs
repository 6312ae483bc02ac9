//! `cicd.yaml`: the schema, where it is found, and errors that point at file:line:column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::inputs::yaml::{self, Pos};

pub mod environments;
pub mod images;
pub mod release;

pub const FILE_NAMES: [&str; 2] = ["cicd.yaml", "cicd.yml"];
/// No hand-written `cicd.yaml` comes near this; a larger one is refused, not read on.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub images: Vec<images::ImageSpec>,
    #[serde(default)]
    pub environments: BTreeMap<String, environments::Environment>,
    #[serde(default)]
    pub release: release::ReleaseConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    /// Glob patterns (relative to the config file) of paths `cicd check` skips.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Per-rule settings, keyed by rule id.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// The `cicd check trivy` gate.
    #[serde(default)]
    pub trivy: TrivyConfig,
}

/// `policy.trivy`: flags given on the command line win over these.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrivyConfig {
    /// Severities that fail the gate (default: all, as `trivy --exit-code 1`).
    pub fail_on: Option<Vec<String>>,
    /// Severities shown (default: all).
    pub report: Option<Vec<String>>,
    pub ignore_unfixed: Option<bool>,
    /// Ignores expiring within this many days are warnings (default 14).
    pub expiry_warning_days: Option<u32>,
    /// Per class (`vulnerability`, `misconfiguration`, `secret`, `license`).
    #[serde(default)]
    pub classes: BTreeMap<String, TrivyClassConfig>,
    /// Ignores with a reason and an expiry date.
    #[serde(default)]
    pub ignores: Vec<crate::scan::ignore::CicdIgnore>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrivyClassConfig {
    pub enabled: Option<bool>,
    /// Severities that fail the gate for this class.
    pub fail_on: Option<Vec<String>>,
    /// How many failing findings of this class are tolerated (default 0).
    pub max: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleConfig {
    pub enabled: Option<bool>,
    /// `low`, `medium`, `high` or `critical`: replaces the severity the rule computes.
    pub severity: Option<String>,
    /// Globs of names that may be pinned by tag.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// A loaded config and where it came from (globs are relative to its directory).
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
    /// The directory relative paths in the config are resolved against.
    pub base: PathBuf,
    text: String,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("config file {path} could not be read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Loaded {
    /// Loads `explicit`, or else the first `cicd.yaml`/`cicd.yml` found from `start` up to
    /// the repository root (the directory holding `.git`); no file means defaults.
    pub fn find(explicit: Option<&Path>, start: &Path) -> Result<Self, ConfigError> {
        if let Some(path) = explicit {
            return Self::load(path);
        }
        let mut dir = Some(start);
        while let Some(d) = dir {
            for name in FILE_NAMES {
                let candidate = d.join(name);
                // Anything by that name is the config: a dangling symlink or a device is an
                // error, never silently "no config" (the defaults could be laxer).
                if candidate.symlink_metadata().is_ok() {
                    // Shown relative to where the search started, as users typed nothing.
                    let shown = match d.strip_prefix(start) {
                        Ok(rel) => rel.join(name),
                        Err(_) => pathdiff(start, &candidate),
                    };
                    leaves_its_tree(&candidate, d).map_or(Ok(()), |source| {
                        Err(ConfigError::Read {
                            path: shown.clone(),
                            source,
                        })
                    })?;
                    return Self::load_as(&candidate, &shown);
                }
            }
            if d.join(".git").exists() {
                break;
            }
            dir = d.parent();
        }
        Ok(Self {
            base: start.to_path_buf(),
            ..Self::default()
        })
    }

    /// A config the user named is read wherever it is.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_as(path, path)
    }

    /// Loads `path`, naming it `shown` in errors.
    fn load_as(path: &Path, shown: &Path) -> Result<Self, ConfigError> {
        let bytes = crate::fs::read_bounded(path, MAX_CONFIG_BYTES).map_err(|source| {
            ConfigError::Read {
                path: shown.to_path_buf(),
                source,
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let pos =
                crate::inputs::input::utf8_error_pos(e.as_bytes(), e.utf8_error().valid_up_to());
            ConfigError::Invalid {
                path: shown.to_path_buf(),
                line: pos.line,
                column: pos.column,
                message: "not valid UTF-8".into(),
            }
        })?;
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            yaml_serde::from_str(&text).map_err(|e| {
                let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                let message = e.to_string();
                let message = match message.rfind(" at line ") {
                    Some(i) => message[..i].to_owned(),
                    None => message,
                };
                ConfigError::Invalid {
                    path: shown.to_path_buf(),
                    line,
                    column,
                    message,
                }
            })?
        };
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Ok(Self {
            config,
            path: Some(shown.to_path_buf()),
            base,
            text,
        })
    }

    /// An error about the value at `keys` (e.g. `["policy", "rules", "x"]`), located in the file.
    pub fn error_at(&self, keys: &[&str], key_itself: bool, message: String) -> ConfigError {
        let pos = self
            .locate(keys, key_itself)
            .unwrap_or(Pos { line: 1, column: 1 });
        ConfigError::Invalid {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from(FILE_NAMES[0])),
            line: pos.line,
            column: pos.column,
            message,
        }
    }

    fn locate(&self, keys: &[&str], key_itself: bool) -> Option<Pos> {
        let docs = yaml::parse(&self.text).ok()?;
        let mut node = docs.first()?;
        let (last, parents) = keys.split_last()?;
        // A numeric key indexes a sequence (`policy.trivy.ignores[2]`).
        fn step<'n>(node: &'n yaml::Node, key: &str) -> Option<&'n yaml::Node> {
            match &node.value {
                yaml::Value::Seq(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => node.get(key),
            }
        }
        for key in parents {
            node = step(node, key)?;
        }
        if key_itself {
            node.key_node(last).map(|n| n.span().start)
        } else {
            step(node, last).map(|n| n.span().start)
        }
    }
}

/// Why a config found in `dir` (not named by the user) is not read: it is a symlink to a file
/// outside `dir`, the tree it configures — a checked-out pull request must not make cicd read
/// `~/.docker/config.json` as its config. A dangling one is left to the read to report.
fn leaves_its_tree(candidate: &Path, dir: &Path) -> Option<std::io::Error> {
    let (Ok(real), Ok(root)) = (candidate.canonicalize(), dir.canonicalize()) else {
        return None;
    };
    (!real.starts_with(&root)).then(|| {
        std::io::Error::other(format!(
            "a symlink to {}, outside {}: name it with --config to use it",
            real.display(),
            root.display()
        ))
    })
}

/// `target` relative to `from` when `target` is in an ancestor of `from` (`../../cicd.yaml`).
fn pathdiff(from: &Path, target: &Path) -> PathBuf {
    let mut up = PathBuf::new();
    let mut dir = Some(from);
    while let Some(d) = dir {
        if let Ok(rest) = target.strip_prefix(d) {
            return up.join(rest);
        }
        up.push("..");
        dir = d.parent();
    }
    target.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cicd.yaml");
        std::fs::write(&path, text).expect("write");
        Loaded::load(&path)
    }

    #[test]
    fn wrong_type_and_unknown_key_point_at_line() {
        let err = load("policy:\n  rules:\n    unpinned-action:\n      allow: 5\n")
            .expect_err("wrong type");
        let ConfigError::Invalid { line, message, .. } = err else {
            panic!("{err}")
        };
        assert_eq!(line, 4, "{message}");
        let err = load("policy:\n  rulez: {}\n").expect_err("unknown");
        let ConfigError::Invalid {
            line,
            column,
            message,
            ..
        } = err
        else {
            panic!("{err}")
        };
        assert_eq!((line, column), (2, 3), "{message}");
        assert!(message.contains("rulez"), "{message}");
    }

    #[test]
    fn empty_file_is_default() {
        assert!(load("").expect("loads").config.policy.rules.is_empty());
    }
}

/// What the section validators' unit tests share: a cicd.yaml written, loaded and checked by
/// one section's `validate`, and the line and message of the error it gave.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{ConfigError, Loaded};

    pub fn load(
        text: &str,
        validate: fn(&Loaded) -> Result<(), ConfigError>,
    ) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cicd.yaml");
        std::fs::write(&path, text).expect("write");
        let loaded = Loaded::load(&path)?;
        validate(&loaded)?;
        Ok(loaded)
    }

    pub fn line_of(err: ConfigError) -> (usize, String) {
        match err {
            ConfigError::Invalid { line, message, .. } => (line, message),
            other => panic!("{other}"),
        }
    }
}
