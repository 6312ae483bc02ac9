//! Time: seconds since the Unix epoch (UTC) from the system clock or from `CICD_NOW`
//! (`2026-01-31` or `2026-01-31T12:00:00Z`, which tests use to fix "now"), and the date and
//! RFC 3339 forms reports and ignore files use. Calendars are jiff's, never hand-written.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

/// The environment variable that replaces the system clock.
pub const NOW_ENV: &str = "CICD_NOW";

pub const DAY: i64 = 86_400;

/// Now, or the time `CICD_NOW` names. A `CICD_NOW` that does not parse is an error.
pub fn now() -> Result<i64, String> {
    match std::env::var(NOW_ENV) {
        Ok(v) if !v.trim().is_empty() => parse(&v).ok_or_else(|| {
            format!("{NOW_ENV}=`{v}` is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)")
        }),
        _ => Ok(Timestamp::now().as_second()),
    }
}

fn utc(t: i64) -> DateTime {
    Offset::UTC.to_datetime(Timestamp::from_second(t).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// The date of a time, `YYYY-MM-DD`.
pub fn date(t: i64) -> String {
    utc(t).date().to_string()
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` of a time.
pub fn rfc3339(t: i64) -> String {
    utc(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A calendar date `YYYY-MM-DD` (midnight UTC); a day the month does not have is `None`.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    // jiff also reads the basic form `20260131`; ignore files and cicd.yaml write dashes.
    if s.len() != 10 || s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let d: Date = s.parse().ok()?;
    Offset::UTC
        .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .ok()
        .map(|t| t.as_second())
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339 with `Z` or an offset; fractions are dropped.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.contains(['T', 't', ' ']) {
        return parse_date(s);
    }
    let ts: Timestamp = s.parse().ok()?;
    Some(ts.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("1970-01-02"), Some(DAY));
        let t = parse("2024-02-29T13:14:15Z").expect("parses");
        assert_eq!(rfc3339(t), "2024-02-29T13:14:15Z");
        assert_eq!(parse("2024-02-29T15:14:15+02:00"), Some(t));
        assert_eq!(parse("2024-02-29T13:14:15.123Z"), Some(t));
        assert_eq!(date(parse("1999-12-31").expect("parses")), "1999-12-31");
        for bad in [
            "",
            "2024-13-01",
            "2026-02-30",
            "2025-02-29",
            "2024-04-31",
            "2024-1",
            "20240101",
            "x",
            "2024-01-01T25:00:00Z",
            "2024-01-01T10:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
