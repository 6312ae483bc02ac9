//! Who may have signed: the identity policy a keyless signature's certificate must meet.
//! `--certificate-identity` (exact SAN), `--certificate-identity-regexp` (anchored: the whole
//! SAN must match, unlike cosign's substring match) and `--certificate-oidc-issuer` (exact),
//! or the shorthand `--github-workflow OWNER/REPO/.github/workflows/FILE[@REF-GLOB]`, which
//! builds the SAN Fulcio gives GitHub Actions (`https://github.com/` + the token's
//! `job_workflow_ref`, so a reusable workflow is named by its own file) and GitHub's issuer.
//! Knows nothing of certificates: it judges the SAN and issuer sigstore-verify extracted.

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;

/// The OIDC issuer of GitHub Actions' ID tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const GITHUB_SERVER: &str = "https://github.com";

/// How the certificate's SAN must look.
#[derive(Clone, Debug)]
pub enum Identity {
    Exact(String),
    /// Anchored at both ends.
    Regex(Regex),
    /// `https://github.com/OWNER/REPO/.github/workflows/FILE@` followed by a ref the glob
    /// matches.
    Workflow {
        prefix: String,
        refs: GlobMatcher,
    },
}

/// The identity and the issuer a signature must carry.
#[derive(Clone, Debug)]
pub struct Policy {
    pub identity: Identity,
    pub issuer: String,
}

/// What the flags said, before they are checked.
#[derive(Clone, Debug, Default)]
pub struct Flags<'a> {
    pub identity: Option<&'a str>,
    pub identity_regexp: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub github_workflow: Option<&'a str>,
}

impl Flags<'_> {
    /// True when no identity flag was given at all.
    pub fn is_empty(&self) -> bool {
        self.identity.is_none()
            && self.identity_regexp.is_none()
            && self.issuer.is_none()
            && self.github_workflow.is_none()
    }
}

/// Why a certificate does not meet the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    Identity { expected: String, actual: String },
    Issuer { expected: String, actual: String },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Identity { expected, actual } => write!(
                f,
                "identity mismatch: the certificate names `{actual}`, the policy wants {expected}"
            ),
            Mismatch::Issuer { expected, actual } => write!(
                f,
                "issuer mismatch: the certificate was issued for `{actual}`, the policy wants `{expected}`"
            ),
        }
    }
}

impl Policy {
    /// Builds the policy from the flags; `Err` says which flag is wrong (usage, exit 2).
    pub fn from_flags(flags: &Flags<'_>) -> Result<Self, String> {
        if let Some(w) = flags.github_workflow {
            if flags.identity.is_some() || flags.identity_regexp.is_some() {
                return Err("--github-workflow builds the identity itself; drop --certificate-identity[-regexp]".into());
            }
            let identity = github_workflow(w)?;
            let issuer = flags.issuer.unwrap_or(GITHUB_ISSUER).to_owned();
            return Ok(Policy { identity, issuer });
        }
        let identity = match (flags.identity, flags.identity_regexp) {
            (Some(_), Some(_)) => {
                return Err(
                    "give --certificate-identity or --certificate-identity-regexp, not both".into(),
                );
            }
            (Some(exact), None) => Identity::Exact(exact.to_owned()),
            (None, Some(re)) => Identity::Regex(
                Regex::new(&format!("^(?:{re})$"))
                    .map_err(|e| format!("--certificate-identity-regexp `{re}`: {e}"))?,
            ),
            (None, None) => {
                return Err("keyless verification needs --certificate-identity[-regexp] or --github-workflow (or --key for a key-based signature)".into());
            }
        };
        let issuer = flags
            .issuer
            .ok_or("--certificate-oidc-issuer is required with --certificate-identity[-regexp]")?
            .to_owned();
        Ok(Policy { identity, issuer })
    }

    /// `Ok` when the certificate's SAN and issuer meet the policy.
    pub fn check(&self, san: &str, issuer: &str) -> Result<(), Mismatch> {
        if issuer != self.issuer {
            return Err(Mismatch::Issuer {
                expected: self.issuer.clone(),
                actual: issuer.to_owned(),
            });
        }
        let ok = match &self.identity {
            Identity::Exact(e) => san == e,
            Identity::Regex(re) => re.is_match(san),
            Identity::Workflow { prefix, refs } => san
                .strip_prefix(prefix.as_str())
                .is_some_and(|r| !r.is_empty() && refs.is_match(r)),
        };
        if ok {
            Ok(())
        } else {
            Err(Mismatch::Identity {
                expected: self.describe_identity(),
                actual: san.to_owned(),
            })
        }
    }

    /// The identity rule in words, for messages.
    pub fn describe_identity(&self) -> String {
        match &self.identity {
            Identity::Exact(e) => format!("`{e}`"),
            Identity::Regex(re) => format!("a match of `{}`", re.as_str()),
            Identity::Workflow { prefix, refs } => {
                format!("`{prefix}` at a ref matching `{}`", refs.glob().glob())
            }
        }
    }
}

/// `OWNER/REPO/.github/workflows/FILE[@REF-GLOB]` → the SAN rule.
fn github_workflow(spec: &str) -> Result<Identity, String> {
    let bad = |why: &str| {
        format!(
            "--github-workflow `{spec}`: {why} (expected OWNER/REPO/.github/workflows/FILE[@REF-GLOB], e.g. acme/app/.github/workflows/release.yml@refs/tags/v*)"
        )
    };
    let (path, glob) = match spec.split_once('@') {
        Some((p, g)) if !g.is_empty() => (p, g),
        Some(_) => return Err(bad("empty ref after @")),
        None => (spec, "**"),
    };
    let parts: Vec<&str> = path.split('/').collect();
    let [owner, repo, ".github", "workflows", file] = parts.as_slice() else {
        return Err(bad("not a workflow path"));
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !name_ok(owner) || !name_ok(repo) {
        return Err(bad(
            "owner and repository are GitHub names ([A-Za-z0-9._-])",
        ));
    }
    if !name_ok(file) || !(file.ends_with(".yml") || file.ends_with(".yaml")) {
        return Err(bad("the workflow file is a .yml or .yaml name"));
    }
    if glob.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("the ref glob has whitespace or control characters"));
    }
    let refs = GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map_err(|e| bad(&format!("ref glob: {e}")))?
        .compile_matcher();
    Ok(Identity::Workflow {
        prefix: format!("{GITHUB_SERVER}/{owner}/{repo}/.github/workflows/{file}@"),
        refs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAN: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3";

    fn wf(spec: &str) -> Policy {
        Policy::from_flags(&Flags {
            github_workflow: Some(spec),
            ..Flags::default()
        })
        .expect("policy")
    }

    #[test]
    fn github_workflow_builds_san_and_issuer() {
        let p = wf("acme/app/.github/workflows/release.yml@refs/tags/v*");
        assert_eq!(p.issuer, GITHUB_ISSUER);
        p.check(SAN, GITHUB_ISSUER).expect("matches");
        assert!(matches!(
            p.check(SAN, "https://accounts.google.com"),
            Err(Mismatch::Issuer { .. })
        ));
        let branch = SAN.replace("refs/tags/v1.2.3", "refs/heads/main");
        assert!(matches!(
            p.check(&branch, GITHUB_ISSUER),
            Err(Mismatch::Identity { .. })
        ));
        // Another repository's or workflow's certificate never matches.
        for other in [
            SAN.replace("acme/app", "acme/app2"),
            SAN.replace("release.yml", "release.yml.evil"),
            SAN.replace("https://github.com/", "https://github.com.evil/"),
        ] {
            assert!(p.check(&other, GITHUB_ISSUER).is_err(), "{other}");
        }
    }

    #[test]
    fn github_workflow_without_ref_takes_any_ref_but_not_none() {
        let p = wf("acme/app/.github/workflows/release.yml");
        p.check(SAN, GITHUB_ISSUER).expect("any ref");
        let none = "https://github.com/acme/app/.github/workflows/release.yml@";
        assert!(p.check(none, GITHUB_ISSUER).is_err());
    }

    #[test]
    fn github_workflow_refuses_malformed_specs() {
        for bad in [
            "acme/app",
            "acme/app/.github/workflows/",
            "acme/app/workflows/release.yml",
            "acme/../.github/workflows/release.yml",
            "acme/app/.github/workflows/release.sh",
            "acme/app/.github/workflows/release.yml@",
            "acme/app/.github/workflows/release.yml@refs/tags/v1\n::x",
            "acme/app/.github/workflows/release.yml@[",
        ] {
            let r = Policy::from_flags(&Flags {
                github_workflow: Some(bad),
                ..Flags::default()
            });
            assert!(r.is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn regexp_is_anchored_and_exact_is_exact() {
        let p = Policy::from_flags(&Flags {
            identity_regexp: Some("https://github.com/acme/.*"),
            issuer: Some(GITHUB_ISSUER),
            ..Flags::default()
        })
        .expect("policy");
        p.check(SAN, GITHUB_ISSUER).expect("matches");
        assert!(
            p.check(&format!("https://evil.example/{SAN}"), GITHUB_ISSUER)
                .is_err()
        );
        let e = Policy::from_flags(&Flags {
            identity: Some(SAN),
            issuer: Some(GITHUB_ISSUER),
            ..Flags::default()
        })
        .expect("policy");
        e.check(SAN, GITHUB_ISSUER).expect("exact");
        assert!(e.check(&format!("{SAN}x"), GITHUB_ISSUER).is_err());
    }

    #[test]
    fn identity_needs_an_issuer_and_one_form() {
        for flags in [
            Flags {
                identity: Some(SAN),
                ..Flags::default()
            },
            Flags {
                identity: Some(SAN),
                identity_regexp: Some(".*"),
                issuer: Some(GITHUB_ISSUER),
                ..Flags::default()
            },
            Flags {
                issuer: Some(GITHUB_ISSUER),
                ..Flags::default()
            },
            Flags {
                identity_regexp: Some("("),
                issuer: Some(GITHUB_ISSUER),
                ..Flags::default()
            },
        ] {
            assert!(Policy::from_flags(&flags).is_err(), "{flags:?}");
        }
    }
}
