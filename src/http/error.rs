//! Why a request failed, read from the error's type as it walks the source chain (reqwest,
//! hyper, `std::io`, rustls), with the whole chain as text for the message: reqwest's own
//! message only says that a request failed; its causes say why.

use std::error::Error;
use std::fmt;
use std::io::ErrorKind;
use std::path::PathBuf;

/// The kind of network failure, which decides whether a retry can help and what to suggest.
/// Ordered from least to most specific: the most specific found in a chain wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Anything not recognised below.
    Other,
    /// The connection broke (reset, closed early, body cut short).
    Reset,
    /// Nothing answered within the configured time.
    Timeout,
    /// Nothing listens at that address and port.
    Refused,
    /// TLS failed: an untrusted or invalid certificate, or not TLS at all.
    Tls,
    /// The host name does not resolve.
    Dns,
}

impl Failure {
    /// Whether another try could succeed: a name that does not resolve or a certificate that
    /// is not trusted will not change, and a timeout has already spent the wait it was given.
    pub fn is_transient(self) -> bool {
        matches!(self, Failure::Other | Failure::Reset | Failure::Refused)
    }

    /// What to do about it, phrased for any server (no command-line flags: callers that
    /// have them add them).
    pub fn hint(self) -> &'static str {
        match self {
            Failure::Dns => "check the host name (and that this machine can resolve it)",
            Failure::Refused => {
                "nothing listens there: check the address and port, and that the server is up"
            }
            Failure::Tls => {
                "TLS failed: check that the server speaks HTTPS there and, if its certificate comes from a private CA, trust that CA"
            }
            Failure::Timeout => {
                "the server did not answer in time: check that it is healthy, or give it longer with CICD_HTTP_TIMEOUT=SECONDS"
            }
            Failure::Reset | Failure::Other => {
                "check the address and that the server is up, then try again"
            }
        }
    }
}

/// An error's full chain as text, and its [`Failure`] kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    pub text: String,
    pub failure: Failure,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A cause that is not a network error from a client (a body that cannot be sent again).
impl From<&str> for Cause {
    fn from(text: &str) -> Self {
        Cause {
            text: text.to_owned(),
            failure: Failure::Other,
        }
    }
}

impl From<String> for Cause {
    fn from(text: String) -> Self {
        Cause {
            text,
            failure: Failure::Other,
        }
    }
}

/// An error with its causes, and what kind of failure it is. The one error chain: every
/// client's messages go through here.
pub fn chain(e: &(dyn Error + 'static)) -> Cause {
    let mut text = e.to_string();
    let mut failure = classify(e);
    let mut cur = e.source();
    while let Some(err) = cur {
        let t = err.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        failure = failure.max(classify(err));
        cur = err.source();
    }
    Cause { text, failure }
}

/// The kind of one link of a chain. `io::Error` hides the error it wraps from `source()`
/// (rustls's errors travel that way), so its inner error is looked at too.
fn classify(err: &(dyn Error + 'static)) -> Failure {
    if let Some(e) = err.downcast_ref::<reqwest::Error>() {
        if e.is_dns() {
            return Failure::Dns;
        }
        if e.is_timeout() {
            return Failure::Timeout;
        }
    }
    if err.is::<rustls::Error>() {
        return Failure::Tls;
    }
    if err.is::<super::TimedOut>() {
        return Failure::Timeout;
    }
    match err.downcast_ref::<super::SendError>() {
        Some(super::SendError::NoAnswer { .. }) => return Failure::Timeout,
        // Transparent: its `source()` skips the reqwest error itself.
        Some(super::SendError::Http(e)) => return classify(e),
        None => {}
    }
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        let inner = io.get_ref().map_or(Failure::Other, |i| classify(i));
        let own = match io.kind() {
            ErrorKind::ConnectionRefused => Failure::Refused,
            ErrorKind::TimedOut => Failure::Timeout,
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof => Failure::Reset,
            _ => Failure::Other,
        };
        return own.max(inner);
    }
    Failure::Other
}

/// Why a client could not be built or a request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// An extra CA file (`--ca-cert`, `SSL_CERT_FILE`) that cannot be used.
    #[error("{path}: {message}")]
    CaFile { path: PathBuf, message: String },
    #[error("setting up HTTPS: {0}")]
    Setup(Cause),
    /// No answer, after the retries the policy allows; `url` names the server.
    #[error("{url}: {cause}; {}", cause.failure.hint())]
    Network { url: String, cause: Cause },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(std::io::Error);
    impl fmt::Display for Wrap {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl Error for Wrap {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn kinds_come_from_types_not_text() {
        let refused = Wrap(std::io::Error::from(ErrorKind::ConnectionRefused));
        let cause = chain(&refused);
        assert_eq!(cause.failure, Failure::Refused);
        assert!(
            cause.text.starts_with("client error (Connect): "),
            "{cause}"
        );
        // rustls's error inside an io::Error, as tokio-rustls hands it on.
        let tls = Wrap(std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(chain(&tls).failure, Failure::Tls);
        // Text that looks like a DNS failure is not one.
        let text = std::io::Error::other("dns error: failed to lookup address information");
        assert_eq!(chain(&text).failure, Failure::Other);
        assert!(!Failure::Dns.is_transient() && !Failure::Timeout.is_transient());
        assert!(Failure::Refused.is_transient() && Failure::Reset.is_transient());
    }
}
