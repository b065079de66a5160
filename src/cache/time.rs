//! Time for the cache: a `Millis` newtype used both for instants and for durations.
//!
//! Invariant: no clock is read here or anywhere in `src/cache/`; the driver passes `now` in, always from the
//! same clock: wall-clock milliseconds since the Unix epoch (`js_sys::Date::now()`), because persisted
//! `fetched_at` values must compare with `now` after a reload. Arithmetic saturates and never panics.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds: an instant (since the Unix epoch) or a duration, depending on the field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    /// Zero: the epoch, or no delay.
    pub const ZERO: Millis = Millis(0);

    /// A duration of whole seconds.
    pub const fn from_secs(secs: u64) -> Millis {
        Millis(secs.saturating_mul(1_000))
    }

    /// A duration of whole minutes.
    pub const fn from_mins(mins: u64) -> Millis {
        Millis(mins.saturating_mul(60_000))
    }

    /// `self + other`, clamped at `u64::MAX`.
    pub const fn saturating_add(self, other: Millis) -> Millis {
        Millis(self.0.saturating_add(other.0))
    }

    /// `self - other`, clamped at zero.
    pub const fn saturating_sub(self, other: Millis) -> Millis {
        Millis(self.0.saturating_sub(other.0))
    }

    /// Converts a clock reading in (possibly fractional, possibly negative or NaN) milliseconds, as returned by
    /// `js_sys::Date::now()`, clamping what cannot be represented.
    pub fn from_f64(ms: f64) -> Millis {
        // `as` saturates for out-of-range floats and maps NaN to zero: never a panic.
        Millis(ms as u64)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_saturating_arithmetic() {
        assert_eq!(Millis::from_secs(30), Millis(30_000));
        assert_eq!(Millis::from_mins(2), Millis(120_000));
        assert_eq!(Millis(u64::MAX).saturating_add(Millis(1)), Millis(u64::MAX));
        assert_eq!(Millis(1).saturating_sub(Millis(5)), Millis::ZERO);
        assert_eq!(Millis::from_secs(u64::MAX), Millis(u64::MAX));
    }

    #[test]
    fn clock_readings_are_clamped() {
        assert_eq!(Millis::from_f64(1_700_000_000_123.9), Millis(1_700_000_000_123));
        assert_eq!(Millis::from_f64(-5.0), Millis::ZERO);
        assert_eq!(Millis::from_f64(f64::NAN), Millis::ZERO);
        assert_eq!(Millis::from_f64(f64::INFINITY), Millis(u64::MAX));
    }

    #[test]
    fn serializes_as_a_plain_number() {
        assert_eq!(serde_json::to_string(&Millis(42)).unwrap(), "42");
    }
}
