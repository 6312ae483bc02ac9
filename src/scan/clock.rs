//! Time for ignore expiry: seconds since the Unix epoch (UTC), from the system clock or from
//! `CICD_NOW` (`2026-01-31` or `2026-01-31T12:00:00Z`), which tests use to fix "now".

use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that replaces the system clock.
pub const NOW_ENV: &str = "CICD_NOW";

pub const DAY: i64 = 86_400;

/// Now, or the time `CICD_NOW` names. A `CICD_NOW` that does not parse is an error.
pub fn now() -> Result<i64, String> {
    match std::env::var(NOW_ENV) {
        Ok(v) if !v.trim().is_empty() => parse(&v).ok_or_else(|| {
            format!("{NOW_ENV}=`{v}` is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)")
        }),
        _ => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a time, `YYYY-MM-DD`.
pub fn date(t: i64) -> String {
    let z = t.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` of a time.
pub fn rfc3339(t: i64) -> String {
    let s = t.rem_euclid(DAY);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(t),
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// A small decimal number (at most four digits, so arithmetic on it cannot overflow).
fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339 with `Z` or an offset; fractions are dropped.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date_part, time_part) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut it = date_part.split('-');
    let (y, m, d) = (num(it.next()?)?, num(it.next()?)?, num(it.next()?)?);
    if it.next().is_some()
        || !(1..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let mut t = days_from_civil(y, m, d) * DAY;
    if let Some(time) = time_part {
        let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(i) = time.rfind(['+', '-']) {
            let (c, o) = time.split_at(i);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            let (oh, om) = (num(oh)?, num(om)?);
            if oh > 23 || om > 59 {
                return None;
            }
            (c, sign * (oh * 3600 + om * 60))
        } else {
            return None;
        };
        let clock = clock.split('.').next()?;
        let mut parts = clock.split(':');
        let (h, mi, sec) = (
            num(parts.next()?)?,
            num(parts.next()?)?,
            num(parts.next().unwrap_or("0"))?,
        );
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        t += h * 3600 + mi * 60 + sec - offset;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("2026-03-01"), Some(days_from_civil(2026, 3, 1) * DAY));
        let t = parse("2024-02-29T13:14:15Z").expect("parses");
        assert_eq!(rfc3339(t), "2024-02-29T13:14:15Z");
        assert_eq!(parse("2024-02-29T15:14:15+02:00"), Some(t));
        assert_eq!(parse("2024-02-29T13:14:15.123Z"), Some(t));
        assert_eq!(date(parse("1999-12-31").expect("parses")), "1999-12-31");
        for bad in [
            "",
            "2024-13-01",
            "2024-1",
            "x",
            "2024-01-01T25:00:00Z",
            "2024-01-01T10:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
