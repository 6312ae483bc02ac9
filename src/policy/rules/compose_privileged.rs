//! `compose-privileged`: settings that take a container's isolation away (`privileged`,
//! `cap_add: [ALL|SYS_ADMIN]`, the host's network or PID namespace).

use super::support::{is_true, services};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ComposePrivileged;

static META: RuleMeta = RuleMeta {
    id: "compose-privileged",
    summary: "compose service runs without container isolation",
    help: "`privileged: true` and `cap_add: [ALL]` or `[SYS_ADMIN]` give the container the \
           host's devices and kernel powers: escaping it is one mount away. \
           `network_mode: host` puts every port it opens on the host's interfaces (and lets it \
           reach services bound to loopback); `pid: host` lets it see and signal every host \
           process. Drop them, and add only the capability the service needs \
           (`cap_add: [NET_ADMIN]`, a `devices:` entry).",
    help_url: "https://docs.docker.com/reference/compose-file/services/#privileged",
    default_severity: Severity::High,
    online: false,
};

impl Rule for ComposePrivileged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (name, service, base) in services(doc) {
            let mut flag = |node: &Node, path: String, subject: &str, what: String, fix: &str| {
                let location = doc.location(node, path);
                cx.report(
                    Severity::High,
                    &location,
                    subject,
                    format!("service `{name}` {what}"),
                    fix.to_owned(),
                );
            };
            if let Some(node) = service.get("privileged").filter(|n| is_true(n)) {
                flag(
                    node,
                    format!("{base}.privileged"),
                    "privileged: true",
                    "runs privileged: every device and kernel capability of the host".into(),
                    "remove `privileged: true`; add the one capability or device it needs (`cap_add:`, `devices:`)",
                );
            }
            for (i, cap) in service
                .get("cap_add")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let Some(text) = cap.as_str() else { continue };
                let upper = text.trim().to_ascii_uppercase();
                let upper = upper.strip_prefix("CAP_").unwrap_or(&upper);
                if upper == "ALL" || upper == "SYS_ADMIN" {
                    flag(
                        cap,
                        format!("{base}.cap_add[{i}]"),
                        text,
                        format!("adds capability `{text}`, which is as good as root on the host"),
                        "add only the narrow capability it needs (`NET_ADMIN`, `NET_BIND_SERVICE` …), or none",
                    );
                }
            }
            for key in ["network_mode", "pid"] {
                let Some(node) = service.get(key) else {
                    continue;
                };
                if node.as_str().map(str::trim) != Some("host") {
                    continue;
                }
                let (what, fix) = if key == "pid" {
                    (
                        "shares the host's PID namespace (`pid: host`): it sees and can signal every host process",
                        "remove `pid: host`",
                    )
                } else {
                    (
                        "uses the host's network (`network_mode: host`): every port it opens is on every host interface",
                        "remove `network_mode: host` and publish the ports it needs on 127.0.0.1 (`ports: [\"127.0.0.1:8080:8080\"]`)",
                    )
                };
                flag(
                    node,
                    format!("{base}.{key}"),
                    &format!("{key}: host"),
                    what.into(),
                    fix,
                );
            }
        }
    }
}
