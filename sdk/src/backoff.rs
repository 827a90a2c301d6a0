//! Exponential backoff with jitter for reconnecting.

use std::time::Duration;

use rand::Rng;

/// Delays that double from `initial` up to `max`; each one is drawn at random from the upper
/// half of its nominal value, so many clients dropped at once do not return in lockstep.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The nominal delay before the next attempt, without jitter.
    pub(crate) fn nominal(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt; each call moves one step up.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal();
        self.attempt = self.attempt.saturating_add(1);
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        nominal.mul_f64(jitter)
    }

    /// Start again from `initial` (after a connection that held).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let nominals: Vec<u128> = (0..10)
            .map(|_| {
                let n = b.nominal().as_millis();
                b.next_delay();
                n
            })
            .collect();
        assert_eq!(
            nominals,
            vec![100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn jitter_stays_within_the_upper_half() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        for _ in 0..50 {
            let nominal = b.nominal();
            let delay = b.next_delay();
            assert!(
                delay <= nominal && delay >= nominal / 2,
                "{delay:?} vs {nominal:?}"
            );
        }
        // Many attempts later it neither overflows nor exceeds the cap.
        assert!(b.next_delay() <= Duration::from_secs(10));
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        b.next_delay();
        b.next_delay();
        b.reset();
        assert_eq!(b.nominal(), Duration::from_millis(100));
    }
}
