//! The server's one clock ([`Clock`]), and the forms of time the data uses.
//!
//! Invariant: this is the only file that reads the system time. Request code reads `AppState::clock`,
//! background tasks a clone of it, so a test that sets the state's clock sets the server's time.
//!
//! Invariant: timestamps stored and sent are RFC 3339 UTC with second precision (`2026-11-27T10:00:00Z`), so
//! that they sort as text.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where the server reads "now": the system clock, or (tests) a settable moment. A cheap `Clone` handle:
/// the clones of a fixed clock share its moment, so setting one sets them all.
///
/// ```
/// use server::clock::Clock;
/// use time::macros::datetime;
///
/// let clock = Clock::fixed(datetime!(2026-03-15 12:00 UTC));
/// let handle = clock.clone();
/// clock.advance(time::Duration::days(20));
/// assert_eq!(handle.now_rfc3339(), "2026-04-04T12:00:00Z");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: milliseconds since the Unix epoch, shared by the clones.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock (what the server runs on).
    pub fn real() -> Self {
        Self { fixed: None }
    }

    /// A clock standing at `moment` until it is [`set`](Self::set) or [`advance`](Self::advance)d
    /// (millisecond precision).
    pub fn fixed(moment: OffsetDateTime) -> Self {
        Self { fixed: Some(Arc::new(AtomicI64::new(unix_ms(moment)))) }
    }

    /// Whether this clock was made with [`Clock::fixed`].
    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }

    /// Now, in UTC.
    pub fn now(&self) -> OffsetDateTime {
        match &self.fixed {
            None => OffsetDateTime::now_utc(),
            Some(ms) => moment_of(ms.load(Ordering::Relaxed)),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.fixed {
            None => unix_ms(OffsetDateTime::now_utc()),
            Some(ms) => ms.load(Ordering::Relaxed),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Now as RFC 3339 text (see [`rfc3339`]).
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now())
    }

    /// Moves a fixed clock (and its clones) to `moment`.
    ///
    /// # Panics
    /// On the system clock: only a clock made with [`Clock::fixed`] can be set.
    pub fn set(&self, moment: OffsetDateTime) {
        self.fixed_ms().store(unix_ms(moment), Ordering::Relaxed);
    }

    /// Moves a fixed clock (and its clones) by `by` (backwards when negative).
    ///
    /// # Panics
    /// On the system clock: only a clock made with [`Clock::fixed`] can be moved.
    pub fn advance(&self, by: time::Duration) {
        let by_ms = i64::try_from(by.whole_milliseconds()).expect("a clock moves by less than 292 million years");
        self.fixed_ms().fetch_add(by_ms, Ordering::Relaxed);
    }

    fn fixed_ms(&self) -> &AtomicI64 {
        self.fixed.as_deref().expect("only a Clock::fixed can be set or advanced, not the system clock")
    }
}

/// A moment in milliseconds since the Unix epoch (rounded down), the form of the `*_ms` columns.
pub fn unix_ms(moment: OffsetDateTime) -> i64 {
    i64::try_from(moment.unix_timestamp_nanos().div_euclid(1_000_000)).expect("a date of the time crate fits in i64 ms")
}

fn moment_of(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .expect("a clock stays within the time crate's dates")
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

    #[test]
    fn a_fixed_clock_stands_still_until_set_or_advanced_and_its_clones_follow() {
        let clock = Clock::fixed(datetime!(2026-03-15 12:00:00.250 UTC));
        let clone = clock.clone();
        assert!(clock.is_fixed());
        assert_eq!(clock.now(), datetime!(2026-03-15 12:00:00.250 UTC));
        assert_eq!(clock.now_ms(), 1_773_576_000_250);
        assert_eq!(clock.now_secs(), 1_773_576_000);
        assert_eq!(clock.now_rfc3339(), "2026-03-15T12:00:00Z");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clone.now_ms(), 1_773_576_000_250, "a fixed clock does not tick by itself");

        clock.advance(time::Duration::days(17));
        assert_eq!(clone.now_rfc3339(), "2026-04-01T12:00:00Z");
        assert_eq!(month_start_rfc3339(clone.now()), "2026-04-01T00:00:00Z");
        clone.advance(time::Duration::milliseconds(-251));
        assert_eq!(clock.now(), datetime!(2026-04-01 11:59:59.999 UTC));
        assert_eq!(clock.now_secs(), clock.now().unix_timestamp());

        clone.set(datetime!(1969-12-31 23:59:59.5 UTC));
        assert_eq!((clock.now_ms(), clock.now_secs()), (-500, -1), "before the epoch, seconds round down");
    }

    #[test]
    fn the_real_clock_reads_the_system_time() {
        let clock = Clock::default();
        assert!(!clock.is_fixed());
        let before = OffsetDateTime::now_utc();
        let read = clock.now();
        assert!(before <= read && read <= OffsetDateTime::now_utc());
        assert!((clock.now_ms() - unix_ms(OffsetDateTime::now_utc())).abs() < 1_000);
    }

    #[test]
    #[should_panic(expected = "only a Clock::fixed")]
    fn the_real_clock_cannot_be_set() {
        Clock::real().set(datetime!(2026-03-15 12:00 UTC));
    }
}
