//! CycloneDX JSON through the `cyclonedx-bom` crate's document model. The crate writes 1.5
//! (0.8.1 has no 1.6 model); every field used here is unchanged in 1.6, so `--spec-version 1.6`
//! is the same document with `specVersion` (and `$schema`) set to 1.6, validated against the
//! 1.6 schema in the tests. Output is deterministic: sorted components, no timestamp, and a
//! serial number derived from what the SBOM describes.

use std::str::FromStr;

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Purl;
use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{
    Classification, Component, ComponentEvidence, Components, Cpe, Occurrence, Occurrences,
};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::license::{LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::Tools;
use sha2::{Digest as _, Sha256};

use super::Document;
use super::error::SbomError;
use super::package::{Class, Package, is_spdx_expression};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec {
    V1_5,
    V1_6,
}

impl Spec {
    pub fn as_str(self) -> &'static str {
        match self {
            Spec::V1_5 => "1.5",
            Spec::V1_6 => "1.6",
        }
    }
}

/// `urn:uuid:` built from a sha256 of `seed` (version 5-style bits set so it is a valid UUID).
pub fn serial(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn licenses(p: &Package) -> Option<Licenses> {
    if p.licenses.is_empty() {
        return None;
    }
    let compound = p.licenses.len() == 1 && p.licenses[0].contains(' ');
    if compound && is_spdx_expression(&p.licenses[0]) {
        return Some(Licenses(vec![LicenseChoice::expression(&p.licenses[0])]));
    }
    Some(Licenses(
        p.licenses
            .iter()
            .map(|l| {
                if !l.contains(' ') && spdx::license_id(l).is_some() {
                    LicenseChoice::License(cyclonedx_bom::models::license::License::license_id(l))
                } else {
                    LicenseChoice::license(l)
                }
            })
            .collect(),
    ))
}

fn component(p: &Package) -> Component {
    let class = match p.class {
        Class::OperatingSystem => Classification::OperatingSystem,
        Class::Application => Classification::Application,
        Class::Library => Classification::Library,
    };
    let bom_ref = if p.purl.is_empty() {
        format!("{}:{}@{}", p.ecosystem, p.name, p.version)
    } else {
        p.purl.clone()
    };
    let mut c = Component::new(class, &p.name, &p.version, Some(bom_ref));
    if !p.purl.is_empty() {
        c.purl = Purl::from_str(&p.purl).ok();
    }
    c.licenses = licenses(p);
    c.cpe = p.cpe.as_deref().map(Cpe::new);
    c.description = p.description.as_deref().map(NormalizedString::new);
    if !p.seen.is_empty() {
        c.evidence = Some(ComponentEvidence {
            licenses: None,
            copyright: None,
            occurrences: Some(Occurrences(
                p.seen.iter().map(|s| Occurrence::new(&s.path)).collect(),
            )),
            callstack: None,
            identity: None,
        });
    }
    let mut props = vec![Property::new("cicd:cataloger", p.ecosystem)];
    for s in &p.seen {
        if let Some(l) = &s.layer {
            props.push(Property::new("cicd:layer", &format!("{l} {}", s.path)));
        }
    }
    c.properties = Some(Properties(props));
    c
}

fn subject(doc: &Document) -> Component {
    let class = if doc.subject.digest.is_some() {
        Classification::Container
    } else {
        Classification::File
    };
    let version = doc.subject.digest.clone().unwrap_or_default();
    let mut c = Component::new(
        class,
        &doc.subject.name,
        &version,
        Some(doc.subject.bom_ref()),
    );
    c.purl = doc
        .subject
        .purl
        .as_deref()
        .and_then(|p| Purl::from_str(p).ok());
    c
}

fn tool() -> Component {
    let mut t = Component::new(
        Classification::Application,
        "cicd",
        env!("CARGO_PKG_VERSION"),
        None,
    );
    t.group = None;
    t
}

/// Renders `doc` as CycloneDX JSON.
pub fn render(doc: &Document, spec: Spec) -> Result<Vec<u8>, SbomError> {
    let mut deps = Vec::new();
    for (p, edges) in doc.packages.iter().zip(&doc.edges) {
        if p.purl.is_empty() {
            continue;
        }
        deps.push(Dependency {
            dependency_ref: p.purl.clone(),
            dependencies: edges.clone(),
        });
    }
    let bom = Bom {
        version: 1,
        serial_number: Some(
            UrnUuid::new(serial(&doc.subject.seed()))
                .map_err(|e| SbomError::Render(format!("{e:?}")))?,
        ),
        metadata: Some(Metadata {
            timestamp: None,
            tools: Some(Tools::Object {
                services: None,
                components: Some(Components(vec![tool()])),
            }),
            authors: None,
            component: Some(subject(doc)),
            manufacture: None,
            supplier: None,
            licenses: None,
            properties: None,
            lifecycles: None,
        }),
        components: Some(Components(doc.packages.iter().map(component).collect())),
        dependencies: (!deps.is_empty()).then_some(Dependencies(deps)),
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    };
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| SbomError::Render(e.to_string()))?;
    if spec == Spec::V1_6 {
        let mut v: serde_json::Value =
            serde_json::from_slice(&out).map_err(|e| SbomError::Render(e.to_string()))?;
        v["specVersion"] = "1.6".into();
        if v.get("$schema").is_some() {
            v["$schema"] = "http://cyclonedx.org/schema/bom-1.6.schema.json".into();
        }
        out = serde_json::to_vec_pretty(&v).map_err(|e| SbomError::Render(e.to_string()))?;
    }
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn serial_is_a_stable_uuid() {
        let a = super::serial("sha256:abc");
        assert_eq!(a, super::serial("sha256:abc"));
        assert_ne!(a, super::serial("sha256:abd"));
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[23..24], "5");
    }
}
