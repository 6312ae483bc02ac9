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
    /// Reads the environment, then `git` in `dir` for what it did not say: one `git log`
    /// for the commit time and revision, with `git remote get-url` and `git describe` run at
    /// the same time (only those the environment leaves open).
    pub fn detect(dir: &Path) -> Result<Self, BuildError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let epoch_env = match env("SOURCE_DATE_EPOCH") {
            Some(v) => Some(
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|e| *e >= 0)
                    .ok_or_else(|| {
                        BuildError::Usage(format!(
                            "SOURCE_DATE_EPOCH `{v}` is not a whole number of seconds since 1970"
                        ))
                    })?,
            ),
            None => None,
        };
        let url_env = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY")) {
            (Some(s), Some(r)) => Some(format!("{}/{r}", s.trim_end_matches('/'))),
            _ => None,
        };
        let revision_env = env("GITHUB_SHA");
        let version_env =
            env("GITHUB_REF").and_then(|r| r.strip_prefix("refs/tags/").map(str::to_owned));
        let want = |given: bool, args: &'static [&'static str]| {
            (!given).then(|| spawn(dir, args)).flatten()
        };
        let log = want(
            epoch_env.is_some() && revision_env.is_some(),
            &["log", "-1", "--format=%ct%n%H"],
        );
        let remote = want(url_env.is_some(), &["remote", "get-url", "origin"]);
        let describe = want(
            version_env.is_some(),
            &["describe", "--tags", "--exact-match"],
        );
        let log = log.and_then(collect);
        let mut log = log.as_deref().unwrap_or_default().lines();
        let (time, head) = (log.next(), log.next());
        Ok(Self {
            epoch: epoch_env
                .or_else(|| time.and_then(|t| t.trim().parse().ok()))
                .unwrap_or(0),
            url: url_env.or_else(|| remote.and_then(collect).map(|u| strip_userinfo(&u))),
            revision: revision_env.or_else(|| head.map(|h| h.trim().to_owned())),
            version: version_env.or_else(|| describe.and_then(collect)),
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

/// `git -C dir ARGS…`, started (not waited for): the callers run several at once.
fn spawn(dir: &Path, args: &[&str]) -> Option<std::process::Child> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// A started `git`'s trimmed output, when it succeeded and said something.
fn collect(child: std::process::Child) -> Option<String> {
    let out = child.wait_with_output().ok()?;
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
