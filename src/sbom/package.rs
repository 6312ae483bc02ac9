//! What catalogers find: packages with their purl, licenses and where they were seen, and the
//! distribution the image is built on (which deb/apk purls are qualified with).

use packageurl::PackageUrl;

/// The operating system `/etc/os-release` names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Distro {
    /// `ID` (debian, alpine, ubuntu…).
    pub id: String,
    /// `VERSION_ID` (12, 3.20.1…).
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
    pub cpe: Option<String>,
}

impl Distro {
    /// The purl `distro` qualifier: `debian-12`.
    pub fn qualifier(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    OperatingSystem,
    Application,
    Library,
}

/// Where a package was seen: the file that records it and the layer that put it there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    pub path: String,
    pub layer: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Package {
    /// The cataloger that found it (`dpkg`, `npm`…), also the namespace its `depends` live in.
    pub ecosystem: &'static str,
    pub class: Class,
    pub name: String,
    pub version: String,
    pub purl: String,
    /// SPDX expressions when declared as such, else the declared names.
    pub licenses: Vec<String>,
    pub cpe: Option<String>,
    pub seen: Vec<Seen>,
    /// Names of packages of the same ecosystem this one depends on, as the source records them.
    pub depends: Vec<String>,
    pub description: Option<String>,
}

impl Package {
    pub fn new(ecosystem: &'static str, name: &str, version: &str, purl: String) -> Self {
        Self {
            ecosystem,
            class: Class::Library,
            name: name.to_owned(),
            version: version.to_owned(),
            purl,
            licenses: Vec::new(),
            cpe: None,
            seen: Vec::new(),
            depends: Vec::new(),
            description: None,
        }
    }
}

/// Builds a purl with the `packageurl` crate; `None` when a part is not valid for the type
/// (the package is then left out with a warning rather than given a wrong identifier).
pub fn purl(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> Option<String> {
    let mut p = PackageUrl::new(ty.to_owned(), name.to_owned()).ok()?;
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        p.with_namespace(ns.to_owned()).ok()?;
    }
    if !version.is_empty() {
        p.with_version(version.to_owned()).ok()?;
    }
    for (k, v) in qualifiers {
        if !v.is_empty() {
            p.add_qualifier((*k).to_owned(), (*v).to_owned()).ok()?;
        }
    }
    Some(p.to_string())
}

/// A declared license as an SPDX expression when it parses as one, else as written.
pub fn license(declared: &str) -> Option<String> {
    let d = declared.trim();
    if d.is_empty() || d.eq_ignore_ascii_case("unknown") || d == "UNKNOWN" {
        return None;
    }
    Some(d.to_owned())
}

/// Whether `text` is a valid SPDX license expression (strict, as the CycloneDX schema wants).
pub fn is_spdx_expression(text: &str) -> bool {
    spdx::Expression::parse(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_encoded_by_the_crate() {
        assert_eq!(
            purl(
                "deb",
                Some("debian"),
                "libc6",
                "2.36-9+deb12u4",
                &[("arch", "amd64"), ("distro", "debian-12")]
            )
            .as_deref(),
            Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12")
        );
        assert_eq!(
            purl("npm", Some("@types"), "node", "20.1.0", &[]).as_deref(),
            Some("pkg:npm/%40types/node@20.1.0")
        );
        assert!(is_spdx_expression("MIT OR Apache-2.0"));
        assert!(!is_spdx_expression("BSD-like"));
    }
}
