//! Everything that can go wrong moving images, each message saying what, where and what to
//! do. Credentials never appear here: variants carry registry and repository names only.

use std::path::PathBuf;

use thiserror::Error;

use super::reference::ReferenceError;
use crate::http::{Cause, Failure};

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
        network_hint(message.failure)
    )]
    Network {
        registry: String,
        action: String,
        /// The error chain and its kind ([`crate::http::chain`]).
        message: Cause,
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

/// What to do about a network failure, by its kind (read from the error's type, not its
/// text). No command-line flags here: the command layer adds how to pass a CA.
fn network_hint(failure: Failure) -> &'static str {
    match failure {
        Failure::Dns => "check the registry host name (and that this machine can resolve it)",
        Failure::Refused => {
            "nothing listens there: check that the registry is up and the port is right"
        }
        Failure::Tls => {
            "the registry's TLS could not be verified: if it uses a private CA, trust that CA's certificate"
        }
        Failure::Timeout | Failure::Reset | Failure::Other => failure.hint(),
    }
}

impl OciError {
    /// A network failure no retry can fix (the host name does not resolve, the certificate
    /// is not trusted) or that has already spent its wait (a timeout).
    pub fn is_permanent_network(&self) -> bool {
        matches!(self, OciError::Network { message, .. } if !message.failure.is_transient())
    }

    /// The kind of network failure, for callers that add their own advice (flag names).
    pub fn network_failure(&self) -> Option<Failure> {
        match self {
            OciError::Network { message, .. } => Some(message.failure),
            _ => None,
        }
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

    fn network(text: &str, failure: Failure) -> OciError {
        OciError::Network {
            registry: "r.example".into(),
            action: "GET manifest".into(),
            message: Cause {
                text: text.into(),
                failure,
            },
        }
    }

    // See: issue 8 item 16
    #[test]
    fn network_errors_say_what_to_do_by_kind_not_text() {
        let dns = network("client error (Connect)", Failure::Dns);
        assert!(dns.is_permanent_network());
        assert!(
            dns.to_string()
                .ends_with("check the registry host name (and that this machine can resolve it)")
        );
        let tls = network("invalid peer certificate: UnknownIssuer", Failure::Tls);
        assert!(tls.is_permanent_network());
        assert!(tls.to_string().contains("trust that CA"), "{tls}");
        let refused = network("tcp connect error", Failure::Refused);
        assert!(!refused.is_permanent_network());
        let text = refused.to_string();
        assert!(
            text.contains("registry is up and the port is right"),
            "{text}"
        );
        assert!(!text.contains("CA"), "{text}");
        // The text alone decides nothing.
        let looks_like_dns = network("dns error: failed to lookup address", Failure::Reset);
        assert!(!looks_like_dns.is_permanent_network());
        let timeout = network("operation timed out", Failure::Timeout);
        assert!(timeout.is_permanent_network());
        assert!(timeout.to_string().contains("CICD_HTTP_TIMEOUT"));
    }
}
