//! The server's notion of now, in the two forms the data uses.
//!
//! Invariant: timestamps stored and sent are RFC 3339 UTC with second precision (`2026-11-27T10:00:00Z`), so
//! that they sort as text.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Now as RFC 3339 text.
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// A moment as RFC 3339 text, second precision, UTC.
pub fn rfc3339(moment: OffsetDateTime) -> String {
    let moment = moment.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("0 ns is valid");
    moment.format(&Rfc3339).expect("a UTC date formats as RFC 3339")
}

/// The first instant of the current calendar month (UTC), as RFC 3339 text: the lower bound of "monthly".
pub fn month_start_rfc3339(now: OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    let start = now.replace_day(1).expect("day 1 exists").replace_time(time::Time::MIDNIGHT);
    rfc3339(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_sort_as_text() {
        assert_eq!(rfc3339(datetime!(2026-11-27 10:00:00.75 UTC)), "2026-11-27T10:00:00Z");
        assert!(rfc3339(datetime!(2026-11-27 09:59:59 UTC)) < rfc3339(datetime!(2026-11-27 10:00:00 UTC)));
        assert_eq!(month_start_rfc3339(datetime!(2026-11-27 10:00:00 +02:00)), "2026-11-01T00:00:00Z");
    }
}
