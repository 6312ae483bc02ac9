//! Manifests and indexes, OCI and Docker v2 alike: just enough structure to walk an image
//! (children, config, layers, subject). The bytes themselves are always copied verbatim.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::error::OciError;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// What cicd asks a registry for.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
/// The annotation an image layout's `index.json` names tags with.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// `os/arch[/variant]` as `--platform` takes it.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?;
        let architecture = parts.next().filter(|p| !p.is_empty())?;
        let variant = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            variant,
            os_version: None,
        })
    }

    /// Whether `self` (from an index) satisfies a requested platform.
    pub fn matches(&self, want: &Platform) -> bool {
        self.os == want.os
            && self.architecture == want.architecture
            && (want.variant.is_none() || self.variant == want.variant)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// A parsed manifest: an index (children) or an image (config + layers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub kind: Kind,
    pub subject: Option<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Index(Vec<Descriptor>),
    Image {
        config: Box<Descriptor>,
        layers: Vec<Descriptor>,
    },
}

impl Manifest {
    /// Parses manifest bytes; `content_type` is what the registry or index said it is, used
    /// when the document omits `mediaType` (allowed for OCI).
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Self, OciError> {
        let raw: Raw = serde_json::from_slice(bytes)
            .map_err(|e| OciError::Manifest(format!("not a JSON manifest: {e}")))?;
        let media_type = raw
            .media_type
            .clone()
            .or_else(|| content_type.map(str::to_owned))
            .unwrap_or_default();
        let kind = match (raw.manifests, raw.config) {
            (Some(children), None) => Kind::Index(children),
            (None, Some(config)) => Kind::Image {
                config: Box::new(config),
                layers: raw.layers.unwrap_or_default(),
            },
            _ => {
                return Err(OciError::Manifest(format!(
                    "unsupported manifest (media type `{media_type}`): expected an image manifest with `config` or an index with `manifests`"
                )));
            }
        };
        let media_type = if media_type.is_empty() {
            match kind {
                Kind::Index(_) => OCI_INDEX.to_owned(),
                Kind::Image { .. } => OCI_MANIFEST.to_owned(),
            }
        } else {
            media_type
        };
        Ok(Self {
            media_type,
            artifact_type: raw.artifact_type,
            kind,
            subject: raw.subject,
            annotations: raw.annotations.unwrap_or_default(),
        })
    }

    /// The blobs an image manifest needs (config first); empty for an index.
    pub fn blobs(&self) -> Vec<&Descriptor> {
        match &self.kind {
            Kind::Index(_) => Vec::new(),
            Kind::Image { config, layers } => std::iter::once(&**config).chain(layers).collect(),
        }
    }
}

/// Whether a media type names a manifest or index (as opposed to a blob).
pub fn is_manifest(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_MANIFEST | OCI_INDEX | DOCKER_MANIFEST | DOCKER_LIST
    )
}

/// The minimal image config fields inspect shows.
#[derive(Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_images_and_indexes() {
        let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
            "config":{"mediaType":"x","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":1},"layers":[{"mediaType":"l","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":2}]}"#;
        let m = Manifest::parse(image, None).expect("image");
        assert_eq!(m.media_type, DOCKER_MANIFEST);
        assert_eq!(m.blobs().len(), 2);
        let index = br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":3,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}"#;
        let m = Manifest::parse(index, None).expect("index");
        assert_eq!(m.media_type, OCI_INDEX);
        let Kind::Index(children) = &m.kind else {
            panic!("index")
        };
        let p = children[0].platform.as_ref().expect("platform");
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(p.matches(&Platform::parse("linux/arm64").expect("p")));
        assert!(!p.matches(&Platform::parse("linux/arm64/v7").expect("p")));
        assert!(Manifest::parse(b"{}", None).is_err());
        // A descriptor whose digest is not sha256:<hex> (or could name a path) is refused.
        let bad = br#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:../../etc/passwd","size":1}}"#;
        assert!(Manifest::parse(bad, None).is_err());
        assert!(Manifest::parse(b"\xff", None).is_err());
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("a/b/c/d").is_none());
    }
}
