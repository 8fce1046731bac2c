//! How long an entry lives: TTL jitter, the stale window, and the odds of an
//! early refresh in the manner of `XFetch`. Arithmetic on times only; the
//! refreshing itself is in `freshness.rs`.

use std::time::Duration;

use crate::clock::millis;

/// The lifetimes of an entry computed now.
pub(super) struct Lifetimes {
    /// The TTL less its jitter: how long the entry counts as current.
    pub(super) hard: Duration,
    pub(super) stale_at_ms: u64,
    pub(super) expires_at_ms: u64,
}

impl Lifetimes {
    /// For a value of TTL `ttl` made at `created_ms`, never fresher than the
    /// nested fragments it was built from (`stale_by_ms`).
    pub(super) fn of_new(ttl: Duration, created_ms: u64, stale_by_ms: Option<u64>) -> Self {
        // Whole milliseconds, as entries keep their times.
        let jitter = Duration::from_millis(millis(max_jitter(ttl).mul_f64(rand::random::<f64>())));
        let hard = ttl.saturating_sub(jitter).max(Duration::from_millis(1));
        let own_stale_at = created_ms + millis(hard.saturating_sub(stale_window(ttl)));
        Self {
            hard,
            stale_at_ms: stale_by_ms.map_or(own_stale_at, |s| s.min(own_stale_at)),
            expires_at_ms: created_ms + millis(hard),
        }
    }
}

/// How long before its TTL ends an entry counts as expired: from then on it
/// is served stale while one request refreshes it, and it stays available
/// as a last resort should the database be down.
pub(super) fn stale_window(ttl: Duration) -> Duration {
    (ttl / 10).min(Duration::from_secs(3600))
}

/// Up to this much is taken off each TTL at random, so that entries written
/// together do not all expire together.
pub(super) fn max_jitter(ttl: Duration) -> Duration {
    (ttl / 20).min(Duration::from_secs(3600))
}

/// `XFetch`: refresh early with a chance that grows as expiry nears and with
/// the time the value takes to compute.
#[expect(
    clippy::cast_precision_loss,
    reason = "exact below 2^53: Unix milliseconds until the year 287,396, microseconds of one computation up to 285 years"
)]
pub(super) fn refresh_early(now_ms: u64, stale_at_ms: u64, compute_us: u64, beta: f64) -> bool {
    let u: f64 = 1.0 - rand::random::<f64>(); // (0, 1]
    let gap_ms = (compute_us as f64 / 1000.0) * beta * -u.ln();
    now_ms as f64 + gap_ms >= stale_at_ms as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `XFetch` refreshes at t before expiry with probability exp(-t / (beta * delta)).
    #[test]
    fn early_refresh_grows_near_expiry_and_with_compute_time() {
        #[expect(
            clippy::cast_precision_loss,
            reason = "`hits` is at most 20,000, the draws counted"
        )]
        let share = |before_ms: u64, compute_us: u64| {
            let hits = (0..20_000)
                .filter(|_| refresh_early(1_000_000 - before_ms, 1_000_000, compute_us, 1.0))
                .count();
            hits as f64 / 20_000.0
        };
        // delta = 100 ms: 10 ms before expiry ~ 0.905, 500 ms before ~ 0.0067.
        assert!(share(10, 100_000) > 0.85);
        assert!(share(500, 100_000) < 0.03);
        // A value that takes ten times longer to compute is refreshed earlier.
        assert!(share(500, 1_000_000) > 0.5);
        // Past expiry, always.
        assert!(refresh_early(2_000_000, 1_000_000, 0, 1.0));
    }
}
