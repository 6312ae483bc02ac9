//! Everything that can go wrong moving images, each message saying what, where and what to
//! do. Credentials never appear here: variants carry registry and repository names only.

use std::path::PathBuf;

use thiserror::Error;

use super::reference::ReferenceError;

#[derive(Debug, Error)]
pub enum OciError {
    #[error("invalid image reference `{input}`: {source}")]
    Reference {
        input: String,
        source: ReferenceError,
    },

    #[error("invalid image location `{0}`: use docker://HOST/REPO[:TAG|@DIGEST] or oci:PATH[:TAG]")]
    Transport(String),

    #[error("{0}")]
    Unsupported(String),

    /// A tag, digest or registry name given on its own (not inside a reference).
    #[error("{0}")]
    Syntax(ReferenceError),

    #[error(
        "registry {registry} answered {status}{}: {hint}",
        for_repository(repository)
    )]
    Unauthorized {
        registry: String,
        repository: String,
        status: u16,
        hint: String,
    },

    #[error("{what} not found: {place}")]
    NotFound { what: String, place: String },

    #[error("{place} has no {want} image; it has: {available}")]
    Platform {
        want: String,
        place: String,
        available: String,
    },

    #[error(
        "{what} from {place} does not match its digest: expected {expected}, got {actual}; refusing it (nothing was tagged)"
    )]
    DigestMismatch {
        what: String,
        place: String,
        expected: String,
        actual: String,
    },

    #[error("registry {registry} answered {status} to {action}: {message}")]
    Http {
        registry: String,
        action: String,
        status: u16,
        message: String,
    },

    #[error(
        "could not reach registry {registry} ({action}): {message}; {}",
        network_hint(message)
    )]
    Network {
        registry: String,
        action: String,
        message: String,
    },

    #[error("invalid manifest: {0}")]
    Manifest(String),

    #[error("image layout {path}: {message}")]
    Layout { path: PathBuf, message: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("credentials: {0}")]
    Credentials(String),

    #[error("CA certificate file {path}: {message}")]
    CaCert { path: PathBuf, message: String },
}

/// ` for REPO`, or nothing when the answer was about the registry as a whole (a login).
fn for_repository(repository: &str) -> String {
    if repository.is_empty() {
        String::new()
    } else {
        format!(" for {repository}")
    }
}

/// What to do about a network failure, judged from what went wrong.
fn network_hint(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("dns error") || m.contains("failed to lookup") {
        "check the registry host name (and that this machine can resolve it)"
    } else if m.contains("certificate") || m.contains("unknownissuer") || m.contains("tls") {
        "pass --ca-cert FILE (or set SSL_CERT_FILE) when the registry uses a private CA"
    } else {
        "check the address and that the registry is up, or pass --ca-cert FILE (or SSL_CERT_FILE) for a private CA"
    }
}

impl OciError {
    /// A failure no retry can fix (the host name does not resolve).
    pub fn is_permanent_network(&self) -> bool {
        matches!(self, OciError::Network { message, .. } if network_hint(message).starts_with("check the registry host"))
    }

    /// Whether the user can fix this by changing what they typed (exit 2) rather than an
    /// outside failure (exit 3).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            OciError::Reference { .. }
                | OciError::Transport(_)
                | OciError::Unsupported(_)
                | OciError::Syntax(_)
                | OciError::Platform { .. }
                | OciError::Layout { .. }
                | OciError::CaCert { .. }
                | OciError::Credentials(_)
        )
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OciError {
        let path = path.into();
        move |source| OciError::Io { path, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(message: &str) -> OciError {
        OciError::Network {
            registry: "r.example".into(),
            action: "GET manifest".into(),
            message: message.into(),
        }
    }

    #[test]
    fn network_errors_say_what_to_do() {
        let dns =
            network("client error (Connect): dns error: failed to lookup address information");
        assert!(dns.is_permanent_network());
        assert!(
            dns.to_string()
                .ends_with("check the registry host name (and that this machine can resolve it)")
        );
        let tls = network("invalid peer certificate: UnknownIssuer");
        assert!(!tls.is_permanent_network());
        assert!(tls.to_string().contains("--ca-cert FILE"));
        let reset = network("connection reset by peer");
        assert!(!reset.is_permanent_network());
        assert!(reset.to_string().contains("that the registry is up"));
    }
}
