//! UTC calendar days for the owner's revenue chart: `YYYY-MM-DD` texts to day numbers and back, and the
//! bucket arithmetic.
//!
//! Invariant: no clock. "Today" is the day of the order the event carries (server time), so the chart rolls
//! over to a new day when the first order of that day arrives, keeping its length.

use protocol::{Cents, DayRevenue};

/// Days since 1970-01-01 of the date that `text` starts with (`2026-11-27` or `2026-11-27T10:00:00Z`);
/// `None` when it does not start with a valid date.
pub(super) fn day_number(text: &str) -> Option<i64> {
    let date = text.get(..10)?;
    let bytes = date.as_bytes();
    if bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = date.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Rejects 2026-02-30 and the like: the day must read back as itself.
    (date_text(days) == date).then_some(days)
}

/// The `YYYY-MM-DD` text of a day number.
pub(super) fn date_text(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Adds `revenue` and `orders` (negative to remove) to the bucket of the day `created_at` falls on.
///
/// A day before the chart is ignored. A day after its last one is a new UTC day: when `roll` is set the chart
/// moves forward to end on it (zero-filled days appended, as many of the oldest dropped, the length kept);
/// otherwise it is ignored. Buckets never go below zero. Returns whether a bucket changed.
pub(super) fn add_to_day(
    buckets: &mut Vec<DayRevenue>,
    created_at: &str,
    revenue: Cents,
    orders: i64,
    roll: bool,
) -> bool {
    let Some(day) = day_number(created_at) else { return false };
    let Some(last) = buckets.last().and_then(|bucket| day_number(&bucket.date)) else { return false };
    if day > last {
        if !roll {
            return false;
        }
        let length = buckets.len();
        let first_new = (last + 1).max(day - length as i64 + 1);
        buckets.extend((first_new..=day).map(|d| DayRevenue {
            date: date_text(d),
            revenue_cents: Cents(0),
            orders: 0,
        }));
        let excess = buckets.len() - length;
        buckets.drain(..excess);
    }
    let date = date_text(day);
    let Some(bucket) = buckets.iter_mut().find(|bucket| bucket.date == date) else { return false };
    let before = (bucket.revenue_cents, bucket.orders);
    bucket.revenue_cents = Cents((bucket.revenue_cents.0 + revenue.0).max(0));
    bucket.orders = bucket.orders.saturating_add_signed(orders);
    before != (bucket.revenue_cents, bucket.orders)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_day_numbers_round_trip() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01T00:00:00Z"), Some(11_017));
        for text in ["2024-02-29", "2026-12-31", "2027-01-01", "1999-12-31"] {
            assert_eq!(date_text(day_number(text).unwrap()), text);
        }
        assert_eq!(day_number("2026-12-31").unwrap() + 1, day_number("2027-01-01").unwrap());
    }

    #[test]
    fn bad_dates_are_refused() {
        for bad in ["", "2026-11", "2026/11/27", "2026-13-01", "2026-02-30", "2025-02-29", "20x6-01-01", "2026-1-010"] {
            assert_eq!(day_number(bad), None, "{bad:?}");
        }
    }

    fn chart(last: &str, length: i64) -> Vec<DayRevenue> {
        let end = day_number(last).unwrap();
        (end - length + 1..=end)
            .map(|d| DayRevenue { date: date_text(d), revenue_cents: Cents(0), orders: 0 })
            .collect()
    }

    #[test]
    fn a_new_day_rolls_the_chart_forward_keeping_its_length() {
        let mut buckets = chart("2026-12-31", 30);
        assert!(add_to_day(&mut buckets, "2027-01-02T08:00:00Z", Cents(500), 1, true));
        assert_eq!(buckets.len(), 30);
        assert_eq!(
            buckets.last().unwrap(),
            &DayRevenue { date: "2027-01-02".into(), revenue_cents: Cents(500), orders: 1 }
        );
        assert_eq!(buckets[28].date, "2027-01-01");
        assert_eq!(buckets[0].date, "2026-12-04");

        let mut far = chart("2026-01-31", 3);
        assert!(add_to_day(&mut far, "2026-03-01T00:00:00Z", Cents(1), 1, true));
        let dates: Vec<_> = far.iter().map(|b| b.date.as_str()).collect();
        assert_eq!(dates, ["2026-02-27", "2026-02-28", "2026-03-01"]);
    }

    #[test]
    fn days_outside_the_chart_are_ignored_and_buckets_stay_positive() {
        let mut buckets = chart("2026-11-27", 30);
        assert!(!add_to_day(&mut buckets, "2026-10-01T00:00:00Z", Cents(500), 1, true));
        assert!(!add_to_day(&mut buckets, "2026-11-28T00:00:00Z", Cents(-500), -1, false));
        assert!(!add_to_day(&mut buckets, "2026-11-27T00:00:00Z", Cents(-500), -1, false));
        assert!(buckets.iter().all(|b| b.revenue_cents == Cents(0) && b.orders == 0));
        assert!(!add_to_day(&mut Vec::new(), "2026-11-27T00:00:00Z", Cents(5), 1, true));
    }
}
