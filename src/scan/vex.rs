//! `--vex-out`: the ignores that applied to vulnerabilities, as an OpenVEX 0.2.0 document.
//! An ignore with a reason (cicd's own, or a `.trivyignore.yaml` `statement`) says
//! `not_affected` with that reason as the impact statement; one without says
//! `under_investigation`. OpenVEX requires at least one statement, so with none there is
//! no document.

use std::collections::BTreeSet;

use serde::Serialize;

use super::ignore::{Applied, Origin, State};
use super::{Class, TrivyFinding};
use crate::time;

pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// An OpenVEX 0.2.0 document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Document {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub id: String,
    pub author: &'static str,
    pub timestamp: String,
    pub version: u32,
    pub tooling: String,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub vulnerability: Vulnerability,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    pub status_notes: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vulnerability {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Product {
    #[serde(rename = "@id")]
    pub id: String,
    pub identifiers: Identifiers,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identifiers {
    pub purl: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotAffected,
    UnderInvestigation,
}

/// The document, or `None` when no ignore applied to a vulnerability.
pub fn document(applied: &Applied, findings: &[TrivyFinding], now: i64) -> Option<Document> {
    let timestamp = time::rfc3339(now);
    let mut statements = Vec::new();
    for (ig, matched, state) in applied.iter() {
        if matches!(state, State::Expired | State::Stale) {
            continue;
        }
        let vulns: Vec<&TrivyFinding> = matched
            .iter()
            .map(|&i| &findings[i])
            .filter(|f| f.class() == Class::Vulnerability)
            .collect();
        if vulns.is_empty() {
            continue;
        }
        let purls: BTreeSet<&str> = vulns.iter().filter_map(|f| f.purl.as_deref()).collect();
        let mut notes = format!("ignored by {}", ig.source);
        if let Some(owner) = &ig.owner {
            notes.push_str(&format!("; owner: {owner}"));
        }
        if let Some(t) = ig.expires {
            notes.push_str(&format!("; expires {}", time::date(t)));
        }
        if ig.reason.is_none() && ig.origin == Origin::TrivyIgnore {
            notes.push_str(" (a .trivyignore line gives no reason)");
        }
        statements.push(Statement {
            vulnerability: Vulnerability {
                name: ig.id.clone(),
            },
            timestamp: timestamp.clone(),
            products: purls
                .iter()
                .map(|p| Product {
                    id: (*p).to_owned(),
                    identifiers: Identifiers {
                        purl: (*p).to_owned(),
                    },
                })
                .collect(),
            status: if ig.reason.is_some() {
                Status::NotAffected
            } else {
                Status::UnderInvestigation
            },
            impact_statement: ig.reason.clone(),
            status_notes: notes,
        });
    }
    if statements.is_empty() {
        return None;
    }
    // A stable id: the same statements always get the same document id.
    let body = serde_json::to_string(&statements).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(Document {
        context: CONTEXT,
        id: format!("https://openvex.dev/docs/public/vex-{h:016x}"),
        author: "cicd check trivy",
        timestamp,
        version: 1,
        tooling: format!("cicd {}", env!("CARGO_PKG_VERSION")),
        statements,
    })
}
