//! Reconnect delays: exponential backoff with full jitter, and the small seedable PRNG that draws the jitter.
//!
//! Invariant: pure arithmetic; no clock and no entropy source of its own (the driver supplies the seed).

use std::time::Duration;

/// SplitMix64: a tiny, fast, well-mixed PRNG. Not cryptographic; it only spreads reconnects over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose whole sequence is determined by `seed` (tests use fixed seeds; the driver uses
    /// `Math.random()` or `crypto.getRandomValues`).
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The upper bound of the delay before retry number `attempt` (0-based): `min(cap, base * 2^attempt)`,
/// saturating instead of overflowing for any `attempt`.
pub fn bound(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap)
}

/// Full jitter: a delay uniformly drawn from `[0, bound]` (inclusive, millisecond resolution) using `random`.
pub fn full_jitter(bound: Duration, random: u64) -> Duration {
    let bound_ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
    let ms = match bound_ms.checked_add(1) {
        Some(span) => random % span,
        None => random,
    };
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(500);
    const CAP: Duration = Duration::from_secs(30);

    #[test]
    fn bound_doubles_from_base_and_is_capped() {
        let bounds: Vec<u128> = (0..9).map(|a| bound(a, BASE, CAP).as_millis()).collect();
        assert_eq!(bounds, [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
        // Huge attempt counts saturate instead of overflowing or wrapping to small values.
        for attempt in [31, 32, 33, 63, 64, 1_000, u32::MAX] {
            assert_eq!(bound(attempt, BASE, CAP), CAP, "attempt {attempt}");
        }
    }

    #[test]
    fn full_jitter_stays_within_bound_and_spreads_over_it() {
        for attempt in 0..12 {
            let b = bound(attempt, BASE, CAP);
            let (mut lowest, mut highest) = (Duration::MAX, Duration::ZERO);
            for seed in 0..2_000u64 {
                let d = full_jitter(b, Rng::new(seed).next_u64());
                assert!(d <= b, "attempt {attempt} seed {seed}: {d:?} > {b:?}");
                lowest = lowest.min(d);
                highest = highest.max(d);
            }
            // Full jitter, not "bound plus a little": the draws cover most of [0, bound].
            assert!(lowest <= b / 10, "attempt {attempt}: lowest {lowest:?}");
            assert!(highest >= b * 9 / 10, "attempt {attempt}: highest {highest:?}");
        }
        assert_eq!(full_jitter(Duration::ZERO, u64::MAX), Duration::ZERO);
        assert_eq!(full_jitter(Duration::MAX, 7), Duration::from_millis(7), "no overflow at the top");
    }

    #[test]
    fn rng_is_determined_by_its_seed() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            [rng.next_u64(), rng.next_u64(), rng.next_u64()]
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
        assert_ne!(draw(0)[0], draw(0)[1]);
    }
}
