//! Reconnect delays: exponential with full jitter, so thousands of clients of a restarted hub
//! spread out instead of returning at once.

use std::time::Duration;

use rand::Rng;

/// The first retry comes within 0–1 s.
pub const BASE: Duration = Duration::from_secs(1);
/// No wait is longer than this.
pub const CAP: Duration = Duration::from_secs(30);

/// The delay before retry number `attempt` (1 for the first retry): uniformly random in
/// `0..=min(CAP, BASE · 2^(attempt-1))`.
pub fn delay(attempt: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(CAP);
    Duration::from_millis(rng.random_range(0..=ceiling.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn delays_stay_within_their_doubling_ceiling_and_the_cap() {
        let mut rng = StdRng::seed_from_u64(1);
        for attempt in 1..40 {
            let ceiling = if attempt > 5 { CAP } else { BASE * (1 << (attempt - 1)) };
            for _ in 0..200 {
                assert!(delay(attempt, &mut rng) <= ceiling, "attempt {attempt}");
            }
        }
    }

    #[test]
    fn the_first_retry_is_spread_over_a_second() {
        let mut rng = StdRng::seed_from_u64(2);
        let delays: Vec<Duration> = (0..1000).map(|_| delay(1, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(1)));
        let early = delays.iter().filter(|d| **d < Duration::from_millis(500)).count();
        assert!((350..=650).contains(&early), "roughly half in the first half second: {early}");
    }
}
