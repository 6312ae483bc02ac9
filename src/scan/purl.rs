//! Package URLs as far as ignores need them: `pkg:type/namespace/name@version?q=v#subpath`,
//! and Trivy's rule for an ignore's purl matching a finding's (no version matches any
//! version; every qualifier of the ignore must be on the finding).

/// A parsed package URL; components are percent-decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub qualifiers: Vec<(String, String)>,
    pub subpath: String,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Purl {
    pub fn parse(s: &str) -> Option<Purl> {
        let rest = s.trim().strip_prefix("pkg:")?.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => (r, decode(sp.trim_matches('/'))),
            None => (rest, String::new()),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (
                r,
                q.split('&')
                    .filter(|kv| !kv.is_empty())
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_ascii_lowercase(), decode(v)))
                    .collect(),
            ),
            None => (rest, Vec::new()),
        };
        let (kind, rest) = rest.split_once('/')?;
        let rest = rest.trim_end_matches('/');
        let (path, version) = match rest.rsplit_once('@') {
            Some((p, v)) => (p, decode(v)),
            None => (rest, String::new()),
        };
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, n)) => (decode(ns), decode(n)),
            None => (String::new(), decode(path)),
        };
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Purl {
            kind: kind.to_ascii_lowercase(),
            namespace,
            name,
            version,
            qualifiers,
            subpath,
        })
    }

    /// Whether this (an ignore's purl) covers `target` (a finding's).
    pub fn matches(&self, target: &Purl) -> bool {
        self.kind == target.kind
            && self.namespace == target.namespace
            && self.name == target.name
            && (self.version.is_empty() || self.version == target.version)
            && (self.subpath.is_empty() || self.subpath == target.subpath)
            && self
                .qualifiers
                .iter()
                .all(|q| target.qualifiers.iter().any(|t| t == q))
    }
}

#[cfg(test)]
mod tests {
    use super::Purl;

    #[test]
    fn parses_and_matches() {
        let p = Purl::parse("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5")
            .expect("parses");
        assert_eq!(
            (
                p.kind.as_str(),
                p.namespace.as_str(),
                p.name.as_str(),
                p.version.as_str()
            ),
            ("deb", "debian", "libc6", "2.36-9+deb12u4")
        );
        let any = Purl::parse("pkg:deb/debian/libc6").expect("parses");
        assert!(any.matches(&p));
        let arch = Purl::parse("pkg:deb/debian/libc6?arch=arm64").expect("parses");
        assert!(!arch.matches(&p));
        let go = Purl::parse("pkg:golang/golang.org/x/net@v0.17.0").expect("parses");
        assert_eq!(go.namespace, "golang.org/x");
        assert!(Purl::parse("npm/lodash").is_none());
        assert!(Purl::parse("pkg:%").is_none());
    }
}
