//! `traefik-insecure-api`: Traefik's `api.insecure` serves the dashboard and API on the
//! `traefik` entry point (port 8080) with no authentication.

use super::support::{environment, locate, services};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::{Document, Kind};
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct TraefikInsecureApi;

static META: RuleMeta = RuleMeta {
    id: "traefik-insecure-api",
    summary: "Traefik dashboard and API served without authentication",
    help: "`api.insecure: true` (`--api.insecure=true`) publishes Traefik's API and dashboard \
           on its own entry point with no authentication: anyone who reaches port 8080 reads \
           every router, service and backend address. Set `api.dashboard: true` without \
           `insecure`, and route `api@internal` through a router with an authentication \
           middleware (`basicAuth`, `forwardAuth`) on a restricted entry point.",
    help_url: "https://doc.traefik.io/traefik/operations/api/#insecure",
    default_severity: Severity::High,
    online: false,
};

const FIX: &str = "drop `insecure`; serve `api@internal` through a router with a `basicAuth` or `forwardAuth` middleware";

impl Rule for TraefikInsecureApi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        match doc.source.kind {
            Kind::Traefik if doc.yaml.is_empty() => check_toml(doc, cx),
            Kind::Traefik => {
                for root in &doc.yaml {
                    if let Some(node) = root.get("api").and_then(|a| a.get("insecure"))
                        && super::support::is_true(node)
                    {
                        let location = doc.location(node, "api.insecure");
                        report(
                            cx,
                            &location,
                            "api.insecure: true",
                            "the static configuration",
                        );
                    }
                }
            }
            Kind::Compose => check_compose(doc, cx),
            _ => {}
        }
    }
}

fn report(cx: &mut Context<'_>, location: &crate::report::Location, subject: &str, where_: &str) {
    cx.report(
        Severity::High,
        location,
        subject,
        format!("{where_} sets `api.insecure`: Traefik's dashboard and API answer without authentication"),
        FIX.into(),
    );
}

/// `--api.insecure` (alone, `=true`) in a service's `command:`, or `TRAEFIK_API_INSECURE`.
fn check_compose(doc: &Document, cx: &mut Context<'_>) {
    for (name, service, base) in services(doc) {
        let args: Vec<(&Node, String)> = match service.get("command") {
            Some(c) if c.as_seq().is_some() => c
                .as_seq()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, n)| (n, format!("{base}.command[{i}]")))
                .collect(),
            Some(c) => vec![(c, format!("{base}.command"))],
            None => Vec::new(),
        };
        for (node, path) in args {
            let Some(text) = node.as_str() else { continue };
            for word in text.split_whitespace() {
                let word = word.trim_matches(['"', '\'']);
                let on = match word.split_once('=') {
                    Some((flag, value)) => {
                        flag == "--api.insecure" && value.eq_ignore_ascii_case("true")
                    }
                    None => word == "--api.insecure",
                };
                if on {
                    let location = locate(doc, node, word, path.clone());
                    report(cx, &location, word, &format!("service `{name}`"));
                }
            }
        }
        for var in environment(service, &base) {
            if var.name == "TRAEFIK_API_INSECURE"
                && var
                    .value
                    .as_deref()
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            {
                let location = doc.location(var.node, var.path.clone());
                report(
                    cx,
                    &location,
                    "TRAEFIK_API_INSECURE=true",
                    &format!("service `{name}`"),
                );
            }
        }
    }
}

/// `insecure = true` inside the `[api]` table of `traefik.toml`.
fn check_toml(doc: &Document, cx: &mut Context<'_>) {
    let mut in_api = false;
    for (i, line) in doc.source.text.as_str().lines().enumerate() {
        let t = line.split('#').next().unwrap_or("").trim();
        if t.starts_with('[') {
            in_api = t.trim_matches(['[', ']']).trim() == "api";
            continue;
        }
        let Some((key, value)) = t.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let hit = (in_api && key == "insecure") || key == "api.insecure";
        if hit && value.trim() == "true" {
            let column = line.find(key).map_or(1, |b| line[..b].chars().count() + 1);
            let location =
                doc.line_location(i + 1, column, t.chars().count(), "api.insecure".into());
            report(cx, &location, "insecure = true", "the static configuration");
        }
    }
}
