//! When and how long to wait before trying a server again: exponential backoff with jitter
//! on 5xx, 429 (honouring `Retry-After`), 408 and broken connections. The registry's loops
//! and [`super::Client::send`] all follow this one policy.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 6,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }
}

/// The longest `Retry-After` obeyed; a registry asking for more is treated as failing.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

impl Retry {
    /// The wait before try `attempt + 1` (`attempt` counts from 0): the server's
    /// `Retry-After` when given, else `base * 2^attempt` capped, with the upper half jittered
    /// so parallel transfers do not retry in lockstep.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(RETRY_AFTER_MAX);
        }
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.cap);
        let half = exp / 2;
        half + half.mul_f64(jitter())
    }
}

/// A number in [0, 1), different on every call.
fn jitter() -> f64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

pub fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status) && status != 501
}

/// The `Retry-After` of an answer, when it has a usable one.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = Retry {
            attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for attempt in 0..20 {
            let d = r.delay(attempt, None);
            let full = Duration::from_millis(100)
                .saturating_mul(2u32.saturating_pow(attempt.min(16)))
                .min(Duration::from_secs(1));
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert_eq!(
            r.delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(r.delay(0, Some(Duration::from_secs(900))), RETRY_AFTER_MAX);
    }

    #[test]
    fn retry_after_and_statuses() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert!(retryable_status(503) && retryable_status(429) && retryable_status(500));
        assert!(!retryable_status(404) && !retryable_status(401) && !retryable_status(501));
    }
}
