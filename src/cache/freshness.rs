//! How long an entry is fresh, and refreshing it before it is not: TTL
//! jitter, the stale window, and early refreshes in the manner of `XFetch`,
//! run in the background once per key.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::compute::{BoxedCompute, MayServeStale};
use super::engine::Cache;
use super::policy_trait::CachePolicy;
use super::single_flight::Join;
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

impl<P: CachePolicy> Cache<P> {
    /// Whether a fresh entry should be refreshed now, ahead of its expiry.
    pub(super) fn due_early(&self, now_ms: u64, stale_at_ms: u64, compute_us: u64) -> bool {
        refresh_early(now_ms, stale_at_ms, compute_us, self.config.xfetch_beta)
    }

    /// Refreshes a fragment in the background, unless a refresh or a
    /// computation of it is already under way here or elsewhere.
    pub(super) fn spawn_refresh<E: MayServeStale>(
        self: &Arc<Self>,
        fragment: P::Fragment,
        key: String,
        compute: BoxedCompute<Bytes, E>,
    ) {
        // A flight of its own: requests meanwhile serve the expired copy
        // rather than wait for the refresh.
        let refresh = format!("{key} refresh");
        if self.flights.active(&refresh) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let Join::Leader(guard) = this.flights.join(&refresh) else {
                return;
            };
            let lock = this.keys.lock(&key);
            // With Redis, once across instances; in memory, the flight is
            // the lock.
            let redis = this.backend.redis();
            let token = match redis {
                Some(redis) => match redis.store.try_lock(&lock, this.config.lock_ttl).await {
                    Ok(Some(token)) => Some(token),
                    _ => return,
                },
                None => None,
            };
            let result = this.compute_and_store(fragment, &key, compute).await;
            if let (Some(redis), Some(token)) = (redis, token) {
                let _ = redis.store.unlock(&lock, &token).await;
            }
            guard.finish(result.ok());
        });
    }
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
