//! `compose-exposed-port`: a compose port published without a host IP binds every interface
//! of the host (and Docker's iptables rules bypass host firewalls such as ufw).

use super::support::services;
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::interpolate::{Escape, interpolate};
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ComposeExposedPort;

static META: RuleMeta = RuleMeta {
    id: "compose-exposed-port",
    summary: "compose port published on every interface",
    help: "A `ports:` entry without a host IP (`\"6379:6379\"`, `- 5432:5432`, the long form \
           without `host_ip`, or `0.0.0.0:`) binds all of the host's interfaces, and Docker's \
           own iptables rules let traffic in past host firewalls such as ufw. Datastores \
           reached this way are a classic breach. Bind to loopback \
           (`\"127.0.0.1:6379:6379\"`, long form `host_ip: 127.0.0.1`) or, when only other \
           services need the port, use `expose:` and the compose network. Ports 80 and 443 \
           published by a reverse proxy or web server are what it is for and are not flagged.",
    help_url: "https://docs.docker.com/engine/network/packet-filtering-firewalls/#port-publishing-and-mapping",
    default_severity: Severity::Medium,
    online: false,
};

/// Images (by name) that hold data; published to the world they are high severity.
const DATASTORES: &[&str] = &[
    "redis",
    "valkey",
    "keydb",
    "postgres",
    "postgis",
    "timescaledb",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "elasticsearch",
    "opensearch",
    "memcached",
    "rabbitmq",
    "neo4j",
    "etcd",
    "influxdb",
    "cassandra",
    "couchdb",
    "couchbase",
    "clickhouse",
    "minio",
    "zookeeper",
    "kafka",
    "nats",
    "mssql",
    "oracle",
    "cockroach",
    "dragonfly",
    "qdrant",
    "weaviate",
    "meilisearch",
    "typesense",
    "questdb",
    "arangodb",
    "rethinkdb",
    "solr",
    "surrealdb",
];

/// Reverse proxies and web servers, for which publishing 80/443 is the point.
const PROXIES: &[&str] = &[
    "traefik",
    "nginx",
    "caddy",
    "haproxy",
    "envoy",
    "httpd",
    "apache",
    "openresty",
    "varnish",
    "swag",
    "nginx-proxy",
    "nginx-proxy-manager",
    "angie",
    "h2o",
    "lighttpd",
];

impl Rule for ComposeExposedPort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (name, service, base) in services(doc) {
            let Some(ports) = service.get("ports").and_then(Node::as_seq) else {
                continue;
            };
            let image = service.get("image").and_then(Node::as_str).unwrap_or("");
            let kind = classify(image, name);
            for (i, entry) in ports.iter().enumerate() {
                let Some(port) = published(entry) else {
                    continue;
                };
                if kind == Role::Proxy && matches!(port.host_port.as_deref(), Some("80" | "443")) {
                    continue;
                }
                let severity = if kind == Role::Datastore {
                    Severity::High
                } else {
                    Severity::Medium
                };
                let location = doc.location(entry, format!("{base}.ports[{i}]"));
                let what = match &port.host_port {
                    Some(h) => format!("host port {h}"),
                    None => "a random host port".to_owned(),
                };
                let fix = match &port.host_port {
                    Some(h) => format!(
                        "bind it to loopback: `\"127.0.0.1:{h}:{}\"` (long form: `host_ip: 127.0.0.1`), or use `expose: [\"{}\"]` when only other services need it",
                        port.target, port.target
                    ),
                    None => format!(
                        "bind it to loopback: `\"127.0.0.1::{}\"`, or use `expose: [\"{}\"]` when only other services need it",
                        port.target, port.target
                    ),
                };
                let datastore = if kind == Role::Datastore {
                    " of a datastore"
                } else {
                    ""
                };
                cx.report(
                    severity,
                    &location,
                    &port.written,
                    format!(
                        "service `{name}` publishes port {}{datastore} on {what} of every host interface{}",
                        port.target,
                        if port.all_interfaces { " (`0.0.0.0`/`::`)" } else { "" }
                    ),
                    fix,
                );
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Datastore,
    Proxy,
    Other,
}

/// What a service is, from its image's repository name (or its own name when built).
fn classify(image: &str, service: &str) -> Role {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let repo = last.split(':').next().unwrap_or(last).to_ascii_lowercase();
    let name = if repo.is_empty() {
        service.to_ascii_lowercase()
    } else {
        repo
    };
    // `postgresql`, `redis-stack`, `mongodb-server`, but not `mongo-express` or
    // `redis-commander` (web front ends of a datastore).
    let has = |list: &[&str]| {
        list.iter().any(|w| {
            name.strip_prefix(w).is_some_and(|rest| {
                matches!(
                    rest,
                    "" | "ql" | "db" | "-server" | "-stack" | "-cluster" | "-oss"
                )
            })
        })
    };
    if has(DATASTORES) {
        Role::Datastore
    } else if has(PROXIES) {
        Role::Proxy
    } else {
        Role::Other
    }
}

/// A port entry published on every interface.
#[derive(Debug, PartialEq, Eq)]
pub struct Published {
    pub written: String,
    /// `None`: a random host port.
    pub host_port: Option<String>,
    pub target: String,
    /// Written as `0.0.0.0`/`::` rather than left out.
    pub all_interfaces: bool,
}

/// The entry when it publishes on all interfaces; `None` when it binds one address (or
/// the address comes from a variable only the deployment knows).
pub fn published(entry: &Node) -> Option<Published> {
    if entry.is_map() {
        let target = entry.get("target").and_then(Node::as_str)?.to_owned();
        let host_ip = entry.get("host_ip").and_then(Node::as_str);
        let host_port = entry.get("published").and_then(Node::as_str);
        if entry.get("mode").and_then(Node::as_str) == Some("ingress") && host_ip.is_some() {
            return None;
        }
        let any = host_ip.is_none_or(all_interfaces);
        return any.then(|| Published {
            written: target.clone(),
            host_port: host_port.map(str::to_owned),
            target,
            all_interfaces: host_ip.is_some(),
        });
    }
    let written = entry.as_str()?.trim().to_owned();
    let spec = written.split('/').next().unwrap_or(&written);
    let parts = split_port(spec);
    let (ip, host, target) = match parts.as_slice() {
        [target] => (None, None, target.clone()),
        [host, target] => (None, Some(host.clone()), target.clone()),
        [ip, host, target] => (Some(ip.clone()), Some(host.clone()), target.clone()),
        _ => return None,
    };
    if let Some(ip) = &ip {
        let ip = match interpolate(ip, Escape::Dollar, &|_| None) {
            Ok(v) => v,
            // Chosen at deployment: this file does not say.
            Err(_) => return None,
        };
        if !all_interfaces(&ip) {
            return None;
        }
    }
    Some(Published {
        written: written.clone(),
        host_port: host.filter(|h| !h.is_empty()),
        target,
        all_interfaces: ip.is_some(),
    })
}

fn all_interfaces(ip: &str) -> bool {
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    ip.is_empty() || ip == "0.0.0.0" || ip == "::" || ip == "*"
}

/// Splits `ip:host:container` on the colons that separate them: not those of an IPv6
/// address in brackets, nor those inside `${…}`.
fn split_port(spec: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    let mut bracket = false;
    for c in spec.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '[' => bracket = true,
            ']' => bracket = false,
            _ => {}
        }
        if c == ':' && depth == 0 && !bracket {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    // An unbracketed IPv6 address (`::1:6379:6379`): the last two parts are the ports.
    if out.len() > 3 {
        let target = out.pop().unwrap_or_default();
        let host = out.pop().unwrap_or_default();
        let ip = out.join(":");
        return vec![ip, host, target];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::yaml;

    fn check(entry: &str) -> Option<(Option<String>, String)> {
        let roots = yaml::parse(&format!("p: {entry}")).expect("yaml");
        published(roots[0].get("p").expect("p")).map(|p| (p.host_port, p.target))
    }

    #[test]
    fn short_and_long_forms() {
        let some = |h: &str, t: &str| Some((Some(h.to_owned()), t.to_owned()));
        assert_eq!(check("\"6379:6379\""), some("6379", "6379"));
        assert_eq!(check("5432:5432"), some("5432", "5432"));
        assert_eq!(check("\"0.0.0.0:80:8080/tcp\""), some("80", "8080"));
        assert_eq!(check("\"[::]:80:80\""), some("80", "80"));
        assert_eq!(check("3000"), Some((None, "3000".into())));
        assert_eq!(check("\"127.0.0.1:6379:6379\""), None);
        assert_eq!(check("\"[::1]:6379:6379\""), None);
        assert_eq!(check("\"::1:6379:6379\""), None);
        assert_eq!(check("\"${BIND:-127.0.0.1}:6379:6379\""), None);
        assert_eq!(check("\"${BIND}:6379:6379\""), None);
        assert_eq!(check("\"${P}:80\""), some("${P}", "80"));
        assert_eq!(
            check("\"9090-9091:8080-8081\""),
            some("9090-9091", "8080-8081")
        );
        assert_eq!(check("{target: 80, published: 8080}"), some("8080", "80"));
        assert_eq!(
            check("{target: 80, published: 8080, host_ip: 127.0.0.1}"),
            None
        );
        assert_eq!(
            check("{target: 80, host_ip: 0.0.0.0}"),
            Some((None, "80".into()))
        );
    }

    #[test]
    fn roles() {
        assert!(classify("redis:7", "cache") == Role::Datastore);
        assert!(classify("bitnami/postgresql:16", "db") == Role::Datastore);
        assert!(
            classify("docker.elastic.co/elasticsearch/elasticsearch:8", "es") == Role::Datastore
        );
        assert!(classify("traefik:v3", "proxy") == Role::Proxy);
        assert!(classify("", "redis") == Role::Datastore);
        assert!(classify("ghcr.io/o/app:1", "web") == Role::Other);
    }
}
