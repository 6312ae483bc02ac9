//! `environments:` in `cicd.yaml`: where `cicd promote` moves a digest to (repository and
//! moving tag), what evidence it demands first (signature policy, SBOM, scan age), the
//! GitHub environment and URL it reports, and the `after:` order between environments —
//! validated here (names, ages, tags, cycles) with errors that point at file:line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, Loaded};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Environment {
    /// Where promoted digests live (`ghcr.io/acme/api`); default: the image's own repository.
    pub repository: Option<String>,
    /// The moving tag deploy tooling follows (default: the environment's name).
    pub tag: Option<String>,
    #[serde(default)]
    pub require: Require,
    /// The GitHub environment deployments are recorded in (default: the environment's name).
    pub github_environment: Option<String>,
    pub url: Option<String>,
    /// Only digests that were promoted to this environment first.
    pub after: Option<String>,
    /// Marks the GitHub deployment `production_environment` (default: name is `production`).
    pub production: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Require {
    pub signature: Option<SignatureRequirement>,
    /// An SBOM attestation for every platform.
    #[serde(default)]
    pub sbom: bool,
    pub scan: Option<ScanRequirement>,
}

/// Who must have signed: a cosign public key, a GitHub workflow, or a certificate identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignatureRequirement {
    /// A cosign public key file, relative to the config file.
    pub key: Option<PathBuf>,
    /// `owner/repo/.github/workflows/file.yml@refs/tags/v*` (keyless, GitHub Actions).
    pub github_workflow: Option<String>,
    pub identity: Option<String>,
    pub issuer: Option<String>,
    /// Accept signatures without a transparency-log entry (private setups).
    #[serde(default)]
    pub insecure_ignore_tlog: bool,
}

/// The signature policy a requirement names, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignaturePolicy {
    Key(PathBuf),
    GithubWorkflow(String),
    Identity { identity: String, issuer: String },
}

impl SignatureRequirement {
    /// Exactly one of `key`, `github-workflow`, or `identity` + `issuer`.
    pub fn policy(&self) -> Result<SignaturePolicy, String> {
        match (
            &self.key,
            &self.github_workflow,
            &self.identity,
            &self.issuer,
        ) {
            (Some(k), None, None, None) => Ok(SignaturePolicy::Key(k.clone())),
            (None, Some(w), None, None) if !w.trim().is_empty() => {
                Ok(SignaturePolicy::GithubWorkflow(w.clone()))
            }
            (None, None, Some(i), Some(s)) if !i.trim().is_empty() && !s.trim().is_empty() => {
                Ok(SignaturePolicy::Identity {
                    identity: i.clone(),
                    issuer: s.clone(),
                })
            }
            (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                Err("`identity` and `issuer` go together".into())
            }
            _ => Err(
                "give exactly one of `key: FILE`, `github-workflow: OWNER/REPO/PATH@REF` or `identity:` with `issuer:`"
                    .into(),
            ),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScanRequirement {
    /// How old the newest passing vulnerability scan may be: `7d`, `1d`, `12h`, `30m`.
    pub max_age: String,
}

/// `7d`, `12h`, `30m`, `45s`, `2w` (also jiff's friendly forms like `1d 12h`) in seconds;
/// days are 24 hours. Zero and negative ages are refused.
pub fn parse_age(s: &str) -> Result<i64, String> {
    let bad = || format!("max-age `{s}`: expected a duration like 7d, 1d, 12h or 30m");
    let trimmed = s.trim();
    if trimmed.is_empty() || trimmed.starts_with(['-', '+']) {
        return Err(bad());
    }
    let span: jiff::Span = trimmed.parse().map_err(|_| bad())?;
    let secs = span
        .total((
            jiff::Unit::Second,
            jiff::SpanRelativeTo::days_are_24_hours(),
        ))
        .map_err(|_| bad())?;
    if !(1.0..1e12).contains(&secs) {
        return Err(bad());
    }
    Ok(secs as i64)
}

impl Environment {
    pub fn tag_for(&self, name: &str) -> String {
        self.tag.clone().unwrap_or_else(|| name.to_owned())
    }

    pub fn github_environment_for(&self, name: &str) -> String {
        self.github_environment
            .clone()
            .unwrap_or_else(|| name.to_owned())
    }

    pub fn is_production(&self, name: &str) -> bool {
        self.production.unwrap_or(name == "production")
    }
}

/// Names usable in tags: history tags are `NAME-<timestamp>`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// What serde cannot check: names, tags, ages, signature policies, `after:` targets and cycles.
pub fn validate(loaded: &Loaded) -> Result<(), ConfigError> {
    let envs = &loaded.config.environments;
    for (name, env) in envs {
        let at = |keys: &[&str], message: String| {
            let mut path = vec!["environments", name.as_str()];
            path.extend_from_slice(keys);
            loaded.error_at(&path, keys.is_empty(), message)
        };
        if !valid_name(name) {
            return Err(at(
                &[],
                format!("environment name `{name}`: use letters, digits, `-`, `_`, `.`"),
            ));
        }
        let tag = env.tag_for(name);
        if let Err(e) = crate::oci::reference::validate_tag(&tag) {
            return Err(at(&["tag"], e.to_string()));
        }
        if let Some(repo) = &env.repository {
            let ok = crate::oci::reference::Reference::parse(repo)
                .is_ok_and(|r| r.tag.is_none() && r.digest.is_none());
            if !ok {
                return Err(at(
                    &["repository"],
                    format!("repository `{repo}`: expected HOST/PATH without a tag or digest"),
                ));
            }
        }
        if let Some(sig) = &env.require.signature
            && let Err(e) = sig.policy()
        {
            return Err(at(&["require", "signature"], e));
        }
        if let Some(scan) = &env.require.scan
            && let Err(e) = parse_age(&scan.max_age)
        {
            return Err(at(&["require", "scan", "max-age"], e));
        }
        if let Some(after) = &env.after
            && !envs.contains_key(after)
        {
            return Err(at(
                &["after"],
                format!("after `{after}`: no environment of that name"),
            ));
        }
    }
    if let Some(name) = cycle(envs) {
        return Err(loaded.error_at(
            &["environments", name.as_str(), "after"],
            false,
            format!("`after:` makes a cycle through `{name}`: promotion would never start"),
        ));
    }
    Ok(())
}

/// The first environment whose `after:` chain comes back to itself.
fn cycle(envs: &BTreeMap<String, Environment>) -> Option<String> {
    for start in envs.keys() {
        let mut at = start;
        for _ in 0..=envs.len() {
            match envs.get(at).and_then(|e| e.after.as_ref()) {
                Some(next) if next == start => return Some(start.clone()),
                Some(next) => at = next,
                None => break,
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::test_support::line_of;

    fn load(text: &str) -> Result<Loaded, ConfigError> {
        crate::config::test_support::load(text, validate)
    }

    const ISSUE: &str = "environments:
  staging:
    repository: ghcr.io/acme/api
    tag: staging
    require:
      signature: { github-workflow: acme/api/.github/workflows/release.yml@refs/tags/v* }
      sbom: true
      scan: { max-age: 7d }
    github-environment: staging
    url: https://staging.example.com
  production:
    after: staging
    tag: production
    require: { signature: { key: cosign.pub }, sbom: true, scan: { max-age: 1d } }
";

    #[test]
    fn the_issue_example_loads() {
        let loaded = load(ISSUE).expect("valid");
        let envs = &loaded.config.environments;
        let prod = &envs["production"];
        assert_eq!(prod.after.as_deref(), Some("staging"));
        assert!(prod.is_production("production"));
        assert_eq!(
            prod.require.signature.as_ref().map(|s| s.policy()),
            Some(Ok(SignaturePolicy::Key("cosign.pub".into())))
        );
        let staging = &envs["staging"];
        assert!(!staging.is_production("staging"));
        assert!(matches!(
            staging.require.signature.as_ref().map(|s| s.policy()),
            Some(Ok(SignaturePolicy::GithubWorkflow(_)))
        ));
        assert_eq!(
            parse_age(&staging.require.scan.as_ref().expect("scan").max_age),
            Ok(7 * 86_400)
        );
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("1d"), Ok(86_400));
        assert_eq!(parse_age("12h"), Ok(43_200));
        assert_eq!(parse_age("30m"), Ok(1_800));
        assert_eq!(parse_age("1d 12h"), Ok(129_600));
        for bad in [
            "",
            "0d",
            "-1d",
            "7",
            "d",
            "7x",
            "1y",
            "\n",
            "99999999999999d",
        ] {
            assert!(parse_age(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invalid_environments_point_at_their_line() {
        let cases = [
            (
                "environments:\n  staging:\n    require:\n      scan: { max-age: soon }\n",
                4,
                "max-age",
            ),
            ("environments:\n  staging:\n    after: qa\n", 3, "qa"),
            (
                "environments:\n  staging:\n    tag: \"bad tag\"\n",
                3,
                "tag",
            ),
            (
                "environments:\n  staging:\n    require:\n      signature: { key: a.pub, identity: x }\n",
                4,
                "exactly one",
            ),
            (
                "environments:\n  staging:\n    require:\n      signature: { identity: x }\n",
                4,
                "issuer",
            ),
            (
                "environments:\n  staging:\n    repository: ghcr.io/a/b:latest\n",
                3,
                "repository",
            ),
            ("environments:\n  staging:\n    colour: red\n", 3, "colour"),
            (
                "environments:\n  a:\n    after: b\n  b:\n    after: a\n",
                3,
                "cycle",
            ),
            ("environments:\n  a:\n    after: a\n", 3, "cycle"),
            ("environments:\n  \"-x\":\n    tag: x\n", 2, "name"),
        ];
        for (text, want, needle) in cases {
            let (line, message) = line_of(load(text).expect_err(text));
            assert_eq!(line, want, "{text}: {message}");
            assert!(message.contains(needle), "{text}: {message}");
        }
    }
}
