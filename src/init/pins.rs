//! The `uses:` references `cicd init` writes, every one pinned by commit SHA with its version in
//! a trailing comment: the SHAs shipped in `templates/actions.txt` (`--offline`), or each
//! action's ref resolved again over Git smart HTTP with `cicd pin`'s resolver. The cicd action
//! itself is named by `--action OWNER/NAME[@SHA]`.

use std::collections::BTreeMap;

use crate::github::git::client::GitClient;
use crate::github::git::refs::is_oid;

use super::InitError;

const SHIPPED: &str = include_str!("../../templates/actions.txt");

/// One shipped action: where it lives, the ref to resolve online, and the offline pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    /// `owner/repo[/path]`.
    pub uses: String,
    pub online_ref: String,
    pub version: String,
    pub sha: String,
}

impl Shipped {
    fn owner_repo(&self) -> (String, String) {
        let mut parts = self.uses.splitn(3, '/');
        let owner = parts.next().unwrap_or_default().to_owned();
        let repo = parts.next().unwrap_or_default().to_owned();
        (owner, repo)
    }

    /// The template's name for it: the last path segment, `-action` dropped, `_` for `-`.
    pub fn key(&self) -> String {
        let last = self.uses.rsplit('/').next().unwrap_or_default();
        last.trim_end_matches("-action").replace('-', "_")
    }
}

/// `templates/actions.txt`, parsed; a malformed line is a build defect the unit tests catch.
pub fn shipped() -> Result<Vec<Shipped>, InitError> {
    SHIPPED
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, line)| {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [uses, online_ref, version, sha] if is_oid(sha) && uses.contains('/') => {
                    Ok(Shipped {
                        uses: (*uses).to_owned(),
                        online_ref: (*online_ref).to_owned(),
                        version: (*version).to_owned(),
                        sha: (*sha).to_owned(),
                    })
                }
                _ => Err(InitError::Template(format!(
                    "templates/actions.txt:{}: expected `owner/repo REF VERSION SHA`",
                    n + 1
                ))),
            }
        })
        .collect()
}

/// `--action OWNER/NAME[@SHA]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionArg {
    pub repository: String,
    pub sha: Option<String>,
}

impl std::str::FromStr for ActionArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (repository, sha) = match s.split_once('@') {
            Some((r, sha)) if is_oid(sha) => (r, Some(sha.to_owned())),
            Some(_) => {
                return Err(format!(
                    "`{s}`: the part after @ must be a 40-character commit SHA"
                ));
            }
            None => (s, None),
        };
        let ok = repository.split('/').count() == 2
            && repository.split('/').all(|p| {
                !p.is_empty()
                    && p != ".."
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        if !ok {
            return Err(format!("`{s}` is not OWNER/NAME[@SHA]"));
        }
        Ok(Self {
            repository: repository.to_owned(),
            sha,
        })
    }
}

/// Template key → `owner/repo[/path]@<sha> # <version>`.
pub type Pins = BTreeMap<String, String>;

/// The pins with no network: the shipped SHAs, and the cicd action at the SHA given.
pub fn offline(action: &ActionArg) -> Result<Pins, InitError> {
    let sha = action.sha.as_ref().ok_or_else(|| {
        InitError::Usage(format!(
            "--offline needs the cicd action's commit: --action {}@<40-character SHA>",
            action.repository
        ))
    })?;
    let mut pins = Pins::new();
    for s in shipped()? {
        pins.insert(s.key(), format!("{}@{} # {}", s.uses, s.sha, s.version));
    }
    pins.insert("cicd".into(), cicd_pin(&action.repository, sha));
    Ok(pins)
}

/// Every shipped action's ref (and the cicd action's `v<version>` tag, unless a SHA was
/// given) resolved at `server_url`, as `cicd pin` resolves them.
pub fn online(action: &ActionArg, server_url: &str) -> Result<Pins, InitError> {
    let client = GitClient::new(server_url).map_err(|e| InitError::Resolve(e.to_string()))?;
    let shipped = shipped()?;
    let mut repos: Vec<(String, String)> = shipped.iter().map(Shipped::owner_repo).collect();
    let cicd_repo = action
        .repository
        .split_once('/')
        .map(|(o, r)| (o.to_owned(), r.to_owned()));
    if action.sha.is_none() {
        repos.extend(cicd_repo.clone());
    }
    repos.sort();
    repos.dedup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| InitError::Resolve(e.to_string()))?;
    let refs = runtime.block_on(crate::pin::actions::fetch_all(&client, repos));
    let lookup = |owner_repo: &(String, String), git_ref: &str| {
        let map = refs
            .get(owner_repo)
            .ok_or_else(|| {
                InitError::Resolve(format!("{}/{} was not asked", owner_repo.0, owner_repo.1))
            })?
            .as_ref()
            .map_err(|f| InitError::Resolve(f.reason.clone()))?;
        crate::pin::resolve::resolve(map, git_ref).ok_or_else(|| {
            InitError::Resolve(format!(
                "{}/{} has no tag or branch `{git_ref}` at {server_url}",
                owner_repo.0, owner_repo.1
            ))
        })
    };
    let mut pins = Pins::new();
    for s in &shipped {
        let pin = lookup(&s.owner_repo(), &s.online_ref)?;
        pins.insert(s.key(), format!("{}@{} # {}", s.uses, pin.sha, pin.comment));
    }
    let sha = match (&action.sha, &cicd_repo) {
        (Some(sha), _) => sha.clone(),
        (None, Some(repo)) => lookup(repo, &format!("v{}", env!("CARGO_PKG_VERSION")))?.sha,
        (None, None) => return Err(InitError::Usage("--action is not OWNER/NAME".into())),
    };
    pins.insert("cicd".into(), cicd_pin(&action.repository, &sha));
    Ok(pins)
}

fn cicd_pin(repository: &str, sha: &str) -> String {
    format!("{repository}@{sha} # v{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_with_a_key_per_action() {
        let keys: Vec<String> = shipped()
            .expect("parses")
            .iter()
            .map(Shipped::key)
            .collect();
        assert_eq!(
            keys,
            [
                "checkout",
                "upload_artifact",
                "download_artifact",
                "upload_sarif",
                "trivy"
            ]
        );
    }

    #[test]
    fn action_arg_is_owner_name_and_an_optional_full_sha() {
        let sha = "a".repeat(40);
        let a: ActionArg = format!("acme/cicd@{sha}").parse().expect("valid");
        assert_eq!(a.sha.as_deref(), Some(sha.as_str()));
        assert!("acme/cicd".parse::<ActionArg>().is_ok());
        for bad in [
            "acme",
            "acme/cicd@v1",
            "acme/../x",
            "a/b/c",
            "acme/ci cd",
            "acme/cicd@abc",
        ] {
            assert!(bad.parse::<ActionArg>().is_err(), "{bad}");
        }
    }
}
