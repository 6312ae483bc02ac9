//! `--vex-out`: the ignores that applied to vulnerabilities, as an OpenVEX 0.2.0 document.
//! An ignore with a reason (cicd's own, or a `.trivyignore.yaml` `statement`) says
//! `not_affected` with that reason as the impact statement; one without says
//! `under_investigation`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::ignore::{Applied, Origin};
use super::{Class, TrivyFinding, clock};

pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// The document, or `None` when no ignore applied to a vulnerability (OpenVEX needs at least
/// one statement).
pub fn document(applied: &Applied, findings: &[TrivyFinding], now: i64) -> Option<Value> {
    let timestamp = clock::rfc3339(now);
    let mut statements = Vec::new();
    for ((ig, matched), state) in applied
        .ignores
        .iter()
        .zip(&applied.matched)
        .zip(&applied.states)
    {
        if matches!(
            state,
            super::ignore::State::Expired | super::ignore::State::Stale
        ) {
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
        let mut statement = json!({
            "vulnerability": { "name": ig.id },
            "timestamp": timestamp,
        });
        if !purls.is_empty() {
            statement["products"] = purls
                .iter()
                .map(|p| json!({ "@id": p, "identifiers": { "purl": p } }))
                .collect();
        }
        let mut notes = format!("ignored by {}", ig.source);
        if let Some(owner) = &ig.owner {
            notes.push_str(&format!("; owner: {owner}"));
        }
        if let Some(t) = ig.expires {
            notes.push_str(&format!("; expires {}", clock::date(t)));
        }
        match &ig.reason {
            Some(reason) => {
                statement["status"] = json!("not_affected");
                statement["impact_statement"] = json!(reason);
            }
            None => {
                statement["status"] = json!("under_investigation");
                if ig.origin == Origin::TrivyIgnore {
                    notes.push_str(" (a .trivyignore line gives no reason)");
                }
            }
        }
        statement["status_notes"] = json!(notes);
        statements.push(statement);
    }
    if statements.is_empty() {
        return None;
    }
    let body = serde_json::to_string(&statements).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(json!({
        "@context": CONTEXT,
        "@id": format!("https://openvex.dev/docs/public/vex-{h:016x}"),
        "author": "cicd check trivy",
        "timestamp": timestamp,
        "version": 1,
        "tooling": format!("cicd {}", env!("CARGO_PKG_VERSION")),
        "statements": statements,
    }))
}
