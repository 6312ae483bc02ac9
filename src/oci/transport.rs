//! Where an image lives: `docker://HOST/REPO[:TAG|@DIGEST]` (a registry; a bare reference
//! means the same) or `oci:PATH[:TAG]` (an OCI image layout on disk), as skopeo spells them.

use std::fmt;
use std::path::PathBuf;

use super::error::OciError;
use super::reference::{Reference, validate_digest, validate_tag};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Registry(Reference),
    Layout {
        path: PathBuf,
        /// The `org.opencontainers.image.ref.name` to read or write.
        tag: Option<String>,
        /// `oci:PATH@sha256:…` selects a manifest by digest.
        digest: Option<String>,
    },
}

impl Location {
    pub fn parse(input: &str) -> Result<Self, OciError> {
        let reference = |s: &str| {
            Reference::parse(s).map_err(|source| OciError::Reference {
                input: input.to_owned(),
                source,
            })
        };
        if let Some(rest) = input.strip_prefix("docker://") {
            return Ok(Location::Registry(reference(rest)?));
        }
        if let Some(rest) = input.strip_prefix("oci:") {
            return parse_layout(input, rest);
        }
        // `oci-archive:`, `dir:`, `containers-storage:` … are skopeo transports we do not read.
        if let Some((scheme, _)) = input.split_once(':')
            && !scheme.is_empty()
            && scheme.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            && !input[scheme.len() + 1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
            && !scheme.contains('.')
            && scheme != "localhost"
        {
            return Err(OciError::Transport(input.to_owned()));
        }
        Ok(Location::Registry(reference(input)?))
    }

    pub fn is_layout(&self) -> bool {
        matches!(self, Location::Layout { .. })
    }

    /// The tag this location names, if any.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Location::Registry(r) => r.tag.as_deref(),
            Location::Layout { tag, .. } => tag.as_deref(),
        }
    }

    pub fn digest(&self) -> Option<&str> {
        match self {
            Location::Registry(r) => r.digest.as_deref(),
            Location::Layout { digest, .. } => digest.as_deref(),
        }
    }
}

/// Like containers/image: the path ends at the first `:` (paths with colons cannot be named).
fn parse_layout(input: &str, rest: &str) -> Result<Location, OciError> {
    let (path, digest) = match rest.split_once('@') {
        Some((p, d)) => (p, Some(d)),
        None => (rest, None),
    };
    let (path, tag) = match path.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (path, None),
    };
    if path.is_empty() {
        return Err(OciError::Transport(input.to_owned()));
    }
    let bad = |source| OciError::Reference {
        input: input.to_owned(),
        source,
    };
    // The Docker rules for tag and digest syntax.
    if let Some(t) = tag {
        validate_tag(t).map_err(bad)?;
    }
    if let Some(d) = digest {
        validate_digest(d).map_err(bad)?;
    }
    Ok(Location::Layout {
        path: PathBuf::from(path),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Registry(r) => write!(f, "docker://{r}"),
            Location::Layout { path, tag, digest } => {
                write!(f, "oci:{}", path.display())?;
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                if let Some(d) = digest {
                    write!(f, "@{d}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_transports() {
        let l = Location::parse("docker://127.0.0.1:5000/app:1").expect("docker");
        let Location::Registry(r) = &l else {
            panic!("registry")
        };
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(l.tag(), Some("1"));
        assert_eq!(
            Location::parse("alpine").expect("bare"),
            Location::parse("docker://docker.io/library/alpine").expect("full")
        );
        assert_eq!(
            Location::parse("localhost:5000/a")
                .expect("port")
                .to_string(),
            "docker://localhost:5000/a"
        );
        assert_eq!(
            Location::parse("oci:/tmp/lay:v1").expect("oci"),
            Location::Layout {
                path: "/tmp/lay".into(),
                tag: Some("v1".into()),
                digest: None
            }
        );
        assert_eq!(Location::parse("oci:rel").expect("oci").tag(), None);
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            Location::parse(&format!("oci:x@{d}"))
                .expect("digest")
                .digest(),
            Some(d.as_str())
        );
        assert!(Location::parse("oci:").is_err());
        assert!(Location::parse("oci:x:bad tag").is_err());
        assert!(matches!(
            Location::parse("oci-archive:x.tar"),
            Err(OciError::Transport(_))
        ));
        assert!(Location::parse("docker://").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            let _ = Location::parse(&s);
        }

        #[test]
        fn layout_round_trips(path in "[a-z/._]{1,20}", tag in prop::option::of("[a-z0-9][a-z0-9._-]{0,10}")) {
            let mut s = format!("oci:{path}");
            if let Some(t) = &tag { s.push(':'); s.push_str(t); }
            let l = Location::parse(&s).expect("valid");
            prop_assert_eq!(Location::parse(&l.to_string()).expect("again"), l);
        }
    }
}
