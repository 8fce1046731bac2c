//! Refreshing an entry before it expires: whether a fresh entry is due for
//! an early refresh (`XFetch`), and the refresh itself, run in the
//! background once per key. How long an entry lives is `lifetimes.rs`.

use std::sync::Arc;

use bytes::Bytes;

use super::compute::{BoxedCompute, MayServeStale};
use super::engine::Cache;
use super::flights::Join;
use super::lifetimes::refresh_early;
use super::policy_trait::CachePolicy;

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
