//! What the cache is worth: per-fragment counts and gauges for `/metrics`,
//! the "useless cache" report (entries written but never read), and the
//! admin page's view of the keys. The writes that report watches are kept
//! in `writes.rs`.

use std::time::Duration;

use super::engine::Cache;
use super::metrics::Event;
use super::policy_trait::CachePolicy;
use super::stored::{KeyInfo, StoreError};

impl<P: CachePolicy> Cache<P> {
    pub(super) fn store_failed(&self, fragment: P::Fragment, key: &str, e: &StoreError) {
        self.metrics
            .record(P::kind_index(&fragment), Event::StoreError);
        // An open breaker is logged once, when it opens.
        if !matches!(e, StoreError::BreakerOpen) {
            tracing::warn!(key, error = %e, "cache store failed; serving from the database");
        }
    }

    /// Time left on a fragment's entry (for tests and the admin page).
    pub async fn ttl_of(&self, fragment: P::Fragment) -> Result<Option<Duration>, StoreError> {
        self.backend.ttl(&self.keys.fragment(&fragment)).await
    }

    /// Up to `limit` current keys, with TTL and size.
    pub(crate) async fn list_keys(&self, limit: usize) -> Result<Vec<KeyInfo>, StoreError> {
        self.backend.list(&self.keys.current_pattern(), limit).await
    }

    /// Per-fragment computations since start (tests and the admin page).
    pub fn computes(&self, fragment_name: &str) -> u64 {
        self.metrics
            .by_name()
            .find(|(name, _)| *name == fragment_name)
            .map_or(0, |(_, m)| m.computes())
    }

    /// `/metrics` in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        self.written.settle();
        let mut gauges: Vec<(&str, &str, u64)> = Vec::new();
        if let Some(shared) = self.backend.redis() {
            gauges.push((
                "folio_cache_breaker_state",
                "Redis circuit breaker: 0 closed, 1 open, 2 recovering.",
                u64::from(shared.breaker.state() as u8),
            ));
            gauges.push((
                "folio_cache_breaker_opens",
                "Times the breaker opened since start.",
                shared.breaker.opens(),
            ));
            gauges.push((
                "folio_redis_master_switches",
                "Redis Sentinel master switches followed since start.",
                shared.store.redis().master_switches(),
            ));
            gauges.push((
                "folio_cache_local_usable",
                "1 while the in-process tier may answer.",
                u64::from(self.local_usable()),
            ));
        }
        if let Some((entries, bytes)) = self.local_size() {
            gauges.push((
                "folio_cache_local_entries",
                "Entries in the in-process tier.",
                entries,
            ));
            gauges.push((
                "folio_cache_local_bytes",
                "Bytes in the in-process tier.",
                bytes,
            ));
        }
        self.metrics.render(&gauges)
    }
}
