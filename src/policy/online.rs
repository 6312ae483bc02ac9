//! What the online rules need to know, fetched once per run before any rule looks: the refs
//! of every repository a SHA pin names (Git, no token), and whether each pinned commit is
//! reachable from a branch or tag (Git for tips, the REST compare API beyond them).

use std::collections::HashMap;

use secrecy::SecretString;

use crate::github::api::{ApiClient, ApiError, Comparison};
use crate::github::git::client::GitClient;
use crate::github::git::refs::RefMap;
use crate::inputs::document::Document;
use crate::pin::resolve::version;

/// How many branches and tags a commit is compared against before giving up.
const MAX_COMPARES: usize = 60;

/// Where GitHub is and how to ask it.
pub struct Endpoints {
    /// `GITHUB_SERVER_URL`.
    pub server_url: String,
    /// `GITHUB_API_URL`.
    pub api_url: String,
    pub token: Option<SecretString>,
}

impl Endpoints {
    /// The clients, built only when a run has something to ask.
    fn clients(&self) -> Result<(GitClient, ApiClient), String> {
        let git = GitClient::new(&self.server_url).map_err(|e| e.to_string())?;
        let api = ApiClient::new(&self.api_url, self.token.clone()).map_err(|e| e.to_string())?;
        Ok((git, api))
    }
}

/// Is a pinned commit on the repository it names?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The tip of this branch or tag.
    Tip(String),
    /// An ancestor of this branch or tag.
    Reachable(String),
    /// Not reachable from any branch or tag compared.
    Impostor,
    /// Could not be decided, and why.
    Unknown(String),
}

/// Facts gathered for one run; the cache the online rules read.
#[derive(Debug, Default)]
pub struct Facts {
    pub refs: HashMap<(String, String), Result<RefMap, String>>,
    pub reach: HashMap<(String, String, String), Reach>,
    pub notes: Vec<String>,
}

impl Facts {
    pub fn refs(&self, owner: &str, repo: &str) -> Option<&RefMap> {
        self.refs
            .get(&(owner.to_owned(), repo.to_owned()))?
            .as_ref()
            .ok()
    }

    pub fn reach(&self, owner: &str, repo: &str, sha: &str) -> Option<&Reach> {
        self.reach
            .get(&(owner.to_owned(), repo.to_owned(), sha.to_owned()))
    }
}

/// Every (owner, repo, sha) pinned by full SHA in `docs`.
fn sha_pins(docs: &[&Document]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for doc in docs {
        for uses in &doc.uses {
            if let Some((owner, repo, sha)) = uses.sha_pin() {
                let key = (owner.to_owned(), repo.to_owned(), sha.to_ascii_lowercase());
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
    }
    out
}

pub async fn gather(docs: &[&Document], endpoints: &Endpoints) -> Facts {
    let pins = sha_pins(docs);
    let mut facts = Facts::default();
    if pins.is_empty() {
        return facts;
    }
    let (git, api) = match endpoints.clients() {
        Ok(clients) => clients,
        Err(e) => {
            facts.notes.push(format!("online rules skipped: {e}"));
            return facts;
        }
    };
    let mut repos: Vec<(String, String)> = pins
        .iter()
        .map(|(o, r, _)| (o.clone(), r.clone()))
        .collect();
    repos.sort();
    repos.dedup();
    let mut set = tokio::task::JoinSet::new();
    for (owner, repo) in repos {
        let git = git.clone();
        set.spawn(async move {
            let refs = git.refs(&owner, &repo).await.map_err(|e| e.to_string());
            ((owner, repo), refs)
        });
    }
    while let Some(Ok((key, refs))) = set.join_next().await {
        facts.refs.insert(key, refs);
    }
    if let Some(Err(e)) = facts.refs.values().find(|r| r.is_err()) {
        facts.notes.push(format!(
            "online rules could not read some repositories: {e}"
        ));
    }

    let mut set = tokio::task::JoinSet::new();
    let mut needs_token = false;
    for (owner, repo, sha) in pins {
        let Some(Ok(refs)) = facts.refs.get(&(owner.clone(), repo.clone())) else {
            continue;
        };
        if let Some(name) = tip_name(refs, &sha) {
            facts.reach.insert((owner, repo, sha), Reach::Tip(name));
            continue;
        }
        if !api.has_token() {
            needs_token = true;
            let why = "not a branch or tag tip; reachability needs GITHUB_TOKEN".to_owned();
            facts.reach.insert((owner, repo, sha), Reach::Unknown(why));
            continue;
        }
        let bases = bases(refs);
        let truncated = refs.heads.len() + refs.tags.len() > bases.len();
        let api = api.clone();
        set.spawn(async move {
            let mut reach = reachability(&api, &owner, &repo, &sha, &bases).await;
            if reach == Reach::Impostor && truncated {
                let n = bases.len();
                reach = Reach::Unknown(format!(
                    "not reachable from any of the {n} {} compared (branches and newest tags)",
                    crate::report::plural(n, "ref")
                ));
            }
            ((owner, repo, sha), reach)
        });
    }
    while let Some(Ok((key, reach))) = set.join_next().await {
        facts.reach.insert(key, reach);
    }
    if needs_token {
        facts.notes.push(
            "impostor-commit checked only branch and tag tips: set GITHUB_TOKEN to check ancestry through the API".into(),
        );
    }
    facts
}

fn tip_name(refs: &RefMap, sha: &str) -> Option<String> {
    refs.heads
        .iter()
        .map(|(n, s)| (format!("branch {n}"), s))
        .chain(refs.tags.iter().map(|(n, s)| (format!("tag {n}"), s)))
        .find(|(_, s)| s.as_str() == sha)
        .map(|(n, _)| n)
}

/// Branches first (few, and where most pins come from), then version tags newest first.
fn bases(refs: &RefMap) -> Vec<String> {
    let mut tags: Vec<(Vec<u64>, &String)> = refs
        .tags
        .keys()
        .filter_map(|t| Some((version(t)?, t)))
        .collect();
    tags.sort_by(|a, b| b.0.cmp(&a.0));
    refs.heads
        .keys()
        .map(|h| format!("refs/heads/{h}"))
        .chain(tags.into_iter().map(|(_, t)| format!("refs/tags/{t}")))
        .take(MAX_COMPARES)
        .collect()
}

async fn reachability(
    api: &ApiClient,
    owner: &str,
    repo: &str,
    sha: &str,
    bases: &[String],
) -> Reach {
    for base in bases {
        let short = base
            .strip_prefix("refs/heads/")
            .or_else(|| base.strip_prefix("refs/tags/"))
            .unwrap_or(base);
        match api.compare(owner, repo, short, sha).await {
            Ok(Comparison::Behind | Comparison::Identical) => {
                return Reach::Reachable(short.to_owned());
            }
            Ok(Comparison::Ahead | Comparison::Diverged) => {}
            // GitHub answers 404 when the commit is not in the repository's network at all.
            Err(ApiError::NotFound { .. }) => return Reach::Impostor,
            Err(e) => return Reach::Unknown(e.to_string()),
        }
    }
    if bases.is_empty() {
        Reach::Unknown("the repository has no branches or tags".into())
    } else {
        Reach::Impostor
    }
}
