//! `compose-docker-socket`: a container that mounts the Docker socket controls the Docker
//! daemon, which is root on the host, read-only mount or not.

use super::support::services;
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::report::Severity;

pub struct ComposeDockerSocket;

static META: RuleMeta = RuleMeta {
    id: "compose-docker-socket",
    summary: "compose service mounts the Docker socket",
    help: "The Docker socket is the Docker API: whoever can write to it can start a \
           privileged container that mounts `/`, so a compromised service becomes root on \
           the host. `:ro` does not help (it stops unlinking the socket file, not API \
           calls). Put a filtering proxy such as `tecnativa/docker-socket-proxy` in front and \
           give the service only the endpoints it needs (`CONTAINERS=1`, read-only), or use \
           the tool's own non-socket discovery.",
    help_url: "https://docs.docker.com/engine/security/#docker-daemon-attack-surface",
    default_severity: Severity::Medium,
    online: false,
};

impl Rule for ComposeDockerSocket {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (name, service, base) in services(doc) {
            let Some(volumes) = service.get("volumes").and_then(Node::as_seq) else {
                continue;
            };
            for (i, volume) in volumes.iter().enumerate() {
                let source = if volume.is_map() {
                    volume.get("source").and_then(Node::as_str)
                } else {
                    volume.as_str().map(|v| v.split(':').next().unwrap_or(v))
                };
                let Some(source) = source else { continue };
                if !is_docker_socket(source) {
                    continue;
                }
                let location = doc.location(volume, format!("{base}.volumes[{i}]"));
                cx.report(
                    Severity::Medium,
                    &location,
                    source,
                    format!(
                        "service `{name}` mounts the Docker socket `{source}`: it can start privileged containers, i.e. it is root on the host"
                    ),
                    "mount a filtering proxy instead: a `tecnativa/docker-socket-proxy` service with only the API sections it needs, reached over `tcp://docker-socket-proxy:2375`".into(),
                );
            }
        }
    }
}

fn is_docker_socket(source: &str) -> bool {
    let source = source.trim().trim_end_matches('/');
    source.ends_with("/docker.sock") || source == "docker.sock"
}

#[cfg(test)]
mod tests {
    #[test]
    fn sockets() {
        assert!(super::is_docker_socket("/var/run/docker.sock"));
        assert!(super::is_docker_socket("/run/docker.sock"));
        assert!(super::is_docker_socket("${XDG_RUNTIME_DIR}/docker.sock"));
        assert!(!super::is_docker_socket("./data"));
        assert!(!super::is_docker_socket("/var/run/docker.sock.d/x.conf"));
    }
}
