//! SPDX 2.3 JSON, the second format (`--format spdx-json`). No maintained crate writes SPDX
//! 2.3 documents (the `spdx` crate is expressions only), so the few fields used are built as
//! JSON here. Deterministic like the CycloneDX writer except `creationInfo.created`, which SPDX
//! requires: it is `CICD_NOW` when set (tests), else the current time.

use serde_json::{Value, json};

use super::Document;
use super::error::SbomError;
use super::package::is_spdx_expression;

fn spdx_id(index: usize) -> String {
    format!("SPDXRef-Package-{index}")
}

fn created() -> Result<String, SbomError> {
    if let Ok(now) = std::env::var("CICD_NOW")
        && !now.is_empty()
    {
        return Ok(now);
    }
    let render = |e: &dyn std::fmt::Display| SbomError::Render(e.to_string());
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|e| render(&e))?;
    now.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| render(&e))
}

fn purl_ref(purl: &str) -> Value {
    json!({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl})
}

fn subject(doc: &Document, root: &str) -> Value {
    let mut s = json!({
        "SPDXID": root,
        "name": doc.subject.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": if doc.subject.digest.is_some() { "CONTAINER" } else { "FILE" },
    });
    if let Some(d) = &doc.subject.digest {
        s["versionInfo"] = d.clone().into();
    }
    if let Some(p) = &doc.subject.purl {
        s["externalRefs"] = json!([purl_ref(p)]);
    }
    s
}

/// Renders `doc` as SPDX 2.3 JSON: the image (or directory) is the described package, every
/// component a package it CONTAINS, dependency edges DEPENDS_ON.
pub fn render(doc: &Document) -> Result<Vec<u8>, SbomError> {
    let root = "SPDXRef-Subject";
    let mut packages = vec![subject(doc, root)];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root
    })];
    let ids: std::collections::BTreeMap<&str, String> = doc
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.purl.is_empty())
        .map(|(i, p)| (p.purl.as_str(), spdx_id(i)))
        .collect();
    for (i, p) in doc.packages.iter().enumerate() {
        let id = spdx_id(i);
        let declared = match p.licenses.as_slice() {
            [one] if is_spdx_expression(one) => one.clone(),
            _ => "NOASSERTION".into(),
        };
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared,
            "copyrightText": "NOASSERTION",
        });
        if !p.version.is_empty() {
            pkg["versionInfo"] = p.version.clone().into();
        }
        if !p.purl.is_empty() {
            pkg["externalRefs"] = json!([purl_ref(&p.purl)]);
        }
        packages.push(pkg);
        relationships.push(json!({"spdxElementId": root, "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
        for to in doc.edges.get(i).into_iter().flatten() {
            if let Some(target) = ids.get(to.as_str()) {
                relationships.push(json!({"spdxElementId": id, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": target}));
            }
        }
    }
    let serial = super::cyclonedx::serial(&doc.subject.seed());
    let out = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": doc.subject.name,
        "documentNamespace": format!("https://spdx.org/spdxdocs/cicd/{}", serial.trim_start_matches("urn:uuid:")),
        "creationInfo": {
            "created": created()?,
            "creators": [format!("Tool: cicd-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    });
    let mut bytes =
        serde_json::to_vec_pretty(&out).map_err(|e| SbomError::Render(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}
