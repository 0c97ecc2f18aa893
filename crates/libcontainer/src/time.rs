//! Wall-clock timestamps in RFC 3339 (UTC), as runc writes them in state and log records.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-11-22T15:54:11.123456789Z` for `t` (nanosecond precision, like Go's RFC3339Nano).
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (date, clock) = civil(d.as_secs());
    format!("{date}T{clock}.{:09}Z", d.subsec_nanos())
}

/// `2026-11-22T15:54:11Z` for `t` (second precision, like Go's RFC3339).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (date, clock) = civil(d.as_secs());
    format!("{date}T{clock}Z")
}

pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// Split seconds since the epoch into `YYYY-MM-DD` and `HH:MM:SS` (proleptic Gregorian, UTC).
fn civil(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_795_362_851, 5);
        assert_eq!(rfc3339_nanos(t), "2026-11-22T15:54:11.000000005Z");
        // leap day
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
    }
}
