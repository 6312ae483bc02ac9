//! What a `uses:` value points at, and what kind of git ref pins it.

/// The target of a `uses:` key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionRef {
    /// `./path`: code from the same repository at the same commit; `$/path`: from the
    /// repository holding the workflow, at the workflow's commit (a reusable workflow's own).
    Local(String),
    /// `docker://image`: a container image, checked by the image rules.
    Docker(String),
    /// `owner/repo[/path]@ref`.
    Repository {
        owner: String,
        repo: String,
        path: Option<String>,
        git_ref: Option<String>,
    },
    /// Something GitHub would not accept, kept verbatim.
    Invalid(String),
}

/// How a git ref pins code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// A full 40-hex (SHA-1) or 64-hex (SHA-256) commit id: immutable.
    FullSha,
    /// A 7–39 hex abbreviation, which GitHub refuses and which is ambiguous anyway.
    ShortSha,
    /// Looks like a version tag (`v4`, `v4.1.2`, `1.2`): movable by whoever can push tags.
    Tag,
    /// Anything else: a branch (`main`, `releases/v1`) or an unknown ref, moving all the time.
    Branch,
}

impl ActionRef {
    pub fn parse(raw: &str) -> Self {
        let s = raw.trim();
        if s.starts_with("./") || s == "." || s.starts_with("$/") {
            return Self::Local(s.to_owned());
        }
        if let Some(image) = s.strip_prefix("docker://") {
            return Self::Docker(image.to_owned());
        }
        let (target, git_ref) = match s.split_once('@') {
            Some((t, r)) => (t, Some(r.to_owned())),
            None => (s, None),
        };
        let mut parts = target.splitn(3, '/');
        let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
            return Self::Invalid(s.to_owned());
        };
        let valid = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !valid(owner) || !valid(repo) || git_ref.as_deref() == Some("") {
            return Self::Invalid(s.to_owned());
        }
        Self::Repository {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            path: parts.next().filter(|p| !p.is_empty()).map(str::to_owned),
            git_ref,
        }
    }
}

/// Branch names common enough to call a branch even though any name could be a tag.
const BRANCHES: &[&str] = &[
    "main", "master", "develop", "dev", "trunk", "next", "HEAD", "stable",
];

pub fn classify(git_ref: &str) -> RefKind {
    let hex = !git_ref.is_empty() && git_ref.chars().all(|c| c.is_ascii_hexdigit());
    if hex && (git_ref.len() == 40 || git_ref.len() == 64) {
        return RefKind::FullSha;
    }
    if BRANCHES.contains(&git_ref) {
        return RefKind::Branch;
    }
    if hex && git_ref.len() >= 7 && git_ref.chars().any(|c| c.is_ascii_alphabetic()) {
        return RefKind::ShortSha;
    }
    if looks_like_version(git_ref) {
        return RefKind::Tag;
    }
    RefKind::Branch
}

/// `v1`, `v1.2.3`, `1.2`, `v2.0.0-rc.1`, `v1.2.3+build`.
fn looks_like_version(r: &str) -> bool {
    let r = r.strip_prefix(['v', 'V']).unwrap_or(r);
    let core = r.split(['-', '+']).next().unwrap_or_default();
    !core.is_empty()
        && core.len() <= 20
        && core
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_forms() {
        assert_eq!(
            ActionRef::parse("./.github/actions/x"),
            ActionRef::Local("./.github/actions/x".into())
        );
        assert_eq!(ActionRef::parse("$/."), ActionRef::Local("$/.".into()));
        assert_eq!(
            ActionRef::parse("docker://alpine:3"),
            ActionRef::Docker("alpine:3".into())
        );
        assert_eq!(
            ActionRef::parse("github/codeql-action/init@v3"),
            ActionRef::Repository {
                owner: "github".into(),
                repo: "codeql-action".into(),
                path: Some("init".into()),
                git_ref: Some("v3".into()),
            }
        );
        assert!(matches!(
            ActionRef::parse("checkout"),
            ActionRef::Invalid(_)
        ));
        assert!(matches!(ActionRef::parse("a/b@"), ActionRef::Invalid(_)));
    }

    #[test]
    fn classifies_refs() {
        assert_eq!(classify(&"a".repeat(40)), RefKind::FullSha);
        assert_eq!(classify(&"0".repeat(64)), RefKind::FullSha);
        assert_eq!(classify("a1b2c3d"), RefKind::ShortSha);
        // All digits reads as a version before it reads as an abbreviated SHA.
        assert_eq!(classify("1234567"), RefKind::Tag);
        assert_eq!(classify("main"), RefKind::Branch);
        assert_eq!(classify("releases/v1"), RefKind::Branch);
        assert_eq!(classify("v4"), RefKind::Tag);
        assert_eq!(classify("v4.1.2"), RefKind::Tag);
        assert_eq!(classify("1.2"), RefKind::Tag);
        assert_eq!(classify("v2.0.0-rc.1"), RefKind::Tag);
        assert_eq!(classify("2024"), RefKind::Tag);
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,64}") {
            let _ = ActionRef::parse(&s);
            let _ = classify(&s);
        }

        #[test]
        fn only_full_hex_is_pinned(s in "[0-9a-f]{1,70}") {
            let pinned = classify(&s) == RefKind::FullSha;
            prop_assert_eq!(pinned, s.len() == 40 || s.len() == 64);
        }
    }
}
