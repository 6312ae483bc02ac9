//! Image references as Docker parses and normalises them:
//! `[registry[:port]/]repository[:tag][@algorithm:hex]`, defaulting to `docker.io/library/`.

use std::fmt;

use thiserror::Error;

pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Longest `registry/repository` Docker accepts.
const NAME_MAX: usize = 255;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host (and port), normalised: `index.docker.io` becomes `docker.io`.
    pub registry: String,
    /// Repository path, with `library/` added for official Docker Hub images.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>` (or `sha512:<128 hex>`).
    pub digest: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("empty image reference")]
    Empty,
    #[error("invalid digest `{0}`: expected sha256:<64 hex> or sha512:<128 hex>")]
    Digest(String),
    #[error("invalid tag `{0}`: up to 128 of [A-Za-z0-9_.-], not starting with `.` or `-`")]
    Tag(String),
    #[error(
        "invalid repository name `{0}`: lowercase letters, digits and separators (`.`, `_`, `__`, `-`, `/`)"
    )]
    Name(String),
    #[error("repository name is {0} characters long; registry/repository may have at most 255")]
    TooLong(usize),
    #[error("invalid port in `{0}`: a port is a number from 1 to 65535")]
    Port(String),
    #[error(
        "invalid registry `{0}`: expected HOST[:PORT] (`https://` or `http://` and a path are accepted and ignored, as docker login does)"
    )]
    Registry(String),
}

impl Reference {
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => {
                validate_digest(d)?;
                (rest, Some(d.to_owned()))
            }
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        let (registry, repository) = split_registry(name);
        let registry = normalise_host(registry);
        let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        // Docker's limit applies to the normalised name, so what we print parses again. A
        // name that is too long is told so, whatever characters it holds.
        let len = registry.len() + 1 + repository.len();
        if len > NAME_MAX {
            return Err(ReferenceError::TooLong(len));
        }
        validate_repository(&repository).map_err(|()| ReferenceError::Name(name.to_owned()))?;
        validate_host(registry, name)?;
        Ok(Self {
            registry: registry.to_owned(),
            repository,
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// `registry/repository`, the part a tag or digest is attached to.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag a registry would resolve: the explicit one, or `latest` when neither a tag
    /// nor a digest is given.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Docker's rule: the first component is a registry when it has a `.` or `:` or is `localhost`.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest)
        }
        _ => (DEFAULT_REGISTRY, name),
    }
}

/// `index.docker.io` and `registry-1.docker.io` are `docker.io`.
fn normalise_host(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" => DEFAULT_REGISTRY,
        r => r,
    }
}

/// A registry server as `docker login` takes it: `HOST[:PORT]`, optionally with `https://` or
/// `http://` and a path (`https://HOST/v2/`), which are dropped as Docker drops them.
pub fn registry_host(input: &str) -> Result<String, ReferenceError> {
    let s = input.trim();
    let bare = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let host = bare.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains("://") || (bare.len() == s.len() && s.contains("://")) {
        return Err(ReferenceError::Registry(input.to_owned()));
    }
    validate_host(host, input).map_err(|e| match e {
        ReferenceError::Port(_) => e,
        _ => ReferenceError::Registry(input.to_owned()),
    })?;
    Ok(normalise_host(host).to_owned())
}

/// A valid host whose port (if any) a TCP address can have; `name` is what errors quote.
fn validate_host(host: &str, name: &str) -> Result<(), ReferenceError> {
    if !valid_host(host) {
        return Err(ReferenceError::Name(name.to_owned()));
    }
    let port = match host.strip_prefix('[') {
        Some(rest) => rest.split_once("]:").map(|(_, p)| p),
        None => host.split_once(':').map(|(_, p)| p),
    };
    if port.is_some_and(|p| !matches!(p.parse::<u16>(), Ok(1..))) {
        return Err(ReferenceError::Port(host.to_owned()));
    }
    Ok(())
}

/// Docker's `domain`: dot-separated components of letters, digits and inner `-`, or a
/// bracketed IPv6 address, with an optional `:port`.
fn valid_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after)) => {
                if v6.is_empty()
                    || !v6
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
                {
                    return false;
                }
                let port = match (after.is_empty(), after.strip_prefix(':')) {
                    (true, _) => None,
                    (false, Some(p)) => Some(p),
                    (false, None) => return false,
                };
                (None, port)
            }
            None => return false,
        },
        None => match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        },
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = name.is_none_or(|n| {
        !n.is_empty()
            && n.split('.').all(|c| {
                !c.is_empty()
                    && !c.starts_with('-')
                    && !c.ends_with('-')
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    });
    port_ok && name_ok
}

pub fn validate_digest(d: &str) -> Result<(), ReferenceError> {
    let ok = match d.split_once(':') {
        Some(("sha256", hex)) => is_lower_hex(hex, 64),
        Some(("sha512", hex)) => is_lower_hex(hex, 128),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Digest(d.to_owned()))
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A tag as Docker allows it: up to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag(tag.to_owned()))
    }
}

fn validate_repository(repo: &str) -> Result<(), ()> {
    if repo.is_empty() || repo.len() > NAME_MAX {
        return Err(());
    }
    for component in repo.split('/') {
        let bytes = component.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return Err(());
        }
        // Separators: `.`, `_`, `__`, or any run of `-`, always between alphanumerics.
        let mut i = 0;
        while i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let sep = &component[start..i];
            let dashes = sep.bytes().all(|b| b == b'-');
            if !(sep == "." || sep == "_" || sep == "__" || dashes) {
                return Err(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(s: &str) -> Reference {
        Reference::parse(s).expect(s)
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(r("alpine").to_string(), "docker.io/library/alpine");
        assert_eq!(r("alpine").effective_tag(), Some("latest"));
        assert_eq!(r("user/app:1").to_string(), "docker.io/user/app:1");
        assert_eq!(
            r("index.docker.io/library/alpine:3").name(),
            "docker.io/library/alpine"
        );
        assert_eq!(r("localhost/app").registry, "localhost");
        assert_eq!(r("localhost:5000/app:1").registry, "localhost:5000");
        assert_eq!(
            r("registry.example.com:5000/team/app:1.0").repository,
            "team/app"
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let full = r(&format!("ghcr.io/o/i:1@{d}"));
        assert_eq!(full.tag.as_deref(), Some("1"));
        assert_eq!(full.digest.as_deref(), Some(d.as_str()));
        assert_eq!(full.effective_tag(), Some("1"));
        assert_eq!(r(&format!("alpine@{d}")).effective_tag(), None);
    }

    #[test]
    fn refuses_bad_references() {
        assert_eq!(Reference::parse(""), Err(ReferenceError::Empty));
        assert!(matches!(
            Reference::parse("Alpine"),
            Err(ReferenceError::Name(_))
        ));
        assert!(matches!(
            Reference::parse("alpine:"),
            Err(ReferenceError::Tag(_))
        ));
        assert!(matches!(
            Reference::parse("alpine@sha256:abc"),
            Err(ReferenceError::Digest(_))
        ));
        let upper = format!("alpine@sha256:{}", "A".repeat(64));
        assert!(matches!(
            Reference::parse(&upper),
            Err(ReferenceError::Digest(_))
        ));
        assert!(matches!(
            Reference::parse("a//b"),
            Err(ReferenceError::Name(_))
        ));
        assert!(matches!(
            Reference::parse("a..b"),
            Err(ReferenceError::Name(_))
        ));
        // See: fuzz/regressions/reference-1. The limit counts the normalised name.
        assert!(matches!(
            Reference::parse(&"a".repeat(248)),
            Err(ReferenceError::TooLong(266))
        ));
        assert!(Reference::parse(&"a".repeat(237)).is_ok());
        // See: issue 8 item 16. Too long is said first, whatever the characters.
        assert!(matches!(
            Reference::parse(&format!("r.example/{}", "A".repeat(300))),
            Err(ReferenceError::TooLong(_))
        ));
        // See: issue 8 item 12. A port no TCP address has is bad input.
        for host in ["127.0.0.1:99999", "127.0.0.1:0", "[::1]:70000"] {
            assert!(
                matches!(
                    Reference::parse(&format!("{host}/app")),
                    Err(ReferenceError::Port(_))
                ),
                "{host}"
            );
        }
        assert!(Reference::parse("[::1]:5000/app").is_ok());
    }

    #[test]
    fn login_servers_like_docker() {
        assert_eq!(
            registry_host("127.0.0.1:5000").expect("plain"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            registry_host("http://127.0.0.1:5000").expect("http"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            registry_host("https://ghcr.io/v2/").expect("https"),
            "ghcr.io"
        );
        assert_eq!(
            registry_host("https://index.docker.io/v1/").expect("hub"),
            "docker.io"
        );
        for bad in [
            "",
            "http://",
            "ftp://host",
            "http://bad host",
            "https://http://x",
            "a b",
        ] {
            assert!(registry_host(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            registry_host("http://h.example:99999"),
            Err(ReferenceError::Port(_))
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = Reference::parse(&s);
        }

        #[test]
        fn display_round_trips(
            host in prop::option::of(("[a-z]{1,8}\\.[a-z]{2,3}", prop::option::of(1u16..))),
            path in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}",
            tag in prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            digest in prop::option::of("[0-9a-f]{64}"),
        ) {
            let mut s = String::new();
            if let Some((h, port)) = &host {
                s.push_str(h);
                if let Some(p) = port { s.push_str(&format!(":{p}")); }
                s.push('/');
            }
            s.push_str(&path);
            if let Some(t) = &tag { s.push(':'); s.push_str(t); }
            if let Some(d) = &digest { s.push_str("@sha256:"); s.push_str(d); }
            let parsed = Reference::parse(&s).expect("valid by construction");
            let again = Reference::parse(&parsed.to_string()).expect("display parses");
            prop_assert_eq!(parsed, again);
        }
    }
}
