//! The one HTTP stack every network client of cicd is built on: registries (`oci`), Git smart
//! HTTP and GitHub's REST API (`github`), and the signing and release services to come.
//! It owns the client builder (rustls with ring, extra CA files, user agent), the timeouts
//! each [`Purpose`] gets (`CICD_HTTP_TIMEOUT` overrides them), the "still waiting" line on
//! stderr, the retry policy ([`Retry`]) with the one retry loop ([`Client::send`]), and the
//! error chain that classifies a failure by its type ([`Failure`]), never by its text.

mod client;
mod error;
pub mod retry;
mod watch;

use std::sync::OnceLock;
use std::time::Duration;

pub use client::{Capped, Client, SendError, collect_capped, network, read_capped, send};
pub use error::{Cause, Failure, HttpError, chain};
pub use retry::{Retry, parse_retry_after, retry_after, retryable_status};
pub use watch::TimedOut;

/// The environment variable that overrides every timeout below, in seconds.
pub const TIMEOUT_ENV: &str = "CICD_HTTP_TIMEOUT";

/// What a client talks to, which decides how long it waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// OCI registries: small manifests and tokens, and blob bodies of any size, so no total
    /// per request; a body fails when it pauses too long (transfers show progress meanwhile).
    Registry,
    /// Git smart HTTP: `ls-refs` and small fetches, answered in well under a second.
    Git,
    /// JSON REST APIs (GitHub's; later Fulcio, Rekor, OIDC, TUF): small bodies.
    Api,
}

/// How long a client waits, per request and per operation (all its retries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// For the response headers, counted from when the request's last byte went out.
    pub first_byte: Duration,
    /// For each next piece of a response body.
    pub pause: Duration,
    /// For one request, body included; `None` where bodies can be of any size.
    pub request: Option<Duration>,
    /// For one operation, retries included: no retry starts after it is spent.
    pub budget: Duration,
}

impl Purpose {
    /// The waits this purpose gets: `CICD_HTTP_TIMEOUT=N` sets connect, first byte and pause
    /// to N seconds (a small-answer purpose's request to 3N and its budget to 2N).
    pub fn timeouts(self) -> Timeouts {
        self.timeouts_with(override_secs())
    }

    fn timeouts_with(self, override_secs: Option<u64>) -> Timeouts {
        let (connect, first_byte, pause) = match (override_secs, self) {
            (Some(n), _) => (n, n, n),
            (None, Purpose::Registry) => (10, 30, 60),
            (None, Purpose::Git | Purpose::Api) => (10, 10, 10),
        };
        let secs = Duration::from_secs;
        Timeouts {
            connect: secs(connect),
            first_byte: secs(first_byte),
            pause: secs(pause),
            // Beyond the watch on headers (connect + first byte), so the two never race.
            request: (self != Purpose::Registry).then(|| secs(connect + 2 * first_byte)),
            budget: secs(2 * first_byte),
        }
    }

    /// The user agent servers see: Git hosts route on a `git/` prefix.
    fn user_agent(self) -> &'static str {
        match self {
            Purpose::Git => concat!("git/2.0 (cicd/", env!("CARGO_PKG_VERSION"), ")"),
            Purpose::Registry | Purpose::Api => concat!("cicd/", env!("CARGO_PKG_VERSION")),
        }
    }
}

static OVERRIDE: OnceLock<Option<u64>> = OnceLock::new();

/// Reads `CICD_HTTP_TIMEOUT` once, at start-up, so a bad value is a usage error (exit 2)
/// before anything is sent rather than a silent default.
pub fn configure_from_env() -> Result<(), String> {
    let value = std::env::var(TIMEOUT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let parsed = match value {
        None => None,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=3600).contains(&n) => Some(n),
            _ => {
                return Err(format!(
                    "{TIMEOUT_ENV}={v:?}: expected a whole number of seconds from 1 to 3600"
                ));
            }
        },
    };
    let _ = OVERRIDE.set(parsed);
    Ok(())
}

fn override_secs() -> Option<u64> {
    *OVERRIDE.get_or_init(|| {
        std::env::var(TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| (1..=3600).contains(n))
    })
}

/// When a request still has no answer after this long, one line on stderr says so.
fn slow_after() -> Duration {
    match override_secs() {
        Some(n) => Duration::from_millis(n * 500).max(Duration::from_millis(500)),
        None => Duration::from_secs(5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_answers_get_seconds_and_bodies_get_longer() {
        let git = Purpose::Git.timeouts_with(None);
        assert_eq!(git.first_byte, Duration::from_secs(10));
        assert_eq!(git.request, Some(Duration::from_secs(30)));
        let registry = Purpose::Registry.timeouts_with(None);
        assert!(registry.first_byte > git.first_byte && registry.pause > registry.first_byte);
        assert_eq!(registry.request, None);
        assert!(git.budget >= git.first_byte && registry.connect <= registry.first_byte);
        let set = Purpose::Api.timeouts_with(Some(3));
        assert_eq!(set.connect, Duration::from_secs(3));
        assert_eq!(set.first_byte, Duration::from_secs(3));
        assert_eq!(set.budget, Duration::from_secs(6));
    }
}
