//! GitHub's workflow lockfile (`.github/workflows/actions.lock`, `gh actions-lock`, schema
//! v0.0.2/v0.0.3) kept consistent when `cicd pin` rewrites a workflow: the locked commit is
//! the one pinned (so what runs does not change), and the workflow's entries are renamed from
//! `owner/repo@tag` to `owner/repo@<sha>` with ids and transitive `uses` carried over.
//! Written back in the tool's deterministic layout (sorted keys, single-quoted values).
//! Anything this model does not know leaves the file untouched.

use std::collections::BTreeMap;

use crate::inputs::yaml::{self, Node};

pub const FILE_NAME: &str = "actions.lock";
/// A lock file lists one line per action reference; a larger one is left alone, not read on.
pub const MAX_BYTES: u64 = 16 << 20;
const VERSIONS: [&str; 2] = ["v0.0.2", "v0.0.3"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    header: Vec<String>,
    version: String,
    pub workflows: BTreeMap<String, Vec<String>>,
    pub dependencies: BTreeMap<String, Dependency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependency {
    pub git_ref: Option<String>,
    /// `sha1-<hex>`.
    pub commit: Option<String>,
    pub owner_id: Option<String>,
    pub repo_id: Option<String>,
    pub uses: Vec<String>,
}

impl Lockfile {
    /// Parses a lockfile; `Err` says why cicd will not rewrite it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let docs = yaml::parse(text).map_err(|e| format!("not valid YAML: {e}"))?;
        let [root] = docs.as_slice() else {
            return Err("expected one YAML document".into());
        };
        let mut lock = Lockfile {
            header: text
                .lines()
                .take_while(|l| l.starts_with('#'))
                .map(str::to_owned)
                .collect(),
            version: String::new(),
            workflows: BTreeMap::new(),
            dependencies: BTreeMap::new(),
        };
        for (key, value) in root.entries() {
            match key {
                "version" => lock.version = value.as_str().unwrap_or_default().to_owned(),
                "workflows" => {
                    for (path, list) in value.entries() {
                        lock.workflows.insert(path.to_owned(), strings(list)?);
                    }
                }
                "dependencies" => {
                    for (pin, entry) in value.entries() {
                        lock.dependencies.insert(pin.to_owned(), dependency(entry)?);
                    }
                }
                other => return Err(format!("unknown key `{other}`")),
            }
        }
        if !VERSIONS.contains(&lock.version.as_str()) {
            return Err(format!(
                "schema `{}` is not one cicd knows ({})",
                lock.version,
                VERSIONS.join(", ")
            ));
        }
        Ok(lock)
    }

    /// The commit locked for `pin` (`owner/repo@ref`), as hex.
    pub fn locked_commit(&self, pin: &str) -> Option<&str> {
        self.dependencies
            .get(pin)?
            .commit
            .as_deref()?
            .strip_prefix("sha1-")
    }

    /// Records that `workflow` now uses `to` (`owner/repo@<sha>`, tag `tag`) where it used `from`.
    pub fn rename(&mut self, workflow: &str, from: &str, to: &str, tag: &str) {
        if let Some(list) = self.workflows.get_mut(workflow) {
            for item in list.iter_mut().filter(|i| *i == from) {
                *item = to.to_owned();
            }
            list.sort();
            list.dedup();
        }
        if let Some(old) = self.dependencies.get(from).cloned() {
            self.dependencies
                .entry(to.to_owned())
                .or_insert_with(|| Dependency {
                    git_ref: Some(tag.to_owned()),
                    ..old
                });
        }
        let still_used = self.workflows.values().any(|l| l.iter().any(|i| i == from))
            || self
                .dependencies
                .values()
                .any(|d| d.uses.iter().any(|u| u == from));
        if !still_used {
            self.dependencies.remove(from);
        }
    }

    /// The deterministic layout `gh actions-lock` writes, header comments kept.
    pub fn render(&self) -> String {
        let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut out = String::new();
        for line in &self.header {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!("version: {}\n", q(&self.version)));
        if !self.workflows.is_empty() {
            out.push_str("workflows:\n");
            for (path, list) in &self.workflows {
                out.push_str(&format!("    {}:\n", q(path)));
                let mut list = list.clone();
                list.sort();
                for item in list {
                    out.push_str(&format!("        - {}\n", q(&item)));
                }
            }
        }
        if !self.dependencies.is_empty() {
            out.push_str("dependencies:\n");
            for (pin, d) in &self.dependencies {
                out.push_str(&format!("    {}:\n", q(pin)));
                if let Some(r) = &d.git_ref {
                    out.push_str(&format!("        ref: {}\n", q(r)));
                }
                if let Some(c) = &d.commit {
                    out.push_str(&format!("        commit: {}\n", q(c)));
                }
                if let Some(id) = &d.owner_id {
                    out.push_str(&format!("        owner_id: {id}\n"));
                }
                if let Some(id) = &d.repo_id {
                    out.push_str(&format!("        repo_id: {id}\n"));
                }
                if !d.uses.is_empty() {
                    out.push_str("        uses:\n");
                    let mut uses = d.uses.clone();
                    uses.sort();
                    for u in uses {
                        out.push_str(&format!("            - {}\n", q(&u)));
                    }
                }
            }
        }
        out
    }
}

fn strings(node: &Node) -> Result<Vec<String>, String> {
    node.as_seq()
        .ok_or("expected a list")?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "expected a string".to_owned())
        })
        .collect()
}

fn dependency(node: &Node) -> Result<Dependency, String> {
    let mut d = Dependency::default();
    for (key, value) in node.entries() {
        let text = || value.as_str().map(str::to_owned);
        match key {
            "ref" => d.git_ref = text(),
            "commit" => d.commit = text(),
            "owner_id" => d.owner_id = text(),
            "repo_id" => d.repo_id = text(),
            "uses" => d.uses = strings(value)?,
            other => return Err(format!("unknown dependency field `{other}`")),
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    /// The layout gh actions-lock writes (its repository's own lockfile, trimmed).
    fn sample() -> String {
        format!(
            "# This file is machine-generated by `gh actions-lock`.\n# Do not edit by hand; run `gh actions-lock` to update.\nversion: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n        - 'actions/checkout@v6'\n        - 'actions/setup-go@v6'\n    '.github/workflows/release.yml':\n        - 'actions/checkout@v6'\ndependencies:\n    'actions/checkout@v6':\n        ref: 'v6'\n        commit: 'sha1-{A}'\n        owner_id: 1\n        repo_id: 1\n    'actions/setup-go@v6':\n        ref: 'v6'\n        commit: 'sha1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'\n        owner_id: 2\n        repo_id: 2\n        uses:\n            - 'actions/cache@v4'\n"
        )
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let lock = Lockfile::parse(&sample()).expect("parses");
        assert_eq!(lock.render(), sample());
        assert_eq!(lock.locked_commit("actions/checkout@v6"), Some(A));
    }

    #[test]
    fn rename_keeps_shared_entries() {
        let mut lock = Lockfile::parse(&sample()).expect("parses");
        let to = format!("actions/checkout@{A}");
        lock.rename(
            ".github/workflows/ci.yml",
            "actions/checkout@v6",
            &to,
            "v6.0.2",
        );
        assert!(
            lock.dependencies.contains_key("actions/checkout@v6"),
            "release.yml still uses it"
        );
        assert_eq!(lock.dependencies[&to].git_ref.as_deref(), Some("v6.0.2"));
        assert_eq!(lock.dependencies[&to].owner_id.as_deref(), Some("1"));
        lock.rename(
            ".github/workflows/release.yml",
            "actions/checkout@v6",
            &to,
            "v6.0.2",
        );
        assert!(!lock.dependencies.contains_key("actions/checkout@v6"));
        assert_eq!(
            lock.workflows[".github/workflows/release.yml"],
            std::slice::from_ref(&to)
        );
    }

    #[test]
    fn unknown_shapes_are_left_alone() {
        assert!(Lockfile::parse("version: 'v9'\n").is_err());
        assert!(Lockfile::parse("version: 'v0.0.2'\nextra: 1\n").is_err());
        assert!(
            Lockfile::parse("version: 'v0.0.2'\ndependencies:\n  'a@b':\n    surprise: 1\n")
                .is_err()
        );
    }
}
