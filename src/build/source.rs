//! Where an image comes from: the time its layers and config carry (`SOURCE_DATE_EPOCH`, else
//! the commit time, else 0 as ko does) and the `org.opencontainers.image.*` facts read from
//! the environment GitHub Actions sets or from `git` (source, revision, version).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::BuildError;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// Seconds since the epoch for every mtime and `created`.
    pub epoch: i64,
    pub url: Option<String>,
    pub revision: Option<String>,
    pub version: Option<String>,
}

impl Source {
    /// Reads the environment, then `git` in `dir` for what it did not say.
    pub fn detect(dir: &Path) -> Result<Self, BuildError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let git = |args: &[&str]| git(dir, args);
        let epoch = match env("SOURCE_DATE_EPOCH") {
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|e| *e >= 0)
                .ok_or_else(|| {
                    BuildError::Usage(format!(
                        "SOURCE_DATE_EPOCH `{v}` is not a whole number of seconds since 1970"
                    ))
                })?,
            None => git(&["log", "-1", "--format=%ct"])
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
        };
        let url = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY")) {
            (Some(s), Some(r)) => Some(format!("{}/{r}", s.trim_end_matches('/'))),
            _ => git(&["remote", "get-url", "origin"]).map(|u| strip_userinfo(&u)),
        };
        let revision = env("GITHUB_SHA").or_else(|| git(&["rev-parse", "HEAD"]));
        let version = env("GITHUB_REF")
            .and_then(|r| r.strip_prefix("refs/tags/").map(str::to_owned))
            .or_else(|| git(&["describe", "--tags", "--exact-match"]));
        Ok(Self {
            epoch,
            url,
            revision,
            version,
        })
    }

    /// RFC 3339 UTC of [`Source::epoch`].
    pub fn created(&self) -> String {
        jiff::Timestamp::from_second(self.epoch)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_string()
    }

    /// The `org.opencontainers.image.*` labels and annotations these facts give.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(label("created"), self.created());
        for (k, v) in [
            ("source", &self.url),
            ("revision", &self.revision),
            ("version", &self.version),
        ] {
            if let Some(v) = v {
                m.insert(label(k), v.clone());
            }
        }
        m
    }
}

pub fn label(key: &str) -> String {
    format!("org.opencontainers.image.{key}")
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// A remote URL without `user:token@` (which must never reach an image).
fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let path = path.trim_end_matches(".git");
            format!("{scheme}://{host}/{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_and_times_format() {
        assert_eq!(
            strip_userinfo("https://x-access-token:ghs_secret@github.com/acme/app.git"),
            "https://github.com/acme/app"
        );
        let s = Source {
            epoch: 1_700_000_000,
            ..Source::default()
        };
        assert_eq!(s.created(), "2023-11-14T22:13:20Z");
        assert_eq!(s.labels().len(), 1);
    }
}
